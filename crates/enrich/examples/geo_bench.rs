//! Times lookups for `bench/geo/run.sh`: reads addresses (one a line) and
//! looks each up `ROUNDS` times in a snapshot, printing the rate.
//!
//! `geo_bench SNAPSHOT ADDRESSES [ROUNDS] [MMDB]`; with MMDB, also times the
//! Rust `maxminddb` crate's reader on the same addresses.
use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

/// This thread's CPU time in seconds (utime + stime from /proc), so the rate
/// is not skewed by other processes sharing the cores.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [snapshot, addresses, rest @ ..] = args.as_slice() else {
        return Err("usage: geo_bench SNAPSHOT ADDRESSES [ROUNDS] [MMDB]".into());
    };
    let rounds: usize = rest.first().map_or(Ok(10), |r| r.parse())?;
    let started = Instant::now();
    let db = cordon_enrich::GeoDb::load(Path::new(snapshot))?;
    let load = started.elapsed();
    println!("snapshot {snapshot}: {} bytes, loaded in {:.1} ms", db.stats().file_len, load.as_secs_f64() * 1e3);
    let ips: Vec<IpAddr> = std::fs::read_to_string(addresses)?.lines().map(str::parse).collect::<Result<_, _>>()?;
    let started = Instant::now();
    let cpu = cpu_seconds();
    let mut found = 0usize;
    for _ in 0..rounds {
        for ip in &ips {
            if let Some(info) = db.lookup(black_box(*ip)) {
                found += usize::from(info.asn.is_some())
                    + usize::from(info.country.is_some())
                    + info.org.map_or(0, str::len);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let n = (ips.len() * rounds) as f64;
    println!(
        "rust-snapshot: {n} lookups in {elapsed:.3} s wall, {cpu:.2} s CPU = {:.2} M lookups/s per CPU second (checksum {found})",
        n / cpu.max(0.01) / 1e6
    );
    if let Some(mmdb) = rest.get(1) {
        #[derive(serde::Deserialize)]
        struct Rec<'a> {
            #[allow(dead_code)]
            country_code: Option<&'a str>,
        }
        let reader = maxminddb::Reader::open_readfile(mmdb)?;
        let started = Instant::now();
        let cpu = cpu_seconds();
        let mut found = 0usize;
        for ip in &ips {
            if let Ok(rec) = reader.lookup::<Rec>(black_box(*ip)) {
                found += usize::from(rec.country_code.is_some());
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        let n = ips.len() as f64;
        println!(
            "rust-maxminddb-crate: {n} lookups in {elapsed:.3} s wall, {cpu:.2} s CPU = {:.2} M lookups/s per CPU second (found {found})",
            n / cpu.max(0.01) / 1e6
        );
    }
    Ok(())
}
