//! Deterministic benchmark data: `gen_bench LIST LOG LOG_BYTES [ENTRIES]`
//! writes LIST (ENTRIES entries, default 1,000,000: IPv4 addresses and
//! /16../30 CIDRs plus 1% IPv6 /64s and addresses) and LOG (web-server
//! access log lines in combined format, about LOG_BYTES bytes, about 10% of
//! client addresses drawn from LIST, 3% IPv6 clients).

use cordon_testkit::Rng;
use std::io::{BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

const PATHS: [&str; 6] = ["/", "/index.html", "/api/v1/items", "/static/app.js", "/login", "/images/logo.png"];
const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.5.0",
    "python-requests/2.31.0",
];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: gen_bench LIST LOG LOG_BYTES [ENTRIES]");
        std::process::exit(2);
    }
    let log_bytes: u64 = args[3].parse().unwrap_or(256 << 20);
    let entries: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let mut rng = Rng::new(0x00c0_4d0e_5eed_2026);

    let mut listed_v4: Vec<u32> = Vec::with_capacity(entries);
    let mut listed_v6: Vec<u128> = Vec::new();
    let mut list = BufWriter::new(std::fs::File::create(&args[1])?);
    for _ in 0..entries {
        let r = rng.next_u64();
        if matches!(r % 100, 0) {
            let addr: u128 = (0x2001_0db8u128 << 96)
                | (u128::from(rng.next_u64() as u32) << 64)
                | u128::from(rng.next_u64() & 0xffff);
            listed_v6.push(addr);
            if matches!(r % 200, 0) {
                writeln!(list, "{}/64", Ipv6Addr::from(addr & !((1u128 << 64) - 1)))?;
            } else {
                writeln!(list, "{}", Ipv6Addr::from(addr))?;
            }
            continue;
        }
        let addr = (r >> 32) as u32;
        listed_v4.push(addr);
        if r % 10 < 8 {
            writeln!(list, "{}", Ipv4Addr::from(addr))?;
        } else {
            let len = 16 + (r >> 8) % 15;
            let mask = u32::MAX << (32 - len);
            writeln!(list, "{}/{len}", Ipv4Addr::from(addr & mask))?;
        }
    }
    list.flush()?;

    let mut log = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[2])?);
    let mut written = 0u64;
    let mut line = String::with_capacity(512);
    while written < log_bytes {
        line.clear();
        let pick = rng.below(100);
        let client = if pick < 3 {
            let addr = if listed_v6.is_empty() || rng.below(2) == 0 {
                (0x2001_0db8u128 << 96) | u128::from(rng.next_u64())
            } else {
                listed_v6[rng.below(listed_v6.len() as u64) as usize]
            };
            Ipv6Addr::from(addr).to_string()
        } else if pick < 13 && !listed_v4.is_empty() {
            Ipv4Addr::from(listed_v4[rng.below(listed_v4.len() as u64) as usize]).to_string()
        } else {
            Ipv4Addr::from(rng.next_u64() as u32).to_string()
        };
        let (day, hour, min, sec) = (1 + rng.below(28), rng.below(24), rng.below(60), rng.below(60));
        let path = PATHS[rng.below(PATHS.len() as u64) as usize];
        let agent = AGENTS[rng.below(AGENTS.len() as u64) as usize];
        let status = [200, 200, 200, 304, 404, 500][rng.below(6) as usize];
        let size = rng.below(100_000);
        let referer = if rng.below(10) == 0 {
            format!("http://{}/r?id={}", Ipv4Addr::from(rng.next_u64() as u32), rng.below(1000))
        } else {
            "-".to_string()
        };
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "{client} - - [{day:02}/Oct/2025:{hour:02}:{min:02}:{sec:02} +0000] \"GET {path}?v=1.{} HTTP/1.1\" {status} {size} \"{referer}\" \"{agent}\"",
            rng.below(50)
        );
        log.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    log.flush()?;
    Ok(())
}
