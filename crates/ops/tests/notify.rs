//! Notifications: parsed back, sanitized headers, the re-notify interval.

mod common;

use cordon_model::{Category, Tlp};
use cordon_ops::notify::{notify, NotifyConfig};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{OpsStore, TargetFilter, TargetState};
use cordon_store::SqliteStore;
use mailparse::MailHeaderMap;

#[test]
fn one_parsable_message_per_contact_without_header_injection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let rec = common::record;
    common::import(
        &store,
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
    let op = common::operation(&store);
    let t = common::T0 + 86_400;
    common::build(&store, &op, &Actor::new("a", t, ""));
    common::advance(&store, &[TargetState::Triaged, TargetState::Referred], t);

    let outbox = dir.path().join("outbox");
    let config = NotifyConfig {
        outbox: outbox.clone(),
        from_name: "cordon hub".into(),
        from_address: "reports@hub.example".into(),
        interval: 7 * 86_400,
        smtp: None,
    };
    let summary = notify(&store, &op, &config, &Actor::new("a", t, "")).unwrap();
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
    assert_eq!(mail.subparts.len(), 6, "text, two reports per target, evidence.csv");
    let body = mail.subparts[0].get_body().unwrap();
    assert!(body.contains("80.94.95.112") && body.contains("80.94.95.113") && !body.contains("80.94.95.114"));
    let reports: Vec<String> = [1, 3].iter().map(|&i| mail.subparts[i].get_body().unwrap()).collect();
    assert!(reports.iter().all(|r| r.contains("Version: 0.2") && r.lines().filter(|l| *l == "---").count() == 1));
    assert!(reports[1].contains("Source: \"80.94.95.113\"") && reports[1].contains("Source-Type: ipv4"));
    let ids: Vec<&str> = reports.iter().filter_map(|r| r.lines().find(|l| l.starts_with("Report-ID: "))).collect();
    assert!(ids.len() == 2 && ids[0] != ids[1], "{ids:?}");
    for i in [2, 4] {
        let xarf: serde_json::Value = serde_json::from_str(&mail.subparts[i].get_body().unwrap()).unwrap();
        assert!(xarf.is_object(), "one document per report");
        assert_eq!(xarf["xarf_version"], "4.2.0");
    }
    let csv = mail.subparts[5].get_body().unwrap();
    assert!(csv.starts_with("target,value,kind"));
    for part in &mail.subparts {
        for header in part.get_headers() {
            assert!(!header.get_key().eq_ignore_ascii_case("bcc"));
        }
    }

    // Back through reemergence to referred: within the interval the same
    // contact is not told again about the same target.
    common::advance(&store, &[TargetState::TakenDown, TargetState::Reemerged, TargetState::Triaged], t + 10);
    let fresh = store.targets(&TargetFilter { state: Some(TargetState::Triaged), ..TargetFilter::default() }).unwrap();
    transition(&store, &fresh, TargetState::Referred, None, &Actor::new("a", t + 10, "")).unwrap();
    let again = notify(&store, &op, &config, &Actor::new("a", t + 20, "")).unwrap();
    assert_eq!((again.messages.len(), again.recently_notified), (0, 2));
    let later = notify(&store, &op, &NotifyConfig { interval: 5, ..config }, &Actor::new("a", t + 20, "")).unwrap();
    assert_eq!(later.notified, 2);
}

/// A minimal SMTP sink on 127.0.0.1: accepts everything, keeps each
/// message's DATA.
fn smtp_sink() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let _ = writer.write_all(b"220 sink ESMTP\r\n");
            let (mut data, mut in_data) = (String::new(), false);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        let _ = sender.send(std::mem::take(&mut data));
                        b"250 queued\r\n"
                    } else {
                        data.push_str(&line);
                        b""
                    }
                } else if line.to_ascii_uppercase().starts_with("DATA") {
                    in_data = true;
                    b"354 go on\r\n"
                } else if line.to_ascii_uppercase().starts_with("QUIT") {
                    let _ = writer.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = writer.write_all(reply);
                line.clear();
            }
        }
    });
    (port, receiver)
}

#[test]
fn sends_through_an_smtp_relay() {
    let (port, received) = smtp_sink();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let op = common::one_referred_target(&store, &db);
    let config = NotifyConfig {
        outbox: dir.path().join("outbox"),
        from_name: "hub".into(),
        from_address: "reports@hub.example".into(),
        interval: 86_400,
        smtp: Some(format!("smtp://127.0.0.1:{port}")),
    };
    let summary = notify(&store, &op, &config, &Actor::new("a", common::T0, "")).unwrap();
    assert_eq!(summary.notified, 1);
    let sent = received.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    let mail = mailparse::parse_mail(sent.as_bytes()).unwrap();
    assert_eq!(mail.get_headers().get_first_value("X-ARF").as_deref(), Some("YES"));
    assert_eq!(mail.subparts.len(), 4);
}

/// Validates XARF v4 documents with PyPI's `xarf` (scripts/install-peers.sh)
/// through `validate_xarf.py`: no schema error, no unknown field.
fn validate_xarf(documents: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        let path = dir.path().join(format!("{i}.json"));
        std::fs::write(&path, document).unwrap();
        paths.push(path);
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_xarf.py");
    let out = std::process::Command::new("python3").arg(script).args(&paths).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
}

#[test]
fn every_category_s_xarf_report_is_valid_against_the_xarf_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let mut records = Vec::new();
    for (i, category) in Category::ALL.into_iter().enumerate() {
        let ip = format!("80.94.96.{}", i + 1);
        let mut rec = common::record(&ip, &[], category, Tlp::Green, Some("Quak Bot"));
        rec.attributes.port = (i % 2 == 0).then_some(443);
        records.push(rec);
    }
    records.push(common::record("http://login.phish.top/a", &["80.94.96.100"], Category::Phishing, Tlp::Green, None));
    common::import(&store, "open", &records);
    common::contact(&db, "prefix", "80.94.96.0/24", "Hosting", "abuse@hosting.example");
    let op = common::operation(&store);
    let summary = common::notify_referred(&store, dir.path(), &op, "cordon hub");
    let raw = std::fs::read(&summary.messages[0].path).unwrap();
    let mail = mailparse::parse_mail(&raw).unwrap();
    let documents: Vec<String> = mail
        .subparts
        .iter()
        .filter(|part| part.get_content_disposition().params.get("filename").is_some_and(|f| f.starts_with("xarf-")))
        .map(|part| part.get_body().unwrap())
        .collect();
    assert_eq!(documents.len(), Category::ALL.len() + 1, "one report per target");
    let types: std::collections::BTreeSet<String> = documents
        .iter()
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types.len(), 5, "phishing, fraud, malware, botnet, blocklist: {types:?}");
    validate_xarf(&documents);
}
