//! Issue 11: the shapes partners really send, each from a fixture in the
//! provider's layout.

use cordon_formats::{detect, Format, FormatError, Options};
use cordon_model::Category;

use crate::util::{fixture, obs, parse_fixture, try_parse_fixture};

/// Feodo Tracker CSV with its header as a first row (as served today) and
/// the older IP-only list are both Feodo, category c2.
#[test]
fn issue11_feodo_served_header_and_ip_only_list() {
    for (name, ips) in [("feodo_served.csv", 2), ("feodo_iplist.txt", 3)] {
        assert_eq!(detect(&fixture(name)).map_err(|e| e.to_string()), Ok(Format::FeodoCsv), "{name}");
        let parsed = parse_fixture(Format::FeodoCsv, name);
        assert!(parsed.rejected.is_empty(), "{name}: {:?}", parsed.rejected);
        assert!(parsed.records.len() >= ips, "{name}: {:?}", parsed.observables());
        assert!(parsed.records.iter().all(|r| r.attributes.category == Some(Category::C2)), "{name}");
        assert_eq!(parsed.records[0].observable.to_string(), "45.156.128.232", "{name}");
    }
    let served = parse_fixture(Format::FeodoCsv, "feodo_served.csv");
    assert_eq!(served.record("45.156.128.232").line, 2);
    assert_eq!(served.record("45.156.128.232").attributes.port, Some(443));
    assert_eq!(served.record("45.156.128.232").attributes.malware.as_deref(), Some("QakBot"));
}

/// A bare PyMISP event and the restSearch envelopes (attributes, events,
/// objects) are MISP and read; objects carry their values, linked.
#[test]
fn issue11_misp_bare_event_and_restsearch_envelopes() {
    let cases: [(&str, &[&str]); 4] = [
        ("misp/bare-event.json", &["64.62.197.140", "pika-loader.example"]),
        ("misp/restsearch-attributes.json", &["45.156.128.232", "http://qak-gate.example/admin.php"]),
        ("misp/restsearch-events.json", &["47.251.78.116"]),
        (
            "misp/restsearch-objects.json",
            &[
                "pikabot-c2.example",
                "64.62.197.140",
                "82.156.116.86",
                "http://pikabot-c2.example/gate",
                "64.62.197.140",
            ],
        ),
    ];
    for (name, values) in cases {
        assert_eq!(detect(&fixture(name)).map_err(|e| e.to_string()), Ok(Format::Misp), "{name}");
        let parsed = parse_fixture(Format::Misp, name);
        assert_eq!(parsed.observables(), values, "{name}: {parsed:?}");
        assert!(parsed.rejected.is_empty(), "{name}: {:?}", parsed.rejected);
    }
    let objects = parse_fixture(Format::Misp, "misp/restsearch-objects.json");
    let domain = objects.record("pikabot-c2.example");
    assert_eq!(domain.links, [obs("64.62.197.140")]);
    assert_eq!(objects.record("82.156.116.86").attributes.port, Some(2222));
    assert_eq!(parse_fixture(Format::Misp, "misp/restsearch-events.json").records[0].attributes.port, Some(8080));
}

/// A MISP document that yields nothing recognisable says so.
#[test]
fn issue11_misp_input_with_nothing_recognisable_is_an_error() {
    for name in ["misp/restsearch-nothing.json", "misp/restsearch-empty-objects.json"] {
        let err = try_parse_fixture(Format::Misp, name, &Options::default()).map(|p| p.observables());
        assert!(matches!(err, Err(FormatError::Layout { format: Format::Misp, .. })), "{name}: {err:?}");
    }
    let message = try_parse_fixture(Format::Misp, "misp/restsearch-empty-objects.json", &Options::default())
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(message.is_err_and(|m| m.contains("no MISP attribute found")));
}

/// Hierarchical IntelMQ events, a JSON array of events, and CSV files with
/// IntelMQ's column names in its three spellings.
#[test]
fn issue11_intelmq_hierarchical_array_and_csv() {
    assert_eq!(detect(&fixture("intelmq_hierarchical.jsonl")).map_err(|e| e.to_string()), Ok(Format::Intelmq));
    let nested = parse_fixture(Format::Intelmq, "intelmq_hierarchical.jsonl");
    assert_eq!(nested.observables(), ["45.156.128.232", "http://64.62.197.140/login"]);
    let qakbot = nested.record("45.156.128.232");
    assert_eq!((qakbot.attributes.category, qakbot.attributes.port), (Some(Category::C2), Some(443)));
    assert_eq!(qakbot.attributes.confidence, Some(90));
    assert_eq!(nested.record("http://64.62.197.140/login").links, [obs("64.62.197.140")]);

    assert_eq!(detect(&fixture("intelmq_array.json")).map_err(|e| e.to_string()), Ok(Format::Intelmq));
    let array = parse_fixture(Format::Intelmq, "intelmq_array.json");
    assert_eq!(array.observables(), ["drop.files-cdn.example", "82.156.116.86"]);
    assert_eq!(array.record("drop.files-cdn.example").links, [obs("47.251.78.116")]);
    assert_eq!(array.record("82.156.116.86").line, 2);
    assert_eq!(array.warnings, [(2, "source.url '-' is not an indicator; ignored".to_string())]);
    assert_eq!(array.rejected, [(3, "array element is not an object".to_string())]);

    let cases: [(&str, &[&str]); 3] = [
        ("intelmq_dotted.csv", &["45.156.128.232", "http://64.62.197.140/login"]),
        ("intelmq_underscore.csv", &["drop.files-cdn.example", "82.156.116.86"]),
        ("intelmq_camel.tsv", &["http://qak-gate.example/admin.php"]),
    ];
    for (name, values) in cases {
        assert_eq!(detect(&fixture(name)).map_err(|e| e.to_string()), Ok(Format::Csv), "{name}");
        let parsed = parse_fixture(Format::Csv, name);
        assert_eq!(parsed.observables(), values, "{name}: {parsed:?}");
        assert!(parsed.rejected.is_empty() && parsed.warnings.is_empty(), "{name}: {parsed:?}");
        let first = &parsed.records[0];
        assert!(matches!(first.attributes.category, Some(Category::C2 | Category::MalwareDistribution)), "{name}");
    }
    let dotted = parse_fixture(Format::Csv, "intelmq_dotted.csv");
    assert_eq!(dotted.record("http://64.62.197.140/login").attributes.category, Some(Category::Phishing));
    assert_eq!(dotted.record("http://64.62.197.140/login").links, [obs("64.62.197.140")]);
}

