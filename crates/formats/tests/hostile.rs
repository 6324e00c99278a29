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

/// Defect 6: a quoted description over two lines once rejected its row and
/// made its second line a row of its own, a false C2 indicator.
#[test]
fn issue10_quoted_fields_span_lines() {
    let text = "ip,category,description\n45.9.20.7,c2,\"seen talking to\n8.8.4.4,c2,x\"\n45.9.20.8,c2,plain\n";
    let events = events_of_text(Format::Csv, text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds(&events), [(2, "record 45.9.20.7".to_string()), (4, "record 45.9.20.8".to_string())]);
    // The abuse.ch layouts read quotes the same way, blank and `#` lines
    // inside a field included.
    let feodo = "# \"first_seen_utc\",\"dst_ip\",\"malware\"\n\"2024-01-01\",\"45.9.20.7\",\"Qak\n\n# 8.8.4.4\n\
                 8.8.4.4\"\n\"2024-01-02\",\"45.9.20.8\",\"Emotet\"\n";
    let events = events_of_text(Format::FeodoCsv, feodo).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds(&events), [(2, "record 45.9.20.7".to_string()), (6, "record 45.9.20.8".to_string())]);
    let record = events.iter().find_map(|e| match e {
        Event::Record(r) if r.line == 2 => r.attributes.malware.clone(),
        _ => None,
    });
    assert_eq!(record.as_deref(), Some("Qak\n\n# 8.8.4.4\n8.8.4.4"));
}

#[test]
fn issue10_unclosed_quotes_cost_one_row_and_bounded_memory() {
    // Closed by the end of the input: the row is rejected at its first line.
    let text = "ip,description\n45.9.20.7,ok\n45.9.20.8,\"never closed\n8.8.4.4,x\n";
    let events = events_of_text(Format::Csv, text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        kinds(&events),
        [(2, "record 45.9.20.7".to_string()), (3, "rejected a quoted field is not closed".to_string())]
    );
    // A row never grows past 64 KiB: rows after it are read again.
    let mut text = String::from("ip,description\n45.9.20.7,\"open\n");
    for _ in 0..2000 {
        text.push_str(&"x".repeat(60));
        text.push('\n');
    }
    text.push_str("45.9.20.9,after\n");
    let events = events_of_text(Format::Csv, &text).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(
        got.first().map(|(line, kind)| (*line, kind.starts_with("rejected row longer than 64 KiB"))),
        Some((2, true))
    );
    assert_eq!(got.last(), Some(&(2003, "record 45.9.20.9".to_string())), "{:?}", &got[got.len().saturating_sub(3)..]);
}

/// Defect 9: one number out of range once made the whole document a layout
/// error; now it costs its own object only.
#[test]
fn issue10_out_of_range_number_rejects_one_object() {
    let text = bundle(&[
        indicator(1, "[ipv4-addr:value = '45.9.20.7']"),
        r#"{"type": "indicator", "id": "indicator--2", "pattern": "[ipv4-addr:value = '45.9.20.8']", "confidence": 1e400}"#
            .to_string(),
        indicator(3, "[ipv4-addr:value = '45.9.20.9']"),
    ]);
    let events = events_of_text(Format::Stix, &text).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!((got[0].clone(), got[2].clone()), ((1, "record 45.9.20.7".into()), (3, "record 45.9.20.9".into())));
    assert!(got[1].0 == 2 && got[1].1.contains("number out of range"), "{:?}", got[1]);

    let threatfox = r#"{
        "1": [{"ioc_value": "45.9.20.7:443", "ioc_type": "ip:port", "threat_type": "botnet_cc", "confidence_level": 50}],
        "2": [{"ioc_value": "45.9.20.8:443", "ioc_type": "ip:port", "threat_type": "botnet_cc", "confidence_level": 1e400}],
        "3": [{"ioc_value": "45.9.20.9:443", "ioc_type": "ip:port", "threat_type": "botnet_cc"}, 7]
    }"#;
    let events = events_of_text(Format::ThreatfoxJson, threatfox).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], (1, "record 45.9.20.7".to_string()));
    assert!(got[1].0 == 2 && got[1].1.contains("number out of range"), "{:?}", got[1]);
    assert_eq!(got[2], (3, "record 45.9.20.9".to_string()));
    assert_eq!(got[3], (4, "rejected array element is not an object".to_string()));
}

/// Deeply nested JSON is rejected cleanly: in a STIX bundle as one object,
/// in an IntelMQ line as that line, in a MISP event as a layout error.
#[test]
fn issue10_deep_json_is_rejected_cleanly() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_object = format!("{}{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    for nested in [&deep, &deep_object] {
        let text = bundle(&[
            indicator(1, "[ipv4-addr:value = '45.9.20.7']"),
            format!(r#"{{"type": "note", "id": "note--1", "x_deep": {nested}}}"#),
        ]);
        let events = events_of_text(Format::Stix, &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            kinds(&events),
            [
                (1, "record 45.9.20.7".to_string()),
                (2, "rejected object nests deeper than 100 levels; not read".to_string())
            ]
        );
    }
    // The whole bundle nested inside itself is still a layout error, not a crash.
    let wrapped = format!("{}{}", r#"{"objects":"#.repeat(100_000), "}".repeat(100_000));
    assert!(events_of_text(Format::Stix, &wrapped).is_err());

    let intelmq = format!("{{\"source.ip\": \"45.9.20.7\"}}\n{{\"x\": {}}}\n", &deep[199_000..201_000]);
    let events = events_of_text(Format::Intelmq, &intelmq).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got[0], (1, "record 45.9.20.7".to_string()));
    assert!(got[1].0 == 2 && got[1].1.starts_with("rejected line is not valid JSON"), "{got:?}");

    let misp = format!(r#"{{"Event": {{"info": "x", "Attribute": [{{"type": "ip-dst", "value": {deep}}}]}}}}"#);
    assert!(events_of_text(Format::Misp, &misp).is_err());
}
