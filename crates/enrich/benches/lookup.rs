//! Lookup throughput over the full real data when `scripts/fetch-geodata.sh`
//! has been run (data/geo/), else over the committed fixture slice.
//!
//! `cargo bench -p cordon-enrich --bench lookup`; `bench/geo/run.sh` also
//! compares with Python's maxminddb C extension.
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use cordon_enrich::{GeoDb, Import};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn snapshot() -> (GeoDb, &'static str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("../../data/geo");
    let (files, label): (Vec<_>, _) = if data.join("asn/asn-ipv4.csv").exists() {
        let names = [
            "asn/asn-ipv4.csv",
            "asn/asn-ipv6.csv",
            "asn-country/asn-country-ipv4.csv",
            "asn-country/asn-country-ipv6.csv",
        ];
        (names.iter().map(|n| data.join(n)).collect(), "full")
    } else {
        let names = ["asn-ipv4.csv", "asn-ipv6.csv", "asn-country-ipv4.csv", "asn-country-ipv6.csv"];
        (names.iter().map(|n| root.join("tests/fixtures").join(n)).collect(), "fixture")
    };
    let mut import = Import::new();
    for file in &files {
        import.add_path(file);
    }
    let report = import.finish();
    match GeoDb::from_bytes(&report.snapshot) {
        Ok(db) => (db, label),
        Err(error) => panic!("benchmark snapshot does not load: {error}"),
    }
}

/// Deterministic pseudo-random addresses (xorshift64*).
fn addresses(n: usize, v6: bool) -> Vec<IpAddr> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    (0..n)
        .map(|_| {
            if v6 {
                let high = (0x2000u128 | u128::from(next() & 0x1fff)) << 112 | u128::from(next()) << 48;
                IpAddr::V6(Ipv6Addr::from(high))
            } else {
                IpAddr::V4(Ipv4Addr::from(next() as u32))
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let (db, label) = snapshot();
    for (family, v6) in [("v4", false), ("v6", true)] {
        let ips = addresses(1 << 16, v6);
        let mut group = c.benchmark_group(format!("lookup-{label}"));
        group.throughput(Throughput::Elements(ips.len() as u64));
        group.bench_function(format!("random-{family}"), |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for ip in &ips {
                    if let Some(info) = db.lookup(black_box(*ip)) {
                        sum += u64::from(info.asn.unwrap_or(0)) + info.org.map_or(0, |o| o.len() as u64);
                    }
                }
                sum
            })
        });
        group.finish();
    }
    let bytes = {
        let mut import = Import::new();
        for name in ["asn-ipv4.csv", "asn-country-ipv4.csv"] {
            import.add_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name));
        }
        import.finish().snapshot
    };
    c.bench_function("load-fixture", |b| b.iter(|| GeoDb::from_bytes(black_box(&bytes)).map(|db| db.stats())));
}

criterion_group!(benches, bench);
criterion_main!(benches);
