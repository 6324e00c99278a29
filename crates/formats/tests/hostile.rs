//! Issue 10, hostile input: regression tests for inputs that once crashed a
//! parser, made it report false indicators or threw a whole document away
//! for one bad record.

use cordon_formats::{Event, Format};

use crate::util::events_of_text;

/// A bundle with the given objects (JSON text each).
fn bundle(objects: &[String]) -> String {
    format!(r#"{{"type": "bundle", "id": "bundle--1", "objects": [{}]}}"#, objects.join(",\n"))
}

fn indicator(id: u32, pattern: &str) -> String {
    let pattern = serde_json::Value::String(pattern.to_string());
    format!(r#"{{"type": "indicator", "id": "indicator--{id}", "pattern_type": "stix", "pattern": {pattern}}}"#)
}

fn kinds(events: &[Event]) -> Vec<(u64, String)> {
    events
        .iter()
        .map(|e| match e {
            Event::Record(r) => (r.line, format!("record {}", r.observable)),
            Event::Rejected { line, reason } => (*line, format!("rejected {reason}")),
            Event::Skipped { line, reason } => (*line, format!("skipped {reason}")),
            Event::Warning { line, message } => (*line, format!("warning {message}")),
        })
        .collect()
}

/// Defect 2: 200,000 chained qualifiers once built a tree 200,000 boxes deep
/// whose drop overflowed the stack (SIGABRT).
#[test]
fn issue10_chained_qualifiers_are_one_rejection() {
    let pattern = format!("[ipv4-addr:value = '1.2.3.4']{}", " REPEATS 2 TIMES".repeat(200_000));
    let text = bundle(&[indicator(1, "[ipv4-addr:value = '45.9.20.7']"), indicator(2, &pattern)]);
    assert!(text.len() > 3_000_000);
    let events = events_of_text(Format::Stix, &text).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (1, "record 45.9.20.7".to_string()));
    assert_eq!(got[1].0, 2);
    assert!(got[1].1.starts_with("rejected invalid STIX pattern (too many qualifiers"), "{}", got[1].1);
}
