//! Benchmark driver until `cordon scan` is wired: counts the lines of LOG
//! that mention an address of LIST, like `grepcidr -c -f LIST LOG`.
//!
//! Usage: `scan_count LIST LOG [THREADS]`. LIST holds one address, CIDR or
//! `first-last` range per line (`#` comments allowed).

use std::net::IpAddr;
use std::process::ExitCode;

use cordon_netset::{parse_v4_net, IpRange, IpSet};
use cordon_scan::{Input, Scanner};
use ipnet::IpNet;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scan_count: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(list), Some(log)) = (args.get(1), args.get(2)) else {
        return Err("usage: scan_count LIST LOG [THREADS]".into());
    };
    let threads = match args.get(3) {
        Some(t) => t.parse().map_err(|_| format!("bad thread count {t}"))?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let text = std::fs::read_to_string(list).map_err(|e| format!("{list}: {e}"))?;
    let set: IpSet = text
        .lines()
        .filter_map(|l| {
            // Fast path for the common `a.b.c.d` and `a.b.c.d/len` lines;
            // anything else (comments, IPv6, ranges, odd spacing) goes the
            // general way below.
            if let Some(net) = parse_v4_net(l.as_bytes()) {
                return Some(IpRange::from(IpNet::V4(net)));
            }
            let l = l.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                None
            } else if let Ok(net) = l.parse::<IpNet>() {
                Some(IpRange::from(net))
            } else if let Ok(ip) = l.parse::<IpAddr>() {
                Some(IpRange::from(ip))
            } else {
                let (a, b) = l.split_once('-')?;
                IpRange::new(a.trim().parse().ok()?, b.trim().parse().ok()?).ok()
            }
        })
        .collect();
    let scanner = Scanner::new(&set);
    let input = Input::open(log).map_err(|e| format!("{log}: {e}"))?;
    let count = match input {
        Input::Stream(reader) => {
            scanner.scan_reader(reader, false, |_, _| {}).map_err(|e| e.to_string())?.matching_lines
        }
        other => other.as_bytes().map_or(0, |bytes| scanner.count(bytes, threads)),
    };
    println!("{count}");
    Ok(())
}
