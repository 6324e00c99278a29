//! The MaxMind DB reads back through libmaxminddb (`mmdblookup`) and the
//! `maxminddb` crate.

use std::net::IpAddr;

use cordon_export::Format;
use serde_json::{json, Value};

use crate::fixture::{entries, options, run};

fn database() -> Vec<u8> {
    let mut out = Vec::new();
    cordon_export::write(Format::Mmdb, &entries(), &options(), &mut out).expect("the database is written");
    out
}

/// The record an address should find.
struct Record {
    categories: &'static [&'static str],
    confidence: u64,
    sources: &'static [&'static str],
}

/// What each address maps to: every listed network that covers it, merged
/// (an address listed inside a listed CIDR finds both); IPv4-mapped IPv6
/// addresses find the IPv4 entries.
const EXPECTED: &[(&str, Option<Record>)] = &[
    ("77.90.185.20", Some(Record { categories: &["scanner"], confidence: 88, sources: &["ipsum"] })),
    (
        "1.24.16.17",
        Some(Record { categories: &["botnet", "scanner"], confidence: 75, sources: &["ipsum", "partner-a"] }),
    ),
    (
        "185.220.101.13",
        Some(Record { categories: &["c2", "scanner"], confidence: 90, sources: &["partner-a", "partner-b"] }),
    ),
    (
        "::ffff:185.220.101.13",
        Some(Record { categories: &["c2", "scanner"], confidence: 90, sources: &["partner-a", "partner-b"] }),
    ),
    ("::ffff:77.90.185.20", Some(Record { categories: &["scanner"], confidence: 88, sources: &["ipsum"] })),
    ("185.220.101.14", Some(Record { categories: &["scanner"], confidence: 60, sources: &["partner-a"] })),
    ("2a01:4f8:c17:42::1", Some(Record { categories: &["c2"], confidence: 70, sources: &["partner-b"] })),
    ("1.24.16.18", None),
    ("::ffff:1.24.16.18", None),
    ("2a01:4f8:c17:42::2", None),
];

#[test]
fn maxminddb_crate_reads_it() {
    let reader = maxminddb::Reader::from_source(database()).expect("a valid database");
    assert_eq!(reader.metadata.ip_version, 6);
    assert_eq!(reader.metadata.database_type, "cordon-blocklist");
    for (ip, expected) in EXPECTED {
        let ip: IpAddr = ip.parse().expect("an address");
        let got: Option<Value> = reader.lookup(ip).ok();
        let want = expected
            .as_ref()
            .map(|r| json!({"categories": r.categories, "confidence": r.confidence, "sources": r.sources}));
        assert_eq!(got, want, "{ip}");
    }
}

#[test]
fn mmdblookup_reads_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("cordon.mmdb");
    std::fs::write(&file, database()).expect("the database is written");
    let file_arg = file.to_str().expect("a UTF-8 path");
    for (ip, expected) in EXPECTED {
        let out = run("mmdblookup", &["--ip", ip, "--file"], std::path::Path::new(file_arg));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match expected {
            Some(record) => {
                assert!(out.status.success(), "{ip}: {stderr}");
                for text in record.categories.iter().chain(record.sources) {
                    assert!(stdout.contains(&format!("\"{text}\" <utf8_string>")), "{ip}: {stdout}");
                }
                assert!(stdout.contains(&format!("{} <uint16>", record.confidence)), "{ip}: {stdout}");
            }
            None => assert!(stderr.contains("Could not find an entry"), "{ip}: {stdout}{stderr}"),
        }
    }
}
