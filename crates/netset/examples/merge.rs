//! Benchmark driver until `cordon net` is wired: prints the minimal CIDR
//! list of the lists given, like `iprange FILE...` (single addresses without
//! `/32`). Reads one address or CIDR per line; other lines are skipped.

use std::io::{BufRead, BufWriter, Write};
use std::net::IpAddr;

use cordon_netset::{IpRange, IpSet};
use ipnet::IpNet;

fn main() -> std::io::Result<()> {
    let mut entries = Vec::new();
    for path in std::env::args().skip(1) {
        let file = std::io::BufReader::new(std::fs::File::open(&path)?);
        for line in file.lines() {
            let line = line?;
            let text = line.split('#').next().unwrap_or("").trim();
            if let Ok(net) = text.parse::<IpNet>() {
                entries.push(IpRange::from(net));
            } else if let Ok(ip) = text.parse::<IpAddr>() {
                entries.push(IpRange::from(ip));
            }
        }
    }
    let set = IpSet::from_ranges(entries);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut result = Ok(());
    set.for_each_cidr(|net| {
        if result.is_ok() {
            result = if net.prefix_len() == net.max_prefix_len() {
                writeln!(out, "{}", net.addr())
            } else {
                writeln!(out, "{net}")
            };
        }
    });
    result?;
    out.flush()
}
