use cordon_enrich::{DiagnosticKind, GeoDb, Import, Location};

use crate::{fixture, fixture_db};

fn lookup(db: &GeoDb, ip: &str) -> (Option<u32>, Option<String>, Option<String>) {
    let info = db.lookup(ip.parse().unwrap());
    match info {
        Some(i) => (i.asn, i.org.map(str::to_string), i.country.map(|c| c.to_string())),
        None => (None, None, None),
    }
}

#[test]
fn real_slice_pins_known_networks() {
    let db = fixture_db();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(lookup(&db, "1.1.1.1"), (Some(13335), s("Cloudflare, Inc."), s("AU")));
    assert_eq!(lookup(&db, "8.8.8.8"), (Some(15169), s("Google LLC"), s("US")));
    assert_eq!(lookup(&db, "51.38.1.1").0, Some(16276));
    assert_eq!(lookup(&db, "88.198.1.1"), (Some(24940), s("Hetzner Online GmbH"), s("DE")));
    assert_eq!(lookup(&db, "2a01:4f8::1"), (Some(24940), s("Hetzner Online GmbH"), s("DE")));
    assert_eq!(lookup(&db, "2606:4700:4700::1111"), (Some(13335), s("Cloudflare, Inc."), s("US")));
    assert_eq!(lookup(&db, "::ffff:8.8.8.8").0, Some(15169));
    assert_eq!(lookup(&db, "10.1.2.3"), (None, None, None));
    let info = db.lookup("1.1.1.1".parse().unwrap()).unwrap();
    assert_eq!((info.first.to_string(), info.last.to_string()), ("1.1.1.0".into(), "1.1.1.255".into()));
}

#[test]
fn plain_and_numeric_files_agree_silently() {
    let mut import = Import::new();
    import.add_path(&fixture("asn-ipv6.csv"));
    import.add_path(&fixture("asn-ipv6-num.csv"));
    let report = import.finish();
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    assert_eq!(report.files.iter().map(|f| f.used).collect::<Vec<_>>(), [15, 15]);
}

#[test]
fn bad_rows_are_reported_with_file_line_and_reason() {
    let mut import = Import::new();
    import.add_path(&fixture("bad-rows.csv"));
    import.add_path(&fixture("does-not-exist.csv"));
    let report = import.finish();
    let got: Vec<(u64, DiagnosticKind)> =
        report.diagnostics.iter().map(|d| (if let Location::Line(l) = d.location { l } else { 0 }, d.kind)).collect();
    use DiagnosticKind::*;
    assert_eq!(
        got,
        [
            (3, Malformed),
            (4, Malformed),
            (5, Malformed),
            (6, Malformed),
            (7, UnknownCountry),
            (8, Unsorted),
            (0, Unreadable),
            (8, Overlap)
        ]
    );
    for d in &report.diagnostics {
        assert!(d.to_string().contains("bad-rows.csv") || d.to_string().contains("does-not-exist.csv"), "{d}");
    }
    // The narrower range wins on overlap.
    let db = GeoDb::from_bytes(&report.snapshot).unwrap();
    assert_eq!(db.lookup("10.0.0.130".parse().unwrap()).and_then(|i| i.asn), Some(64503));
    assert_eq!(db.lookup("10.0.0.200".parse().unwrap()).and_then(|i| i.asn), Some(64500));
}

#[test]
fn truncated_and_garbage_mmdb_are_reported() {
    let mut import = Import::new();
    import.add_mmdb("garbage.mmdb", b"not a maxmind db at all".to_vec());
    let mut fake = vec![0u8; 64];
    fake.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
    import.add_mmdb("truncated.mmdb", fake);
    let report = import.finish();
    assert_eq!(report.diagnostics.len(), 2, "{:#?}", report.diagnostics);
    assert!(report.diagnostics.iter().all(|d| d.kind == DiagnosticKind::Unreadable && d.location == Location::File));
}

/// The real MaxMind DB file (3 MB and more: too large to commit), fetched by
/// `scripts/fetch-geodata.sh`, which `scripts/test.sh` runs before the tests.
/// Missing data fails the test: a skipped peer check proves nothing.
#[test]
fn real_mmdb_when_fetched() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/geo/mmdb/geo-whois-asn-country-ipv4.mmdb");
    assert!(path.exists(), "{} is missing: run scripts/fetch-geodata.sh", path.display());
    let bytes = std::fs::read(&path).unwrap();
    let mut import = Import::new();
    assert!(import.add_mmdb("real.mmdb", bytes.clone()) > 400_000);
    let report = import.finish();
    assert!(report.diagnostics.is_empty(), "{:#?}", &report.diagnostics[..5.min(report.diagnostics.len())]);
    let db = GeoDb::from_bytes(&report.snapshot).unwrap();
    assert_eq!(db.lookup("8.8.8.8".parse().unwrap()).and_then(|i| i.country).map(|c| c.to_string()), Some("US".into()));
    // The same file cut short is reported, not a panic.
    let mut import = Import::new();
    import.add_mmdb("cut.mmdb", bytes[..bytes.len() / 2].to_vec());
    let report = import.finish();
    assert_eq!(report.diagnostics.first().map(|d| d.kind), Some(DiagnosticKind::Unreadable));
}
