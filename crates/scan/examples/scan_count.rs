//! Benchmark driver until `cordon scan` is wired: counts the lines of LOG
//! that mention an address of LIST, like `grepcidr -c -f LIST LOG`.
//!
//! Usage: `scan_count LIST LOG [THREADS]`. LIST holds one address, CIDR or
//! `first-last` range per line (`#` comments allowed).

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use cordon_netset::{IpRange, IpSet};
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
            if let Some(range) = parse_v4_entry(l.as_bytes()) {
                return Some(range);
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
        Input::Stream(reader) => scanner.scan_reader(reader, false, |_, _| {}).map_err(|e| e.to_string())?,
        other => other.as_bytes().map_or(0, |bytes| scanner.count(bytes, threads)),
    };
    println!("{count}");
    Ok(())
}

/// Parses exactly `a.b.c.d` or `a.b.c.d/len` (decimal octets without
/// leading zeros, `len <= 32`), the bulk of real and generated lists,
/// several times faster than the general parsers. `None` means "not this
/// simple form", not "invalid": the caller then tries the general parsers,
/// which accept the same lines with the same meaning.
fn parse_v4_entry(line: &[u8]) -> Option<IpRange> {
    let (addr_part, len_part) = match line.iter().position(|&b| b == b'/') {
        Some(slash) => (&line[..slash], Some(&line[slash + 1..])),
        None => (line, None),
    };
    let mut value = 0u32;
    let mut octets = 0;
    for part in addr_part.split(|&b| b == b'.') {
        value = (value << 8) | decimal(part, 255)?;
        octets += 1;
    }
    if octets != 4 {
        return None;
    }
    let prefix = match len_part {
        Some(digits) => decimal(digits, 32)?,
        None => 32,
    };
    let net = ipnet::Ipv4Net::new(Ipv4Addr::from(value), prefix as u8).ok()?;
    Some(IpRange::from(IpNet::V4(net.trunc())))
}

/// A decimal number of 1 to 3 digits without leading zero, at most `max`.
fn decimal(digits: &[u8], max: u32) -> Option<u32> {
    if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut value = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(d - b'0');
    }
    (value <= max).then_some(value)
}
