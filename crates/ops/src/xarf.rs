//! The abuse reports of a notification, one per target: X-ARF 0.2 (YAML,
//! the format abuse desks' parsers still read) and XARF v4 (JSON, valid
//! against the schemas PyPI's `xarf` package ships, which the test suite
//! checks every generated report with).
//!
//! XARF v4 (spec 4.2.0): one JSON document per report with the core fields
//! (`reporter` and `sender` are the hub, `source_identifier` the target's
//! key, `source_port` only when known, `confidence` in 0–1), one evidence
//! item (`content_type` `text/csv`, the target's shareable evidence rows in
//! base64, its `sha256:` hash and size), and the fields each category's
//! schema requires: `compromise_evidence` for botnets, `url` for content
//! (phishing, malware, fraud; `fraud_type` for fraud), `threat_type` for
//! blocklist listings. Spam and scanner listings are `reputation/blocklist`
//! reports: `messaging/spam` requires a message's envelope sender and source
//! port, `connection/port_scan` the scanner's source port, which no feed
//! listing carries. No field outside the schemas is written.
//!
//! X-ARF 0.2: one report per MIME part, each with its own `Report-ID`;
//! `Source-Type` is `ipv4`, `ipv6` or `uri` (a URL, or a domain written as
//! `http://domain/`), the values X-ARF 0.2's published schemas use for
//! addresses and locations. Those schemas (x-arf.org/schema/…) are no longer
//! served and no offline copy was found, so these reports are checked by
//! their structure only (the notification tests).

use cordon_model::{format_timestamp, Category, Kind, Timestamp};
use cordon_store::ops::{Evidence, Operation, Target, TargetKind};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::mime::base64;

/// The XARF v4 specification version the reports follow.
pub const XARF_VERSION: &str = "4.2.0";

/// Who files the reports.
pub(crate) struct Reporter<'a> {
    /// The hub's name.
    pub(crate) name: &'a str,
    /// Its address.
    pub(crate) address: &'a str,
    /// The address's domain.
    pub(crate) domain: &'a str,
}

/// X-ARF 0.2 category and report type, and XARF v4 category and type.
fn classify(category: Category) -> (&'static str, &'static str, &'static str, &'static str) {
    match category {
        Category::Phishing => ("fraud", "phishing", "content", "phishing"),
        Category::Fraud => ("fraud", "fraud", "content", "fraud"),
        Category::MalwareDistribution => ("abuse", "malware", "content", "malware"),
        // XARF v4's messaging/spam needs the envelope sender and source port
        // of a message, connection/port_scan the scanner's source port: a
        // feed's listing has neither, so both are reputation listings.
        Category::Spam => ("abuse", "spam", "reputation", "blocklist"),
        Category::Scanner => ("abuse", "port-scan", "reputation", "blocklist"),
        Category::C2 | Category::Botnet | Category::Ransomware | Category::Infostealer => {
            ("abuse", "botnet", "infrastructure", "botnet")
        }
        Category::Other => ("abuse", "malicious-activity", "reputation", "blocklist"),
    }
}

/// The category a target is reported under: its first evidence's.
pub(crate) fn category_of(evidence: &[&Evidence]) -> Category {
    evidence.first().map_or(Category::Other, |e| e.category)
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_string())
}

/// The X-ARF 0.2 `Source` and `Source-Type` of a target.
fn xarf02_source(target: &Target) -> (String, &'static str) {
    let key = &target.spec.key;
    match target.spec.kind {
        TargetKind::Server | TargetKind::Network if key.contains(':') => (key.clone(), "ipv6"),
        TargetKind::Server | TargetKind::Network => (key.clone(), "ipv4"),
        TargetKind::Domain => (format!("http://{key}/"), "uri"),
        TargetKind::Url => (key.clone(), "uri"),
    }
}

/// One X-ARF 0.2 report (a YAML document) about `target`; `date` is the
/// message's RFC 5322 date, `report_id` its `Report-ID`.
pub(crate) fn xarf02(
    reporter: &Reporter<'_>,
    target: &Target,
    evidence: &[&Evidence],
    date: &str,
    report_id: &str,
) -> String {
    let (category, report_type, _, _) = classify(category_of(evidence));
    let port = evidence.iter().find_map(|e| e.port);
    let (source, source_type) = xarf02_source(target);
    format!(
        "---\nReported-From: {}\nCategory: {category}\nReport-Type: {}\nReport-ID: {}\nService: {}\nVersion: 0.2\n\
         User-Agent: {}\nDate: {}\nSource: {}\nSource-Type: {source_type}\nPort: {}\n\
         Schema-URL: http://www.x-arf.org/schema/{category}_{report_type}_0.1.0.json\n",
        yaml(reporter.address),
        yaml(report_type),
        yaml(report_id),
        yaml(if port == Some(443) { "https" } else { "http" }),
        yaml(concat!("cordon ", env!("CARGO_PKG_VERSION"))),
        yaml(date),
        yaml(&source),
        port.unwrap_or(80),
    )
}

