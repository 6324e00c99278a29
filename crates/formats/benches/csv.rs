//! CSV parsing throughput: the generic CSV reader on 1,000,000 generated
//! rows without quotes (the ingest benchmark's layout) and the abuse.ch
//! reader on 1,000,000 fully quoted Feodo rows, parsed and normalized in
//! memory.
//!
//! Run with `cargo bench -p cordon-formats --bench csv`.

use std::path::Path;

use cordon_formats::{parse_reader, Event, Format, Options};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const ROWS: u32 = 1_000_000;

/// A deterministic public IPv4 address for index `i`.
fn address(i: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(0x2d00_0000u32 + i.wrapping_mul(2_654_435_761) % (1 << 24))
}

fn generic_csv() -> Vec<u8> {
    let families = ["LockBit", "RedLine", "QakBot", "Emotet", "Lumma"];
    let mut out = String::from("ip,category,malware,first_seen,confidence\n");
    for i in 0..ROWS {
        out.push_str(&format!(
            "{},c2,{},2024-04-{:02} 10:00:00,{}\n",
            address(i),
            families[(i % 5) as usize],
            1 + i % 28,
            50 + i % 50
        ));
    }
    out.into_bytes()
}

fn feodo_csv() -> Vec<u8> {
    let mut out =
        String::from("# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n");
    for i in 0..ROWS {
        out.push_str(&format!(
            "\"2024-03-{:02} 18:22:14\",\"{}\",\"443\",\"online\",\"2024-04-19\",\"QakBot\"\n",
            1 + i % 28,
            address(i)
        ));
    }
    out.into_bytes()
}

fn count_records(format: Format, bytes: &[u8]) -> u64 {
    let mut records = 0u64;
    let mut reader = bytes;
    let result = parse_reader(format, Path::new("bench"), &mut reader, &Options::default(), &mut |e| {
        records += u64::from(matches!(e, Event::Record(_)));
    });
    assert!(result.is_ok(), "generated input parses");
    records
}

fn csv(c: &mut Criterion) {
    let mut group = c.benchmark_group("csv");
    group.sample_size(10).throughput(Throughput::Elements(u64::from(ROWS)));
    let generic = generic_csv();
    assert_eq!(count_records(Format::Csv, &generic), u64::from(ROWS));
    group.bench_function("generic_1m", |b| b.iter(|| count_records(Format::Csv, &generic)));
    let feodo = feodo_csv();
    assert_eq!(count_records(Format::FeodoCsv, &feodo), u64::from(ROWS));
    group.bench_function("feodo_quoted_1m", |b| b.iter(|| count_records(Format::FeodoCsv, &feodo)));
    group.finish();
}

criterion_group!(benches, csv);
criterion_main!(benches);
