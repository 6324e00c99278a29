//! Checking one million observables (a third each addresses, domains and
//! URLs; deterministic, from `cordon_testkit::Rng`) against every MISP
//! warninglist in data/warninglists (`scripts/fetch-warninglists.sh`).
//!
//! `cargo bench -p cordon-enrich --bench warninglists`
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Instant;

use cordon_enrich::Warninglists;
use cordon_model::{Kind, Observable};
use cordon_testkit::Rng;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Hosts that are in real lists (resolvers, shorteners, file hosting, top
/// sites), so that some checks hit.
const KNOWN_HOSTS: &[&str] =
    &["drive.google.com", "bit.ly", "www.google.com", "pastebin.com", "linktr.ee", "example.duckdns.org"];
const TLDS: &[&str] = &["com", "net", "org", "ru", "de", "xyz", "top", "info", "co.uk", "io"];

fn label(rng: &mut Rng) -> String {
    let len = 3 + rng.below(10) as usize;
    (0..len).map(|_| char::from(b'a' + rng.below(26) as u8)).collect()
}

fn domain(rng: &mut Rng) -> String {
    if rng.below(10) == 0 {
        return KNOWN_HOSTS[rng.below(KNOWN_HOSTS.len() as u64) as usize].to_string();
    }
    let tld = TLDS[rng.below(TLDS.len() as u64) as usize];
    match rng.below(3) {
        0 => format!("{}.{tld}", label(rng)),
        1 => format!("www.{}.{tld}", label(rng)),
        _ => format!("{}.{}.{tld}", label(rng), label(rng)),
    }
}

fn observables(n: usize) -> Vec<Observable> {
    let mut rng = Rng::new(11);
    (0..n)
        .map(|i| match i % 3 {
            0 if rng.below(8) == 0 => {
                Observable::Ip(IpAddr::V6(Ipv6Addr::from((0x2000u128 | u128::from(rng.below(0x1fff))) << 112)))
            }
            0 => Observable::Ip(IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32))),
            1 => Observable::Domain(domain(&mut rng)),
            _ => Observable::Url(format!(
                "https://{}/{}/index.php?id={}",
                domain(&mut rng),
                label(&mut rng),
                rng.below(1000)
            )),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/warninglists");
    let started = Instant::now();
    let lists = match Warninglists::load_dir(&dir) {
        Ok((lists, _)) => lists,
        Err(error) => panic!("{error}"),
    };
    eprintln!("warninglists: {} lists loaded in {:.2?}", lists.lists().count(), started.elapsed());
    let values = observables(1_000_000);
    let mut group = c.benchmark_group("warninglists");
    group.sample_size(10);
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("check-1M-mixed", |b| {
        b.iter(|| values.iter().map(|value| lists.check(black_box(value)).len()).sum::<usize>())
    });
    for kind in [Kind::Ipv4, Kind::Domain, Kind::Url] {
        let some: Vec<&Observable> =
            values.iter().filter(|v| v.kind() == kind || (kind == Kind::Ipv4 && v.kind() == Kind::Ipv6)).collect();
        group.throughput(Throughput::Elements(some.len() as u64));
        group.bench_function(format!("check-{}", if kind == Kind::Ipv4 { "ip" } else { kind.as_str() }), |b| {
            b.iter(|| some.iter().map(|value| lists.check(black_box(value)).len()).sum::<usize>())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
