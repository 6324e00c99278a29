//! MISP: an event export with objects, tags and non-network attributes, a
//! feed directory, other document shapes and broken inputs.

use std::path::{Path, PathBuf};

use cordon_formats::{Event, Format, FormatError};
use cordon_model::{Attributes, Category, Tlp};

use crate::util::{events, events_of_text, record, skipped, time};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/misp").join(name)
}

fn assert_events(got: &[Event], expected: &[Event]) {
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (got, want) in got.iter().zip(expected) {
        assert_eq!(got, want);
    }
}

#[test]
fn event_export() {
    let events = match events(Format::Misp, &fixture("lockbit-event.json")) {
        Ok(events) => events,
        Err(e) => panic!("{e}"),
    };
    // Event tags: tlp:amber and misp-galaxy:ransomware="LockBit"; no
    // first_seen on most attributes, so the event date stands in.
    let event = Attributes {
        category: Some(Category::Ransomware),
        label: Some("ransomware".into()),
        malware: Some("LockBit".into()),
        first_seen: time("2024-03-11"),
        last_seen: Some(1_710_181_334),
        confidence: None,
        tlp: Some(Tlp::Amber),
        port: None,
    };
    let c2 = Attributes {
        label: Some("Command and Control".into()),
        first_seen: time("2024-03-02T07:41:09Z"),
        last_seen: time("2024-03-10T22:03:51Z"),
        port: Some(8443),
        ..event.clone()
    };
    let red = Attributes { tlp: Some(Tlp::Red), ..event.clone() };
    let rdp = Attributes { port: Some(3389), ..event.clone() };
    let expected = [
        record(1, "77.239.124.102", &[], &event),
        record(2, "45.198.224.26", &[], &c2),
        record(3, "update-msedge-cdn.com", &["62.60.130.242"], &event),
        skipped(4, "misp:not-network:sha256"),
        skipped(5, "misp:not-to-ids"),
        record(6, "vpn-portal-auth.org", &[], &red),
        skipped(7, "misp:not-network:link"),
        Event::Rejected { line: 8, reason: "ip-dst: '185.156.73.999' is not an IP address".into() },
        skipped(9, "misp:uri-without-host"),
        // Object ip-port: its dst-port applies to its address and domain,
        // and the domain is linked to the address.
        record(10, "93.174.95.106", &[], &rdp),
        skipped(11, "misp:not-network:port"),
        record(12, "rdp-gateway-sync.net", &["93.174.95.106"], &rdp),
        // Object url: the URL is linked to the object's address.
        record(13, "https://drop.fileshare-cdn.net/payload/stage2.bin", &["164.92.109.155"], &event),
        record(14, "164.92.109.155", &[], &event),
    ];
    assert_events(&events, &expected);
}

#[test]
fn feed_directory() {
    let dir = fixture("feed");
    let events = match events(Format::MispFeed, &dir) {
        Ok(events) => events,
        Err(e) => panic!("{e}"),
    };
    // Event 62f96ddb…: distribution 3 (all communities → green), no TLP tag,
    // rsit:fraud="phishing".
    let phishing = Attributes {
        category: Some(Category::Phishing),
        label: Some("phishing".into()),
        first_seen: time("2024-04-18"),
        last_seen: Some(1_713_612_000),
        tlp: Some(Tlp::Green),
        ..Attributes::default()
    };
    // Event 9d4e15ff…: no tags in its file; the manifest's tlp:white applies.
    let mirai = Attributes {
        category: Some(Category::Botnet),
        label: Some("botnet".into()),
        malware: Some("Mirai".into()),
        first_seen: time("2024-04-20"),
        last_seen: Some(1_713_612_000),
        tlp: Some(Tlp::Clear),
        ..Attributes::default()
    };
    let scanner = Attributes {
        category: None,
        label: Some("Mirai variant scanning telnet".into()),
        malware: None,
        ..mirai.clone()
    };
    let missing = "18a61ffc-02e1-4c6f-8ec0-6e56b8bfc155";
    let expected_head = [
        record(1, "https://nordea-secure-verify.com/login/index.php", &[], &phishing),
        // distribution 0 (organisation only) is stricter than the event's 3.
        record(2, "nordea-secure-verify.com", &[], &Attributes { tlp: Some(Tlp::AmberStrict), ..phishing.clone() }),
        // distribution 4 (sharing group) reads as amber.
        record(3, "85.239.149.72", &[], &Attributes { tlp: Some(Tlp::Amber), ..phishing.clone() }),
        record(4, "92.118.39.49", &[], &mirai),
        record(5, "167.94.146.55", &[], &scanner),
        Event::Rejected {
            line: 0,
            reason: format!("event {missing} is listed in manifest.json but {missing}.json is missing"),
        },
    ];
    assert_events(&events[..expected_head.len().min(events.len())], &expected_head);
    let rest = &events[expected_head.len()..];
    assert_eq!(rest.len(), 2, "{rest:#?}");
    let broken = "49aa472f-98fc-4f59-984f-b8ce2ea17e82";
    assert!(
        matches!(&rest[0], Event::Rejected { line: 0, reason }
            if reason.starts_with(&format!("event {broken}: ")) && reason.contains("JSON does not parse: EOF while parsing")),
        "{:?}",
        rest[0]
    );
    assert_eq!(
        rest[1],
        Event::Warning { line: 0, message: "old-export.json is not listed in manifest.json; ignored".into() }
    );
}

