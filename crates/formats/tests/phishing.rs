//! PhishTank and IntelMQ.

use cordon_formats::Format;
use cordon_model::{parse_timestamp, Category, Tlp};

use crate::util::parse_fixture;

#[test]
fn phishtank_details_ip_is_a_link() {
    let parsed = parse_fixture(Format::PhishtankJson, "phishtank_online-valid.json");
    assert_eq!(
        parsed.observables(),
        ["https://secure-login.bank-verify.example/signin", "http://91.231.89.24/outlook/login.html"]
    );
    let first = &parsed.records[0];
    assert_eq!(first.attributes.category, Some(Category::Phishing));
    assert_eq!(first.links.iter().map(ToString::to_string).collect::<Vec<_>>(), ["195.78.100.186"]);
    assert_eq!(first.attributes.label, None, "target 'Other' says nothing");
    assert_eq!(first.attributes.first_seen, parse_timestamp("2024-04-25T08:12:44+00:00"));
    assert_eq!(parsed.records[1].attributes.label.as_deref(), Some("Microsoft"));
    assert_eq!(parsed.rejected.len(), 1);
    assert_eq!(parsed.rejected[0].0, 3);
}

#[test]
fn intelmq_events() {
    let parsed = parse_fixture(Format::Intelmq, "intelmq_events.jsonl");
    assert_eq!(
        parsed.observables(),
        ["47.251.78.116", "http://64.62.197.140/login", "drop.files-cdn.example", "2.57.122.0/24"]
    );
    let lockbit = parsed.record("47.251.78.116");
    assert_eq!(lockbit.attributes.category, Some(Category::Ransomware), "identifier names a ransomware family");
    assert_eq!(lockbit.attributes.label.as_deref(), Some("c2-server"));
    assert_eq!(lockbit.attributes.malware.as_deref(), Some("lockbit"));
    assert_eq!(lockbit.attributes.tlp, Some(Tlp::Amber));
    assert_eq!(lockbit.attributes.port, Some(443));
    assert_eq!(lockbit.attributes.confidence, Some(90));
    assert_eq!(lockbit.attributes.first_seen, parse_timestamp("2024-04-25T07:00:00+00:00"));
    let phish = parsed.record("http://64.62.197.140/login");
    assert_eq!((phish.line, phish.attributes.category), (2, Some(Category::Phishing)));
    assert_eq!(phish.links.iter().map(ToString::to_string).collect::<Vec<_>>(), ["64.62.197.140"]);
    assert_eq!(parsed.record("drop.files-cdn.example").attributes.category, Some(Category::Infostealer));
    assert_eq!(parsed.record("2.57.122.0/24").attributes.category, Some(Category::Spam));
    assert_eq!(parsed.skipped, [(5, "no-source-observable".to_string())]);
    let rejected: Vec<u64> = parsed.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(rejected, [6, 7]);
}
