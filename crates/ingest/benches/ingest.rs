//! Ingest throughput: parse + normalize of a generated 1,000,000-line plain
//! list and 1,000,000-row CSV in memory, and the same persisted into SQLite.
//!
//! Run with `bench/ingest/run.sh` (or `cargo bench -p cordon-ingest`).
//! Targets (issue 2): >= 1,000,000 lines/s in memory, >= 200,000 indicators/s
//! persisted, on one core.

use std::io::Cursor;
use std::path::Path;

use cordon_formats::{Event, Format, Options};
use cordon_ingest::{ingest_file, IngestOptions};
use cordon_store::SqliteStore;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const LINES: u32 = 1_000_000;

/// A deterministic public IPv4 address for index `i` (distinct for every i
/// below 2^24, all inside 45.0.0.0/8 .. 46.0.0.0/8, which are public).
fn address(i: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(0x2d00_0000u32 + i.wrapping_mul(2_654_435_761) % (1 << 24))
}

fn plain_list() -> Vec<u8> {
    let mut out = String::from("# generated plain list\n");
    for i in 0..LINES {
        let ip = address(i);
        match i % 10 {
            0 => out.push_str(&format!("{ip} # seen by honeypot\n")),
            1 => out.push_str(&format!("{}\n", ip.to_string().replace('.', "[.]"))),
            _ => out.push_str(&format!("{ip}\n")),
        }
    }
    out.into_bytes()
}

fn csv_rows() -> Vec<u8> {
    let families = ["LockBit", "RedLine", "QakBot", "Emotet", "Lumma"];
    let mut out = String::from("ip,category,malware,first_seen,confidence\n");
    for i in 0..LINES {
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

fn count_records(format: Format, bytes: &[u8]) -> u64 {
    let mut n = 0u64;
    let mut reader = Cursor::new(bytes);
    cordon_formats::parse_reader(format, Path::new("bench"), &mut reader, &Options::default(), &mut |e| {
        if matches!(e, Event::Record(_)) {
            n += 1;
        }
    })
    .expect("generated input parses");
    n
}

fn in_memory(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_normalize");
    group.sample_size(10).throughput(Throughput::Elements(u64::from(LINES)));
    let plain = plain_list();
    assert_eq!(count_records(Format::Plain, &plain), u64::from(LINES));
    group.bench_function("plain_1m", |b| b.iter(|| count_records(Format::Plain, &plain)));
    let csv = csv_rows();
    assert_eq!(count_records(Format::Csv, &csv), u64::from(LINES));
    group.bench_function("csv_1m", |b| b.iter(|| count_records(Format::Csv, &csv)));
    group.finish();
}

fn persisted(c: &mut Criterion) {
    let mut group = c.benchmark_group("persist_sqlite");
    group.sample_size(10).throughput(Throughput::Elements(u64::from(LINES)));
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, format, bytes) in [("plain_1m", Format::Plain, plain_list()), ("csv_1m", Format::Csv, csv_rows())] {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).expect("write input");
        let options = IngestOptions { source: "bench".into(), format: Some(format), ..IngestOptions::default() };
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let db = dir.path().join("bench.db");
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                    }
                    SqliteStore::open(&db).expect("open store")
                },
                |store| {
                    let report = ingest_file(&store, &input, &options, &mut |_| {}, &mut |_| {}).expect("ingest");
                    assert_eq!(report.counts.new, u64::from(LINES));
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, in_memory, persisted);
criterion_main!(benches);
