//! Lookup throughput of `IpSet` and `IpMap` with 1,000,000 random IPv4
//! entries (mixed /32 addresses and /20../31 CIDRs), queried with random
//! addresses. Also prints memory per entry.
//!
//! Run: `cargo bench -p cordon-netset --bench lookup`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use cordon_netset::{IpMapBuilder, IpRange, IpSet};
use cordon_testkit::Rng;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipnet::{IpNet, Ipv4Net};

const ENTRIES: usize = 1_000_000;
const QUERIES: usize = 1 << 20;

fn random_entries(rng: &mut Rng) -> Vec<IpRange> {
    (0..ENTRIES)
        .map(|_| {
            let r = rng.next_u64();
            let addr = Ipv4Addr::from(r as u32);
            // 3 in 4 entries are single addresses, the rest /20../31.
            let len = if (r >> 32) & 3 == 0 { 20 + ((r >> 40) % 12) as u8 } else { 32 };
            match Ipv4Net::new(addr, len) {
                Ok(net) => IpRange::from(IpNet::V4(net.trunc())),
                Err(_) => IpRange::from(IpAddr::V4(addr)),
            }
        })
        .collect()
}

fn lookups(c: &mut Criterion) {
    let mut rng = Rng::new(0x5eed_cafe_f00d_d00d);
    let entries = random_entries(&mut rng);
    let queries: Vec<u32> = (0..QUERIES).map(|_| rng.next_u64() as u32).collect();

    let set = IpSet::from_ranges(entries.iter().copied());
    eprintln!(
        "IpSet: {} entries -> {} ranges, {} bytes, {:.2} bytes/entry",
        ENTRIES,
        set.range_count(),
        set.memory_bytes(),
        set.memory_bytes() as f64 / ENTRIES as f64
    );
    let mut builder = IpMapBuilder::new();
    for (i, entry) in entries.iter().enumerate() {
        builder.insert(*entry, i as u32);
    }
    let map = builder.build();
    eprintln!(
        "IpMap: {} entries -> {} pieces, {} bytes, {:.2} bytes/entry",
        ENTRIES,
        map.piece_count(),
        map.memory_bytes(),
        map.memory_bytes() as f64 / ENTRIES as f64
    );

    let mut group = c.benchmark_group("lookup_1m_v4");
    group.throughput(Throughput::Elements(QUERIES as u64));
    group.bench_function("IpSet::contains_v4_bits", |b| {
        b.iter(|| queries.iter().filter(|&&q| set.contains_v4_bits(black_box(q))).count())
    });
    let mut out = vec![false; QUERIES];
    group.bench_function("IpSet::contains_v4_many", |b| {
        b.iter(|| {
            set.contains_v4_many(black_box(&queries), &mut out);
            out.iter().filter(|&&hit| hit).count()
        })
    });
    group.bench_function("IpMap::get", |b| {
        b.iter(|| queries.iter().filter_map(|&q| map.get(IpAddr::V4(Ipv4Addr::from(black_box(q))))).count())
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
