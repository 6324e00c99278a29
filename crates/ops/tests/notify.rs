//! Notifications: parsed back, sanitized headers, the re-notify interval.

mod common;

use cordon_model::{Category, Tlp};
use cordon_ops::notify::{notify, NotifyConfig};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{OpsStore, TargetFilter, TargetState};
use cordon_store::SqliteStore;
use mailparse::MailHeaderMap;

fn advance(store: &mut SqliteStore, to: &[TargetState], time: i64) {
    for state in to {
        let all = store.targets(&TargetFilter::default()).unwrap();
        transition(store, &all, *state, None, &Actor::new("a", time, "")).unwrap();
    }
}

#[test]
fn one_parsable_message_per_contact_without_header_injection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let rec = common::record;
    common::import(
        &mut store,
        "open",
        &[
            rec("http://evil.example/a\r\nBcc: x@y.z", &["80.94.95.112"], Category::Phishing, Tlp::Green, None),
            rec("80.94.95.113", &[], Category::C2, Tlp::Clear, Some("Quakbot")),
            rec("80.94.95.114", &[], Category::C2, Tlp::Red, None),
        ],
    );
    for ip in ["80.94.95.112", "80.94.95.113", "80.94.95.114"] {
        common::enrich(&db, ip, "RO", 64500, "");
    }
    common::contact(&db, "asn", "64500", "Evil Hosting\r\nBcc: victim@example.com", "abuse@evil-hosting.example");
    let op = common::operation(&mut store);
    let t = common::T0 + 86_400;
    common::build(&mut store, &op, &Actor::new("a", t, ""));
    advance(&mut store, &[TargetState::Triaged, TargetState::Referred], t);

    let outbox = dir.path().join("outbox");
    let config = NotifyConfig {
        outbox: outbox.clone(),
        from_name: "cordon hub".into(),
        from_address: "reports@hub.example".into(),
        interval: 7 * 86_400,
    };
    let summary = notify(&mut store, &op, &config, &Actor::new("a", t, "")).unwrap();
    assert_eq!(summary.messages.len(), 1);
    assert_eq!((summary.notified, summary.nothing_shareable), (2, 1), "the RED-only target is not reported");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&summary.messages[0].path).unwrap();
    let mail = mailparse::parse_mail(&raw).unwrap();
    let headers = mail.get_headers();
    assert!(headers.get_first_value("Bcc").is_none(), "no injected header");
    assert_eq!(headers.get_all_values("To").len(), 1);
    assert!(headers.get_first_value("To").unwrap().contains("<abuse@evil-hosting.example>"));
    assert_eq!(headers.get_first_value("X-ARF").as_deref(), Some("YES"));
    assert_eq!(headers.get_first_value("Auto-Submitted").as_deref(), Some("auto-generated"));
    assert_eq!(mail.subparts.len(), 4);
    let body = mail.subparts[0].get_body().unwrap();
    assert!(body.contains("80.94.95.112") && body.contains("80.94.95.113") && !body.contains("80.94.95.114"));
    let report_txt = mail.subparts[1].get_body().unwrap();
    assert!(report_txt.contains("Version: 0.2") && report_txt.contains("Source: \"80.94.95.113\""));
    assert_eq!(report_txt.matches("---\n").count(), 2);
    let xarf: serde_json::Value = serde_json::from_str(&mail.subparts[2].get_body().unwrap()).unwrap();
    assert_eq!(xarf.as_array().unwrap().len(), 2);
    assert_eq!(xarf[0]["xarf_version"], "4.0.0");
    let csv = mail.subparts[3].get_body().unwrap();
    assert!(csv.starts_with("target,value,kind"));
    for part in &mail.subparts {
        for header in part.get_headers() {
            assert!(!header.get_key().eq_ignore_ascii_case("bcc"));
        }
    }

    // Back through reemergence to referred: within the interval the same
    // contact is not told again about the same target.
    advance(&mut store, &[TargetState::TakenDown, TargetState::Reemerged, TargetState::Triaged], t + 10);
    let fresh = store.targets(&TargetFilter { state: Some(TargetState::Triaged), ..TargetFilter::default() }).unwrap();
    transition(&mut store, &fresh, TargetState::Referred, None, &Actor::new("a", t + 10, "")).unwrap();
    let again = notify(&mut store, &op, &config, &Actor::new("a", t + 20, "")).unwrap();
    assert_eq!((again.messages.len(), again.recently_notified), (0, 2));
    let later = notify(&mut store, &op, &NotifyConfig { interval: 5, ..config }, &Actor::new("a", t + 20, "")).unwrap();
    assert_eq!(later.notified, 2);
}