/// With `--column`, a header row of names cordon does not know is a
/// header, not a rejected first record.
#[test]
fn issue11_column_mapping_recognises_an_unknown_header() {
    let options = Options { columns: vec![("ip".into(), 1), ("category".into(), 3)], delimiter: None };
    let parsed = try_parse_fixture(Format::Csv, "partners_unknown_header.csv", &options).map_err(|e| e.to_string());
    let parsed = parsed.unwrap_or_default();
    assert_eq!(parsed.observables(), ["45.156.128.232", "64.62.197.140"]);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    assert_eq!(parsed.warnings.len(), 1);
    assert!(parsed.warnings[0].0 == 1 && parsed.warnings[0].1.contains("header"), "{:?}", parsed.warnings);
    assert_eq!(parsed.records[0].attributes.category, Some(Category::C2));
}

/// Placeholders are no value, `; EOF` is a comment, and a rejection names
/// the column.
#[test]
fn issue11_placeholders_are_no_value_and_rejections_name_the_column() {
    let parsed = parse_fixture(Format::Csv, "partners_placeholders.csv");
    assert_eq!(parsed.observables(), ["45.156.128.232", "http://qak-gate.example/admin.php", "pika-loader.example"]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.rejected, [(5, "no value in the indicator column (url, domain, ip)".to_string())]);
    let pika = parsed.record("pika-loader.example");
    assert_eq!((pika.links.clone(), pika.attributes.port), (vec![obs("64.62.197.140")], Some(443)));

    let served = parse_fixture(Format::FeodoCsv, "feodo_served.csv");
    assert_eq!(served.observables(), ["45.156.128.232", "47.251.78.116", "64.62.197.140"]);
    assert!(served.warnings.is_empty(), "'-' as a port is no value: {:?}", served.warnings);
}

/// Patterns that AND a domain with its address yield both, linked; a STIX
/// 2.0 bundle is read, with a warning.
#[test]
fn issue11_stix_conjunctions_and_stix20_bundles() {
    let parsed = parse_fixture(Format::Stix, "stix/misp-domain-ip.json");
    assert_eq!(parsed.observables(), ["pikabot-c2.example", "64.62.197.140", "qak-gate.example", "45.156.128.232"]);
    assert!(parsed.skipped.is_empty() && parsed.rejected.is_empty(), "{parsed:?}");
    assert_eq!(parsed.record("pikabot-c2.example").links, [obs("64.62.197.140")]);
    assert_eq!(parsed.record("qak-gate.example").links, [obs("45.156.128.232")]);
    assert!(parsed.record("64.62.197.140").links.is_empty());

    assert_eq!(detect(&fixture("stix/stix20-bundle.json")).map_err(|e| e.to_string()), Ok(Format::Stix));
    let old = parse_fixture(Format::Stix, "stix/stix20-bundle.json");
    assert_eq!(old.observables(), ["47.251.78.116", "pika-loader.example"]);
    assert_eq!(old.record("pika-loader.example").links, [obs("82.156.116.86")]);
    assert_eq!(old.record("pika-loader.example").line, 2);
    assert_eq!(old.warnings.len(), 1, "{:?}", old.warnings);
    assert!(old.warnings[0].0 == 0 && old.warnings[0].1.contains("STIX 2.0"));
    assert!(old.rejected.is_empty(), "{:?}", old.rejected);
}

/// ASN-DROP, legacy text and JSON: each AS row is skipped with a named
/// reason (said in words once), never rejected as a domain name.
#[test]
fn issue11_asn_drop_rows_are_skipped_with_a_named_reason() {
    for name in ["asndrop.txt", "asndrop.json"] {
        assert_eq!(detect(&fixture(name)).map_err(|e| e.to_string()), Ok(Format::SpamhausAsnDrop), "{name}");
        let parsed = parse_fixture(Format::SpamhausAsnDrop, name);
        assert!(parsed.records.is_empty() && parsed.rejected.is_empty(), "{name}: {parsed:?}");
        let reasons: Vec<&str> = parsed.skipped.iter().map(|(_, reason)| reason.as_str()).collect();
        assert_eq!(reasons, ["asn-listing", "asn-listing"], "{name}");
        assert_eq!(parsed.warnings.len(), 1, "{name}: {:?}", parsed.warnings);
        assert!(parsed.warnings[0].1.contains("network-level listing"), "{name}");
    }
    // Read as DROP text (a Spamhaus comment), the rows are still skips.
    let as_drop = parse_fixture(Format::SpamhausDrop, "asndrop.txt");
    assert_eq!((as_drop.skipped.len(), as_drop.rejected.len()), (2, 0));
}
