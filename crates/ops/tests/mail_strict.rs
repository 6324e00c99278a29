//! Notifications parsed back by a strict parser (Python's `email` with
//! `policy=email.policy.strict`): hostile contact names never add a
//! recipient or a header (issue 10, defect 3).
//!
//! python3 is required: the test fails, never skips, without it.

mod common;

use std::process::Command;

use cordon_model::{Category, Tlp};
use cordon_ops::notify::{notify, NotifyConfig};
use cordon_ops::workflow::Actor;
use cordon_store::SqliteStore;

/// Parses each file with `policy=strict` and prints one JSON object per
/// message: the recipients of To/Cc/Bcc (display name, address), the
/// From, the Subject, every header name, and every defect found.
const PARSE: &str = r#"
import email, email.policy, json, sys
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.strict)
    out = {'headers': [k for k in msg.keys()], 'defects': [repr(d) for d in msg.defects]}
    for name in ['To', 'Cc', 'Bcc', 'From', 'Reply-To']:
        values = msg.get_all(name) or []
        out[name] = [[a.display_name, a.addr_spec] for v in values for a in v.addresses]
        out['defects'] += [repr(d) for v in values for d in v.defects]
    subject = msg['Subject']
    out['Subject'] = str(subject)
    out['defects'] += [repr(d) for d in subject.defects]
    for part in msg.walk():
        out['defects'] += [repr(d) for d in part.defects]
    print(json.dumps(out))
"#;

/// Contact names an attacker could get into a contact table or a feed.
fn hostile_names() -> Vec<String> {
    let long: String = "Ä-Hosting ".repeat(40);
    vec![
        "=?utf-8?q?Abuse?= <leak@evil.example>, Real".to_string(),
        "=?utf-8?q?=0D=0ABcc:_x@y.example?=".to_string(),
        // base64 of "x\r\nBcc: x@y.example"
        "=?utf-8?b?eA0KQmNjOiB4QHkuZXhhbXBsZQ==?=".to_string(),
        "=?utf-8?q?Abuse?=".to_string(),
        "Evil Hosting\r\nBcc: victim@example.com".to_string(),
        "Evil\nCc: a@b.example\n\nbody".to_string(),
        "\"Quoted\" <a@b.example>, c@d.example".to_string(),
        "a, b; c: d <e@f.example>;".to_string(),
        "back\\slash \\\" ; Bcc: x@y.example".to_string(),
        "Bäckerei Müller GmbH <x@y.example>; z@w.example".to_string(),
        "日本のホスティング株式会社, <x@y.example>".to_string(),
        "Ünïcödé =?utf-8?q?=0D=0ABcc:_x@y.example?=".to_string(),
        "\u{0}\u{7}\u{1b}[2J tab\there".to_string(),
        long,
        "Very \"Long\" Hosting, Name; =?x?= ".repeat(12),
        "Plain Hosting Ltd".to_string(),
    ]
}

/// What a reader must see as the display name: controls become spaces,
/// whitespace runs one space.
fn sanitized(name: &str) -> String {
    let clean: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    clean.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Regression (issue 10, defect 3): a contact name beginning with `=?` was
/// written into `To:` unquoted, so `=?utf-8?q?Abuse?= <leak@evil.example>,
/// Real` added a recipient, and an encoded word could decode to CR LF
/// `Bcc:`. Every message must parse strictly with exactly its one intended
/// recipient, and its display name must read back as the sanitized name.
#[test]
fn hostile_contact_names_never_add_recipients_or_headers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let names = hostile_names();
    let ips: Vec<String> = (0..names.len()).map(|i| format!("80.94.95.{}", 10 + i)).collect();
    let records: Vec<_> =
        ips.iter().map(|ip| common::record(ip, &[], Category::C2, Tlp::Green, Some("Quakbot"))).collect();
    common::import(&store, "open", &records);
    let mut expected = Vec::new();
    for (i, (name, ip)) in names.iter().zip(&ips).enumerate() {
        let asn = 64_500 + i as u32;
        let address = format!("abuse{i}@hoster{i}.example");
        common::enrich(&db, ip, "RO", asn, "");
        common::contact(&db, "asn", &asn.to_string(), name, &address);
        expected.push((sanitized(name), address));
    }
    let op = common::operation(&store);
    let from_name = "=?utf-8?q?hub?= <spoof@evil.example>, \"cordon\" hub";
    let summary = common::notify_referred(&store, dir.path(), &op, from_name);
    assert_eq!(summary.messages.len(), names.len(), "one message per contact: {summary:?}");

    let paths: Vec<String> = summary.messages.iter().map(|m| m.path.display().to_string()).collect();
    let out = Command::new("python3")
        .arg("-c")
        .arg(PARSE)
        .args(&paths)
        .output()
        .expect("python3 must be installed: this test never skips");
    assert!(out.status.success(), "strict parse failed: {}", String::from_utf8_lossy(&out.stderr));
    let parsed: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(parsed.len(), names.len());
    let allowed_headers =
        ["From", "To", "Subject", "Date", "Message-ID", "X-ARF", "Auto-Submitted", "MIME-Version", "Content-Type"];
    let mut seen = Vec::new();
    for (message, mail) in summary.messages.iter().zip(&parsed) {
        let head = message.text.split("\r\n\r\n").next().unwrap_or_default();
        assert!(head.split("\r\n").all(|line| line.len() <= 998), "header lines stay short: {head}");
        assert!(!head.replace("\r\n", "").contains(['\r', '\n']), "no bare CR or LF: {head:?}");
        assert_eq!(mail["defects"], serde_json::json!([]), "{}: {mail}", message.path.display());
        let headers: Vec<&str> = mail["headers"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
        assert_eq!(headers, allowed_headers, "exactly the headers written, once each: {mail}");
        assert_eq!(mail["Cc"], serde_json::json!([]), "{mail}");
        assert_eq!(mail["Bcc"], serde_json::json!([]), "{mail}");
        assert_eq!(
            mail["From"],
            serde_json::json!([[sanitized(from_name), "reports@hub.example"]]),
            "the sender's name is text too"
        );
        let to = mail["To"].as_array().unwrap();
        assert_eq!(to.len(), 1, "exactly one recipient: {mail}");
        let name = to[0][0].as_str().unwrap();
        let address = to[0][1].as_str().unwrap().to_string();
        assert_eq!(address, message.contact.email, "the recipient is the contact's address");
        // CPython keeps the space between two encoded words of a display
        // name (RFC 2047 drops it); words are cut after a space, so the only
        // difference can be a doubled space, collapsed here. ASCII names are
        // quoted-strings and must read back exactly.
        if message.contact.name.is_ascii() {
            assert_eq!(name, sanitized(&message.contact.name), "{mail}");
        }
        seen.push((sanitized(name), address));
    }
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected, "each display name reads back as the sanitized name");
}

/// An address that is not a plain `local@domain` is refused, not repaired.
#[test]
fn invalid_sender_addresses_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let op = common::one_referred_target(&store, &db);
    for from in ["reports@hub.example>, x@evil.example", "reports@hub.example\r\nBcc: x@y.example", "a@b@c.example"] {
        let config = NotifyConfig {
            outbox: dir.path().join("outbox"),
            from_name: "hub".into(),
            from_address: from.into(),
            interval: 86_400,
            smtp: None,
        };
        let result = notify(&store, &op, &config, &Actor::new("a", common::T0, ""));
        assert!(result.is_err(), "{from:?}: {result:?}");
    }
}