#[test]
fn response_lists_and_bare_lists_number_attributes_on() {
    let event = |value: &str, to_ids: &str| {
        format!(
            r#"{{"Event": {{"uuid": "7084c930-3096-467b-91c3-550ca9e1cbd3", "info": "Feodo C2", "date": "2024-05-01",
                "distribution": "2", "Tag": [{{"name": "misp-galaxy:malpedia=\"QakBot\""}}, {{"name": "rsit:malicious-code=\"c2-server\""}}],
                "Attribute": [{{"type": "ip-dst|port", "value": "{value}", "to_ids": {to_ids}, "distribution": "5",
                                "timestamp": "1714557600", "category": "Network activity"}}]}}}}"#
        )
    };
    let c2 = Attributes {
        category: Some(Category::C2),
        label: Some("c2-server".into()),
        malware: Some("QakBot".into()),
        first_seen: time("2024-05-01"),
        last_seen: Some(1_714_557_600),
        tlp: Some(Tlp::Green),
        port: Some(443),
        ..Attributes::default()
    };
    let response = format!(
        r#"{{"response": [{}, {}]}}"#,
        event("45.148.10.157|443", "true"),
        event("45.148.10.240|https", r#""1""#)
    );
    let events = match events_of_text(Format::Misp, &response) {
        Ok(events) => events,
        Err(e) => panic!("{e}"),
    };
    assert_events(
        &events,
        &[
            record(1, "45.148.10.157", &[], &c2),
            Event::Warning { line: 2, message: "ip-dst|port: port 'https' is not a port number; ignored".into() },
            record(2, "45.148.10.240", &[], &Attributes { port: None, ..c2.clone() }),
        ],
    );
    let bare = format!("[{}]", event("45.148.10.157|443", r#""0""#));
    assert_eq!(events_of_text(Format::Misp, &bare).map_err(|e| e.to_string()), Ok(vec![skipped(1, "misp:not-to-ids")]));
}

#[test]
fn broken_inputs() {
    let truncated =
        events_of_text(Format::Misp, r#"{"Event": {"info": "x", "Attribute": [{"type": "ip-dst", "value": "1.2"#);
    assert!(
        matches!(&truncated, Err(FormatError::Layout { format: Format::Misp, reason, .. }) if reason.starts_with("JSON does not parse")),
        "{truncated:?}"
    );
    let bundle = events_of_text(Format::Misp, r#"{"type": "bundle", "id": "bundle--1", "objects": []}"#);
    assert!(
        matches!(&bundle, Err(FormatError::Layout { reason, .. })
            if reason == "expected {\"Event\": {…}}, {\"response\": [{\"Event\": …}]} or a list of events"),
        "{bundle:?}"
    );
    let no_manifest = events(Format::MispFeed, &fixture("."));
    assert!(
        matches!(&no_manifest, Err(FormatError::Io { path, .. }) if path.ends_with("manifest.json")),
        "{no_manifest:?}"
    );
    let not_object = events_of_text(
        Format::Misp,
        r#"{"Event": {"info": "x", "Attribute": [42, {"value": "1.1.1.1"}, {"type": "domain", "value": "80.82.77.33"}]}}"#,
    );
    assert_eq!(
        not_object.map_err(|e| e.to_string()),
        Ok(vec![
            Event::Rejected { line: 1, reason: "attribute is not a JSON object".into() },
            Event::Rejected { line: 2, reason: "attribute has no type".into() },
            Event::Rejected { line: 3, reason: "domain: '80.82.77.33' is not a domain name".into() },
        ])
    );
}
