//! Formats with limits, over the whole IPsum list: Suricata's rule size,
//! and that the CIDR aggregation covers exactly the listed addresses.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::Path;

use cordon_export::{write, Entry, Format};
use ipnet::Ipv4Net;

use crate::fixture::{options, scanner};

fn ipsum() -> Vec<Entry> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ipsum.txt");
    let text = std::fs::read_to_string(&path).expect("the IPsum list is readable");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split('\t').next())
        .map(|ip| scanner(ip, "ipsum"))
        .collect()
}

fn export(format: Format, entries: &[Entry]) -> String {
    let mut out = Vec::new();
    write(format, entries, &options(), &mut out).expect("the export succeeds");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn suricata_rules_stay_under_8192_bytes_with_unique_sids() {
    let entries = ipsum();
    let rules = export(Format::Suricata, &entries);
    let mut sids = BTreeSet::new();
    let mut listed = 0;
    for rule in rules.lines().filter(|l| !l.starts_with('#')) {
        assert!(rule.len() < 8192, "a rule of {} bytes", rule.len());
        let sid = rule.split("sid:").nth(1).and_then(|s| s.split(';').next()).expect("a sid");
        assert!(sids.insert(sid.to_string()), "sid {sid} repeated");
        if rule.contains("inbound") {
            let list = rule.split('[').nth(1).and_then(|s| s.split(']').next()).expect("a list");
            listed += list.split(',').count();
        }
    }
    assert!(sids.len() > 2, "IPsum needs several rules");
    let cidrs = export(Format::Cidr, &entries);
    assert_eq!(listed, cidrs.lines().count());
}

#[test]
fn cidr_covers_exactly_the_listed_addresses() {
    let entries = ipsum();
    let cidrs = export(Format::Cidr, &entries);
    let mut covered = 0u64;
    let mut previous: Option<Ipv4Net> = None;
    for line in cidrs.lines() {
        let net: Ipv4Net = line.parse().expect("a CIDR");
        if let Some(prev) = previous {
            assert!(prev.broadcast() < net.network(), "{prev} and {net} are not ascending and disjoint");
        }
        covered += 1u64 << (32 - net.prefix_len());
        previous = Some(net);
    }
    let distinct: BTreeSet<Ipv4Addr> = entries.iter().filter_map(|e| e.value.parse().ok()).collect();
    assert_eq!(covered, distinct.len() as u64);
    assert!(cidrs.lines().count() < distinct.len(), "adjacent addresses aggregate");
}

#[test]
fn mmdb_of_ipsum_finds_every_listed_address() {
    let entries = ipsum();
    let mut out = Vec::new();
    write(Format::Mmdb, &entries, &options(), &mut out).expect("the database is written");
    let reader = maxminddb::Reader::from_source(out).expect("a valid database");
    let listed: BTreeSet<Ipv4Addr> = entries.iter().filter_map(|e| e.value.parse().ok()).collect();
    for ip in listed.iter().step_by(97) {
        let found: serde_json::Value = reader.lookup(std::net::IpAddr::V4(*ip)).expect("a listed address is found");
        assert_eq!(found["categories"], serde_json::json!(["scanner"]), "{ip}");
    }
    let unlisted = (0u32..).map(|i| Ipv4Addr::from(0x2d00_0000 + i * 7919)).filter(|ip| !listed.contains(ip));
    for ip in unlisted.take(50) {
        assert!(reader.lookup::<serde_json::Value>(std::net::IpAddr::V4(ip)).is_err(), "{ip} is not listed");
    }
}
