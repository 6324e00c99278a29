//! Spamhaus DROP/EDROP/DROPv6 text, DROP JSON and ASN-DROP.

use cordon_formats::Format;
use cordon_model::Category;

use crate::util::parse_fixture;

#[test]
fn drop_text_is_spam_with_sbl_label() {
    let parsed = parse_fixture(Format::SpamhausDrop, "spamhaus_drop.txt");
    assert_eq!(parsed.observables(), ["1.10.16.0/20", "2.57.122.0/24", "45.154.244.0/24", "80.94.95.0/24"]);
    let record = parsed.record("2.57.122.0/24");
    assert_eq!(record.line, 6);
    assert_eq!(record.attributes.category, Some(Category::Spam));
    assert_eq!(record.attributes.label.as_deref(), Some("SBL636050"));
    let v6 = parse_fixture(Format::SpamhausDrop, "dropv6.txt");
    assert_eq!(v6.observables(), ["2a06:5280::/29", "2a0e:6f40::/29"]);
}

#[test]
fn drop_text_broken_rows() {
    let parsed = parse_fixture(Format::SpamhausDrop, "spamhaus_drop_broken.txt");
    assert_eq!(parsed.observables(), ["77.90.185.0/24"]);
    assert_eq!(parsed.rejected[0], (3, "'77.90.300.0' is not an IP address".to_string()));
    assert_eq!(parsed.rejected[1].0, 4);
}

#[test]
fn drop_json_lines_skip_metadata() {
    let parsed = parse_fixture(Format::SpamhausDropJson, "drop_v4.json");
    assert_eq!(parsed.observables(), ["1.10.16.0/20", "2.57.122.0/24", "45.154.244.0/24"]);
    assert!(parsed.rejected.is_empty() && parsed.skipped.is_empty(), "{parsed:?}");
    assert_eq!(parsed.records[2].attributes.label.as_deref(), Some("SBL614571"));
}

#[test]
fn drop_json_broken_lines_are_rejected_with_their_numbers() {
    let parsed = parse_fixture(Format::SpamhausDropJson, "drop_v4_broken.json");
    assert_eq!(parsed.observables(), ["80.94.95.0/24", "80.94.95.0/24"]);
    let lines: Vec<u64> = parsed.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [2, 3]);
    assert!(parsed.rejected[0].1.contains("not valid JSON"), "{:?}", parsed.rejected);
    assert_eq!(parsed.warnings.len(), 1, "host bits of line 4");
}

#[test]
fn asn_drop_entries_are_skipped_not_records() {
    let parsed = parse_fixture(Format::SpamhausAsnDrop, "asndrop.json");
    assert!(parsed.records.is_empty());
    assert_eq!(parsed.skipped, [(1, "asn-listing".to_string()), (2, "asn-listing".to_string())]);
}
