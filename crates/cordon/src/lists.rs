//! Reading IP lists given on the command line (`cordon net`, `cordon scan --list`).
//!
//! Owned by the binary: it turns files in any list format `ingest` reads into
//! networks. This first version reads plain lists only; it will route through
//! `cordon-formats` once that crate lands, without changing its signature.

use std::io::{BufRead, BufReader, Read};

use anyhow::Context;
use ipnet::IpNet;

/// Reads every network (address, CIDR or range) from `path` (`-` is stdin).
/// Entries that are not IP-based (domains, URLs) are ignored.
pub(crate) fn read_networks(path: &str) -> anyhow::Result<Vec<IpNet>> {
    let reader: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?)
    };
    let mut out = Vec::new();
    for line in BufReader::new(reader).lines() {
        let line = line.with_context(|| format!("cannot read {path}"))?;
        let entry = line.split(['#', ';']).next().unwrap_or("").trim();
        let entry = entry.split_whitespace().next().unwrap_or("");
        if entry.is_empty() {
            continue;
        }
        if let Ok(net) = entry.parse::<IpNet>() {
            out.push(net.trunc());
        } else if let Ok(ip) = entry.parse::<std::net::IpAddr>() {
            out.push(IpNet::from(ip));
        } else if let Some((a, b)) = entry.split_once('-') {
            if let (Ok(a), Ok(b)) = (a.trim().parse(), b.trim().parse()) {
                match (a, b) {
                    (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => {
                        out.extend(ipnet::Ipv4Subnets::new(a, b, 0).map(IpNet::V4))
                    }
                    (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) => {
                        out.extend(ipnet::Ipv6Subnets::new(a, b, 0).map(IpNet::V6))
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}
