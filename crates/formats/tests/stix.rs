//! STIX 2.1 bundles: a partner bundle with every kind of indicator, marking
//! and relationship cordon reads, and broken inputs.

use std::path::{Path, PathBuf};

use cordon_formats::{Event, Format, FormatError};
use cordon_model::{Attributes, Category, Tlp};

use crate::util::{events, events_of_text, record, skipped, time};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stix").join(name)
}

fn rejected(line: u64, reason: &str) -> Event {
    Event::Rejected { line, reason: reason.to_string() }
}

#[test]
fn partner_bundle() {
    let events = match events(Format::Stix, &fixture("partner-bundle.json")) {
        Ok(events) => events,
        Err(e) => panic!("{e}"),
    };
    let valid_from = time("2024-03-11T18:22:14Z");
    let modified = time("2024-04-02T09:15:00Z");
    let lockbit = Attributes {
        category: Some(Category::Ransomware),
        label: Some("ransomware".into()),
        malware: Some("LockBit".into()),
        first_seen: valid_from,
        last_seen: time("2024-06-11T00:00:00Z"),
        confidence: Some(85),
        tlp: Some(Tlp::AmberStrict),
        port: None,
    };
    let phishing = Attributes {
        category: Some(Category::Phishing),
        label: Some("phishing".into()),
        first_seen: valid_from,
        last_seen: modified,
        tlp: Some(Tlp::Green),
        ..Attributes::default()
    };
    let hosting = Attributes {
        category: Some(Category::C2),
        label: Some("command-and-control".into()),
        first_seen: valid_from,
        last_seen: modified,
        tlp: Some(Tlp::Red),
        ..Attributes::default()
    };
    let c2_address = Attributes {
        category: Some(Category::C2),
        label: Some("command-and-control".into()),
        tlp: Some(Tlp::Amber),
        ..Attributes::default()
    };
    let clear = Attributes { tlp: Some(Tlp::Clear), ..Attributes::default() };
    let dropper = Attributes {
        category: Some(Category::MalwareDistribution),
        label: Some("malware-download".into()),
        first_seen: valid_from,
        last_seen: modified,
        ..Attributes::default()
    };
    let expected = vec![
        // 7: single address, TLP 2.0 AMBER+STRICT, `indicates` LockBit.
        record(7, "77.90.185.20", &[], &lockbit),
        // 8: OR of domain and URL, TLP 1.0 GREEN, `indicates` phishing
        // infrastructure; the domain's SCO (17) resolves to 62.60.130.201.
        record(8, "secure-login-paypa1.com", &["62.60.130.201"], &phishing),
        record(8, "https://secure-login-paypa1.com/signin/verify.php", &[], &phishing),
        // 9: CIDRs of both families, red by a marking defined in the bundle.
        record(9, "45.148.10.0/24", &[], &hosting),
        record(9, "2a0e:97c0:3e0::/48", &[], &hosting),
        skipped(10, "stix:complex-pattern"),
        skipped(11, "stix:not-network"),
        rejected(12, "ipv4-addr:value: '185.220.101.300' is not an IP address"),
        rejected(13, "invalid STIX pattern (expected ']' at character 33): [ipv4-addr:value = '2.57.122.53'"),
        // 14: an address SCO the C2 infrastructure `consists-of`.
        record(14, "2.57.122.238", &[], &c2_address),
        // 15 only resolves 16; 16 is a domain SCO, TLP 1.0 WHITE.
        record(16, "cdn-update-check.net", &["193.47.62.69"], &clear),
        // 17, 18 and 20 are covered by indicators 8 and 7.
        record(19, "http://45.154.244.193:8080/bins/mozi.m", &[], &Attributes::default()),
        skipped(25, "stix:pattern-type:snort"),
        Event::Warning { line: 27, message: "pattern also tests file objects: those comparisons are not read".into() },
        record(27, "http://80.94.92.55/x.sh", &[], &dropper),
    ];
    assert_eq!(events.len(), expected.len(), "{events:#?}");
    for (got, want) in events.iter().zip(&expected) {
        assert_eq!(got, want);
    }
}

#[test]
fn indicator_confidence_and_revocation() {
    let text = r#"{"type": "bundle", "id": "bundle--0b9f1c2e-6a57-4f0e-9d3b-5c8e7f6a1b2d", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--4e7c1d2a-9b3f-4a6e-8c5d-1f2e3a4b5c6d",
         "created": "2024-05-01T10:00:00Z", "modified": "2024-05-01T10:00:00Z", "valid_from": "2024-05-01T10:00:00Z",
         "pattern": "[ipv4-addr:value IN ('45.148.10.141', '45.148.10.152')]", "pattern_type": "stix",
         "confidence": 140, "labels": ["botnet_cc"]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--7a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9",
         "created": "2024-05-01T10:00:00Z", "modified": "2024-05-02T10:00:00Z", "valid_from": "2024-05-01T10:00:00Z",
         "pattern": "[domain-name:value = 'login-microsoftonline-auth.com']", "pattern_type": "stix", "revoked": true},
        "not an object",
        {"id": "indicator--00000000-0000-4000-8000-000000000000"}
    ]}"#;
    let events = match events_of_text(Format::Stix, text) {
        Ok(events) => events,
        Err(e) => panic!("{e}"),
    };
    let attributes = Attributes {
        category: Some(Category::C2),
        label: Some("botnet_cc".into()),
        first_seen: time("2024-05-01T10:00:00Z"),
        last_seen: time("2024-05-01T10:00:00Z"),
        ..Attributes::default()
    };
    assert_eq!(
        events,
        vec![
            Event::Warning { line: 1, message: "confidence 140 is not an integer from 0 to 100; ignored".into() },
            record(1, "45.148.10.141", &[], &attributes),
            record(1, "45.148.10.152", &[], &attributes),
            skipped(2, "stix:revoked"),
            rejected(3, "object is not a JSON object"),
            rejected(4, "object has no type"),
        ]
    );
}

#[test]
fn broken_inputs_are_layout_errors() {
    let truncated = events(Format::Stix, &fixture("truncated-bundle.json")).map(|_| ());
    assert!(
        matches!(&truncated, Err(FormatError::Layout { format: Format::Stix, reason, .. }) if reason.starts_with("JSON does not parse: EOF while parsing")),
        "{truncated:?}"
    );
    let not_bundle = events_of_text(
        Format::Stix,
        r#"{"type": "indicator", "id": "indicator--1", "pattern": "[ipv4-addr:value = '1.1.1.1']"}"#,
    );
    assert!(
        matches!(&not_bundle, Err(FormatError::Layout { reason, .. }) if reason == "expected \"type\": \"bundle\", found \"indicator\""),
        "{not_bundle:?}"
    );
    let misp_event = events_of_text(Format::Stix, r#"{"Event": {"info": "x"}}"#);
    assert!(
        matches!(&misp_event, Err(FormatError::Layout { reason, .. }) if reason == "no \"type\": \"bundle\" and no \"objects\""),
        "{misp_event:?}"
    );
}
