//! Detection of every format from its fixture, and of unknown layouts.

use std::path::Path;

use cordon_formats::{detect, detect_bytes, Format, FormatError};

use crate::util::fixture;

#[test]
fn every_fixture_is_detected() {
    let cases = [
        ("plain_good.txt", Format::Plain),
        ("plain_broken.txt", Format::Plain),
        ("ipsum_slice.txt", Format::Ipsum),
        ("ipsum_broken.txt", Format::Ipsum),
        ("spamhaus_drop.txt", Format::SpamhausDrop),
        ("dropv6.txt", Format::SpamhausDrop),
        ("drop_v4.json", Format::SpamhausDropJson),
        ("asndrop.json", Format::SpamhausAsnDrop),
        ("feodo.csv", Format::FeodoCsv),
        ("feodo_ipblocklist.json", Format::FeodoJson),
        ("urlhaus.csv", Format::UrlhausCsv),
        ("urlhaus_hostip.csv", Format::UrlhausCsv),
        ("urlhaus_api.json", Format::UrlhausJson),
        ("threatfox.json", Format::ThreatfoxJson),
        ("threatfox.csv", Format::ThreatfoxCsv),
        ("openphish_feed.txt", Format::Openphish),
        ("phishtank_online-valid.json", Format::PhishtankJson),
        ("intelmq_events.jsonl", Format::Intelmq),
        ("partners.csv", Format::Csv),
        ("partners.tsv", Format::Csv),
        ("partners_headerless.csv", Format::Csv),
        ("stix/partner-bundle.json", Format::Stix),
        ("misp/lockbit-event.json", Format::Misp),
        ("misp/feed", Format::MispFeed),
    ];
    for (name, format) in cases {
        let got = detect(&fixture(name)).map_err(|e| e.to_string());
        assert_eq!(got, Ok(format), "{name}");
    }
}

#[test]
fn stix_misp_and_misp_feed_dirs() {
    let stix = br#"{"type": "bundle", "id": "bundle--1", "objects": []}"#;
    assert_eq!(detect_bytes(Path::new("-"), stix).ok(), Some(Format::Stix));
    let misp = b"{\n  \"Event\": {\"info\": \"x\", \"Attribute\": []}}";
    assert_eq!(detect_bytes(Path::new("-"), misp).ok(), Some(Format::Misp));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(detect(dir.path()), Err(FormatError::Unrecognized { .. })));
    std::fs::write(dir.path().join("manifest.json"), "{}").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(detect(dir.path()).ok(), Some(Format::MispFeed));
}

#[test]
fn plain_url_lists_are_openphish_only_by_name() {
    let urls = b"https://account-update.example/paypal/\n";
    assert_eq!(detect_bytes(Path::new("urls.txt"), urls).ok(), Some(Format::Plain));
    assert_eq!(detect_bytes(Path::new("openphish.txt"), urls).ok(), Some(Format::Openphish));
}

#[test]
fn unknown_layouts_list_what_was_tried() {
    let err = detect_bytes(Path::new("notes.txt"), b"hello there, world\nthis is prose, not a feed\n");
    let Err(FormatError::Unrecognized { tried, .. }) = err else { panic!("{err:?}") };
    assert!(tried.contains(&"plain") && tried.contains(&"csv") && tried.contains(&"intelmq"), "{tried:?}");
    assert!(detect_bytes(Path::new("x.json"), br#"[{"colour": "red"}]"#).is_err());
}

#[test]
fn detection_reads_a_bounded_head() {
    // A plain list whose 64 KiB head ends in the middle of a line.
    let mut input = Vec::new();
    while input.len() < 70_000 {
        input.extend_from_slice(b"80.94.95.112\n");
    }
    assert_eq!(detect_bytes(Path::new("-"), &input[..cordon_formats::DETECT_LIMIT]).ok(), Some(Format::Plain));
}