/// A XARF tag part: lower-case letters, digits, `_`, `+`, `-`, starting
/// with a letter or digit (`None` when nothing is left).
fn tag_part(text: &str) -> Option<String> {
    let part: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-') { c } else { '-' })
        .collect();
    let part = part.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    (!part.is_empty()).then(|| part.to_string())
}

/// The URL a content report names: the first URL in the evidence, else
/// the target's key as one.
fn content_url(target: &Target, evidence: &[&Evidence]) -> String {
    if let Some(url) = evidence.iter().find(|e| e.kind == Kind::Url) {
        return url.value.clone();
    }
    let key = &target.spec.key;
    match target.spec.kind {
        TargetKind::Url => key.clone(),
        _ if key.contains(':') => format!("http://[{key}]/"),
        _ => format!("http://{key}/"),
    }
}

/// One XARF v4 report about `target`, made at `time`; `csv` is the
/// target's evidence as CSV rows (the evidence item's payload).
pub(crate) fn xarf4(
    reporter: &Reporter<'_>,
    operation: &Operation,
    target: &Target,
    evidence: &[&Evidence],
    csv: &[u8],
    report_id: &str,
) -> Value {
    let category = category_of(evidence);
    let (_, _, xarf_category, xarf_type) = classify(category);
    let contact = json!({"org": reporter.name, "contact": reporter.address, "domain": reporter.domain});
    let last_seen: Timestamp = evidence.iter().map(|e| e.last_seen).max().unwrap_or(target.spec.last_seen);
    let mut malware: Vec<&str> = evidence.iter().filter_map(|e| e.malware.as_deref()).collect();
    malware.sort_by_key(|m| m.to_ascii_lowercase());
    malware.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let mut tags: Vec<String> = tag_part(&operation.name).map(|op| format!("operation:{op}")).into_iter().collect();
    tags.extend(malware.iter().filter_map(|m| tag_part(m)).map(|m| format!("malware:{m}")));
    let mut report = Map::new();
    let mut put = |key: &str, value: Value| {
        report.insert(key.to_string(), value);
    };
    put("xarf_version", json!(XARF_VERSION));
    put("report_id", json!(report_id));
    put("timestamp", json!(format_timestamp(last_seen)));
    put("reporter", contact.clone());
    put("sender", contact);
    put("source_identifier", json!(target.spec.key));
    if let Some(port) = evidence.iter().find_map(|e| e.port).filter(|p| *p > 0) {
        put("source_port", json!(port));
    }
    put("category", json!(xarf_category));
    put("type", json!(xarf_type));
    put("evidence_source", json!("threat_intelligence"));
    put("confidence", json!(f64::from(evidence.iter().map(|e| e.confidence).max().unwrap_or(50).min(100)) / 100.0));
    put(
        "description",
        json!(format!(
            "{} indicator(s) reported as {} by partners of operation {}",
            evidence.len(),
            category.as_str(),
            operation.name
        )),
    );
    put("tags", json!(tags));
    put(
        "evidence",
        json!([{
            "content_type": "text/csv",
            "description": "The indicators behind this report, as the hub's partners reported them",
            "payload": base64(csv),
            "hash": format!("sha256:{}", hex::encode(Sha256::digest(csv))),
            "size": csv.len(),
        }]),
    );
    match xarf_category {
        "infrastructure" => {
            put(
                "compromise_evidence",
                json!(format!("listed as {} by threat intelligence partners", category.as_str())),
            );
            if let Some(family) = malware.first() {
                put("malware_family", json!(family));
            }
        }
        "content" => {
            let url = content_url(target, evidence);
            if let Some(cordon_model::Observable::Domain(host)) = cordon_model::Observable::Url(url.clone()).url_host()
            {
                put("domain", json!(host));
            }
            put("url", json!(url));
            match xarf_type {
                "fraud" => put("fraud_type", json!("other")),
                "malware" => {
                    if let Some(family) = malware.first() {
                        put("malware_family", json!(family));
                    }
                }
                _ => {}
            }
        }
        _ => put("threat_type", json!(category.as_str())),
    }
    Value::Object(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_parts_follow_the_schema_pattern() {
        assert_eq!(tag_part("Synergia II").as_deref(), Some("synergia-ii"));
        assert_eq!(tag_part("-Quak.bot").as_deref(), Some("quak-bot"));
        assert_eq!(tag_part("..."), None);
    }
}
