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
