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
    let report = ingest_reader(&store, "events.jsonl", &mut feed.as_bytes(), &options(), &mut |_| {}).unwrap();
    assert_eq!((report.counts.read, report.counts.accepted, report.derived), (2, 3, 1));
}

/// An IntelMQ event whose `source.url` is on a reserved host still gives
/// its `source.ip`.
#[test]
fn issue11_a_reserved_url_keeps_its_events_address() {
    let store = SqliteStore::open_in_memory().unwrap();
    let feed =
        r#"{"classification.type": "phishing", "source.url": "http://10.1.2.3/login", "source.ip": "64.62.197.140"}"#;
    let report = ingest_reader(&store, "events.jsonl", &mut feed.as_bytes(), &options(), &mut |_| {}).unwrap();
    assert_eq!((report.counts.read, report.counts.skipped, report.counts.accepted), (1, 1, 1));
    assert_eq!(report.derived, 1);
    assert_eq!(report.skip_reasons.get("bogon:private"), Some(&1), "{:?}", report.skip_reasons);
    assert_eq!(report.skip_reasons.get("derived:bogon:private"), Some(&1), "{:?}", report.skip_reasons);
}
