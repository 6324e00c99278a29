//! Issue 11: what an import counts, and the good values of a record whose
//! own value is no target.

use cordon_formats::Format;
use cordon_ingest::{ingest_reader, IngestOptions};
use cordon_store::SqliteStore;

fn options() -> IngestOptions {
    IngestOptions { source: "t".into(), format: Some(Format::Intelmq), ..IngestOptions::default() }
}

/// Records read and indicators derived from them are counted apart: one
/// URL on an address is one record and two indicators, one of them derived.
#[test]
fn issue11_derived_indicators_are_counted_apart() {
    let store = SqliteStore::open_in_memory().unwrap();
    let feed = concat!(
        r#"{"classification.type": "c2-server", "source.url": "http://45.156.128.232/gate.php"}"#,
        "\n",
        r#"{"classification.type": "c2-server", "source.ip": "64.62.197.140"}"#,
        "\n",
    );
    let report =
        ingest_reader(&store, "events.jsonl", &mut feed.as_bytes(), &options(), &mut |_| {}, &mut |_| {}).unwrap();
    assert_eq!((report.counts.read, report.counts.accepted, report.derived), (2, 3, 1));
}

/// An IntelMQ event whose `source.url` is on a reserved host still gives
/// its `source.ip`.
#[test]
fn issue11_a_reserved_url_keeps_its_events_address() {
    let store = SqliteStore::open_in_memory().unwrap();
    let feed =
        r#"{"classification.type": "phishing", "source.url": "http://10.1.2.3/login", "source.ip": "64.62.197.140"}"#;
    let report =
        ingest_reader(&store, "events.jsonl", &mut feed.as_bytes(), &options(), &mut |_| {}, &mut |_| {}).unwrap();
    assert_eq!((report.counts.read, report.counts.skipped, report.counts.accepted), (1, 1, 1));
    assert_eq!(report.derived, 1);
    assert_eq!(report.skip_reasons.get("bogon:private"), Some(&1), "{:?}", report.skip_reasons);
    assert_eq!(report.skip_reasons.get("derived:bogon:private"), Some(&1), "{:?}", report.skip_reasons);
}

/// Every value an import stores was named to the caller while parsing
/// (a record's own, its URL's host, its links), and so were the ones it
/// skipped.
#[test]
fn every_stored_value_was_named_while_parsing() {
    use cordon_store::enrichment::EnrichmentStore;
    let store = SqliteStore::open_in_memory().unwrap();
    let feed = concat!(
        r#"{"classification.type": "phishing", "source.url": "http://evil-shop.com/login", "source.ip": "64.62.197.140"}"#,
        "\n",
        r#"{"classification.type": "c2-server", "source.url": "http://10.1.2.3/gate.php", "source.ip": "45.156.128.232"}"#,
        "\n",
    );
    let mut named = std::collections::BTreeSet::new();
    ingest_reader(&store, "events.jsonl", &mut feed.as_bytes(), &options(), &mut |_| {}, &mut |o| {
        named.insert(o.to_string());
    })
    .unwrap();
    let mut stored = std::collections::BTreeSet::new();
    store
        .indicator_refs(&mut |r| {
            stored.insert(r.value);
        })
        .unwrap();
    let values = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(stored, values(&["45.156.128.232", "64.62.197.140", "evil-shop.com", "http://evil-shop.com/login"]));
    assert_eq!(named, &stored | &values(&["10.1.2.3", "http://10.1.2.3/gate.php"]));
}
