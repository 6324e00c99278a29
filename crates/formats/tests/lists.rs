//! Plain lists, IPsum and OpenPhish.

use cordon_formats::Format;
use cordon_model::Category;

use crate::util::parse_fixture;

#[test]
fn plain_list_with_bom_crlf_comments_ranges_and_defanged_values() {
    let parsed = parse_fixture(Format::Plain, "plain_good.txt");
    assert_eq!(
        parsed.observables(),
        [
            "80.94.95.112",
            "77.90.185.20",
            "2.57.122.0/24",
            "45.154.244.190/31",
            "45.154.244.192/31",
            "135.237.126.160",
            "http://36.64.68.99:8080/bins/x86",
            "https://login-verify.example/secure",
            "payload-drop.example",
            "2a01:4f8:c17:b8f::2",
            "91.230.168.186",
        ]
    );
    assert_eq!(parsed.record("80.94.95.112").line, 4);
    assert_eq!(parsed.record("45.154.244.192/31").line, 7, "both CIDRs of a range keep its line");
    assert!(parsed.rejected.is_empty() && parsed.warnings.is_empty(), "{parsed:?}");
    assert!(parsed.records.iter().all(|r| r.attributes.category.is_none()));
}

#[test]
fn plain_list_rejects_bad_values_with_line_and_reason() {
    let parsed = parse_fixture(Format::Plain, "plain_broken.txt");
    assert_eq!(parsed.observables(), ["157.230.171.79", "20.102.91.36"]);
    let lines: Vec<u64> = parsed.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [3, 4, 5, 7]);
    assert_eq!(parsed.rejected[0].1, "'999.1.2.3' is not an IP address");
    assert!(parsed.rejected[2].1.contains("prefix length 33"), "{:?}", parsed.rejected);
}

#[test]
fn ipsum_slice_counts_become_confidence() {
    let parsed = parse_fixture(Format::Ipsum, "ipsum_slice.txt");
    assert_eq!(parsed.records.len(), 193, "200 lines minus 7 comment lines");
    assert!(parsed.rejected.is_empty() && parsed.warnings.is_empty(), "{parsed:?}");
    let first = parsed.record("77.90.185.20");
    assert_eq!((first.line, first.attributes.confidence), (8, Some(100)));
    assert_eq!(parsed.record("80.94.92.234").attributes.confidence, Some(60));
}

#[test]
fn ipsum_broken_rows() {
    let parsed = parse_fixture(Format::Ipsum, "ipsum_broken.txt");
    assert_eq!(parsed.observables(), ["45.156.129.106", "91.231.89.24"]);
    assert_eq!(parsed.record("45.156.129.106").attributes.confidence, Some(40));
    assert_eq!(parsed.rejected, [(5, "'66.132.172.999' is not an IP address".to_string())]);
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.warnings[0].0, 6);
    assert_eq!(parsed.record("91.231.89.24").attributes.confidence, None);
}

#[test]
fn openphish_urls_are_phishing() {
    let parsed = parse_fixture(Format::Openphish, "openphish_feed.txt");
    assert_eq!(parsed.records.len(), 3);
    assert!(parsed.records.iter().all(|r| r.attributes.category == Some(Category::Phishing)));
    assert_eq!(parsed.records[1].observable.to_string(), "http://45.156.128.232/webmail/index.php");
}
