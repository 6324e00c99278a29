//! Naming the format of an input from its first bytes (and, for a few cases
//! content cannot settle, its name).
//!
//! The rules, tried in this order on at most [`DETECT_LIMIT`] bytes:
//!
//! * a directory with a `manifest.json` is a MISP feed;
//! * input starting with `{` or `[` is JSON, told apart by its keys:
//!   `"type": "bundle"` → STIX; first key `"Event"`, first key `"response"`
//!   over MISP members (restSearch), or `Attribute` beside `Event`, `Object`
//!   or `info` (a bare event) → MISP;
//!   `phish_id` → PhishTank; dotted IntelMQ keys (`classification.type`,
//!   `source.ip`, `feed.name`, …), or a `source` object beside
//!   `classification` or `feed` (hierarchical events) → IntelMQ; `ioc_value`, or `ioc_type` with
//!   `threat_type` → ThreatFox;
//!   `url_status`, or `urls` with `query_status` → URLhaus; an array with
//!   `ip_address` and `last_online` or `malware` → Feodo; `cidr` with `sblid`
//!   → Spamhaus DROP JSON; `asn` with `asname` or `rir` → ASN-DROP;
//! * otherwise text. A `#` comment line naming the abuse.ch columns decides:
//!   `ioc_value` → ThreatFox CSV, `dst_ip` → Feodo CSV, `url_status` or
//!   `urlhaus_link` → URLhaus CSV; a first row naming `dst_ip` and
//!   `c2_status` (the uncommented header), or a comment naming Feodo Tracker
//!   over lines of one value each (the IP-only list) → Feodo CSV; a comment
//!   naming IPsum, or data lines that are all `address<TAB>count`, → IPsum;
//!   data lines that are all `ASnnn ; …` → ASN-DROP (legacy text); a comment
//!   naming Spamhaus, or `CIDR ; SBLnnn` lines, → Spamhaus DROP;
//! * a first line that is a header naming a known column (`ip`, `url`,
//!   `domain`, `indicator`, …; see the CSV parser) → CSV;
//! * lines of one indicator each (at least 80% of them) → plain list; OpenPhish is a plain list of
//!   URLs that content cannot tell from an analyst's list, so it is chosen
//!   only when the file name contains `openphish`;
//! * other lines of several cells are CSV only when the name ends in `.csv`
//!   or `.tsv` (the CSV parser then asks for a column mapping).
//!
//! Anything else is [`FormatError::Unrecognized`].

use std::fs::File;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use crate::plain::strip_comment;
use crate::{delimited, spamhaus};
use crate::{Format, FormatError};

/// How many bytes of an input detection reads (64 KiB).
pub const DETECT_LIMIT: usize = 64 * 1024;

/// How many lines of text detection looks at.
const SAMPLE_LINES: usize = 100;

/// Detects the format of the file or directory at `path`.
pub(crate) fn detect(path: &Path) -> Result<Format, FormatError> {
    let io = |source| FormatError::Io { path: path.to_path_buf(), source };
    if path.is_dir() {
        if path.join("manifest.json").is_file() {
            return Ok(Format::MispFeed);
        }
        return Err(FormatError::Unrecognized { path: path.to_path_buf(), tried: vec![Format::MispFeed.name()] });
    }
    let mut head = Vec::with_capacity(DETECT_LIMIT);
    File::open(path).map_err(io)?.take(DETECT_LIMIT as u64).read_to_end(&mut head).map_err(io)?;
    detect_bytes(path, &head)
}

/// Detects the format of an input from its first bytes; `name` is used for
/// the few name-based rules and in errors.
pub(crate) fn detect_bytes(name: &Path, head: &[u8]) -> Result<Format, FormatError> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let unrecognized = || FormatError::Unrecognized {
        path: name.to_path_buf(),
        tried: Format::ALL.iter().filter(|f| **f != Format::MispFeed).map(|f| f.name()).collect(),
    };
    if head.contains(&0) {
        return Err(unrecognized());
    }
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with(['{', '[']) {
        return detect_json(trimmed).ok_or_else(unrecognized);
    }
    // The last line may be cut short when the head is full.
    let complete = if head.len() >= DETECT_LIMIT { text.rsplit_once('\n').map_or("", |(c, _)| c) } else { &text };
    detect_text(name, complete).ok_or_else(unrecognized)
}

fn detect_json(text: &str) -> Option<Format> {
    let first_key_is = |key: &str| {
        text.strip_prefix('{')
            .and_then(|rest| rest.trim_start().strip_prefix('"'))
            .and_then(|rest| rest.strip_prefix(key))
            .is_some_and(|rest| rest.starts_with('"'))
    };
    let misp_members = has_key(text, "Attribute") || has_key(text, "Object");
    let misp = first_key_is("Event")
        || (first_key_is("response") && (misp_members || has_key(text, "Event")))
        || (has_key(text, "Attribute") && ["Event", "Object", "info"].iter().any(|k| has_key(text, k)));
    let intelmq_keys = ["classification.type", "classification.taxonomy", "source.ip", "source.fqdn", "source.url"];
    let format = if string_value_is(text, "type", "bundle") {
        Format::Stix
    } else if misp {
        Format::Misp
    } else if has_key(text, "phish_id") {
        Format::PhishtankJson
    } else if intelmq_keys.iter().any(|k| has_key(text, k))
        || (has_key(text, "feed.name") && has_key(text, "time.observation"))
        || (key_values(text, "source").any(|v| v.starts_with('{'))
            && (has_key(text, "classification") || has_key(text, "feed")))
    {
        Format::Intelmq
    } else if has_key(text, "ioc_value") || (has_key(text, "ioc_type") && has_key(text, "threat_type")) {
        Format::ThreatfoxJson
    } else if has_key(text, "url_status") || (has_key(text, "urls") && has_key(text, "query_status")) {
        Format::UrlhausJson
    } else if text.starts_with('[')
        && has_key(text, "ip_address")
        && (has_key(text, "last_online") || has_key(text, "malware"))
    {
        Format::FeodoJson
    } else if has_key(text, "cidr") && has_key(text, "sblid") {
        Format::SpamhausDropJson
    } else if has_key(text, "asn") && (has_key(text, "asname") || has_key(text, "rir")) {
        Format::SpamhausAsnDrop
    } else {
        return None;
    };
    Some(format)
}

/// True when `"key"` occurs as an object key (followed by `:`).
fn has_key(text: &str, key: &str) -> bool {
    key_values(text, key).next().is_some()
}

/// True when some `"key": "value"` occurs.
fn string_value_is(text: &str, key: &str, value: &str) -> bool {
    key_values(text, key)
        .any(|rest| rest.strip_prefix('"').and_then(|r| r.strip_prefix(value)).is_some_and(|r| r.starts_with('"')))
}

/// What follows each `"key":` in `text`, whitespace skipped.
fn key_values<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let quoted = format!("\"{key}\"");
    let ends: Vec<usize> = text.match_indices(&quoted).map(|(at, m)| at + m.len()).collect();
    ends.into_iter().filter_map(move |end| text[end..].trim_start().strip_prefix(':').map(str::trim_start))
}

fn detect_text(name: &Path, text: &str) -> Option<Format> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).take(SAMPLE_LINES).collect();
    let comments: Vec<String> =
        lines.iter().filter(|l| l.starts_with(['#', ';'])).map(|l| l.to_ascii_lowercase()).collect();
    let data: Vec<&str> = lines.iter().copied().filter(|l| !l.starts_with(['#', ';'])).collect();
    let in_comments = |needle: &str| comments.iter().any(|c| c.starts_with('#') && c.contains(needle));
    if in_comments("ioc_value") {
        return Some(Format::ThreatfoxCsv);
    }
    let first_row = data.first().map(|l| l.to_ascii_lowercase()).unwrap_or_default();
    let feodo_header = first_row.contains("dst_ip") && first_row.contains("c2_status");
    let feodo_ip_list = in_comments("feodo tracker") && data.iter().all(|l| is_single_value(l));
    if in_comments("dst_ip") || feodo_header || feodo_ip_list {
        return Some(Format::FeodoCsv);
    }
    if in_comments("url_status") || in_comments("urlhaus_link") {
        return Some(Format::UrlhausCsv);
    }
    if in_comments("ipsum") || (!data.is_empty() && data.iter().all(|l| is_ipsum_line(l))) {
        return Some(Format::Ipsum);
    }
    if !data.is_empty() && data.iter().all(|l| l.split(';').next().is_some_and(spamhaus::is_asn)) {
        return Some(Format::SpamhausAsnDrop);
    }
    let spamhaus_comment = comments.iter().any(|c| c.starts_with(';') && c.contains("spamhaus"));
    if spamhaus_comment || (!data.is_empty() && data.iter().all(|l| is_drop_line(l))) {
        return Some(Format::SpamhausDrop);
    }
    let extension = name.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    if data.first().is_some_and(|first| delimited::is_header(first)) {
        return Some(Format::Csv);
    }
    // A few malformed entries (a pasted sentence) must not hide a plain list:
    // they are rejected per line when it is read.
    let single_values = data.iter().filter(|l| is_single_value(l)).count();
    if single_values * 5 >= data.len() * 4 {
        let file_name = name.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let all_urls = !data.is_empty() && data.iter().all(|l| l.contains("://"));
        return Some(if all_urls && file_name.contains("openphish") { Format::Openphish } else { Format::Plain });
    }
    matches!(extension.as_deref(), Some("csv" | "tsv")).then_some(Format::Csv)
}

fn is_ipsum_line(line: &str) -> bool {
    let mut fields = line.split('\t');
    let (Some(ip), Some(count), None) = (fields.next(), fields.next(), fields.next()) else {
        return false;
    };
    ip.trim().parse::<IpAddr>().is_ok() && !count.trim().is_empty() && count.trim().bytes().all(|b| b.is_ascii_digit())
}

fn is_drop_line(line: &str) -> bool {
    line.split_once(';').is_some_and(|(cidr, sbl)| cidr.trim().contains('/') && sbl.trim().starts_with("SBL"))
}

/// One indicator (possibly an `a - b` range), with an optional comment: no
/// cell delimiters (a `;` only inside a URL).
fn is_single_value(line: &str) -> bool {
    let value = strip_comment(line);
    if value.contains([',', '\t', '|']) || (value.contains(';') && !value.contains("://")) {
        return false;
    }
    let words: Vec<&str> = value.split_whitespace().collect();
    words.len() <= 1 || (words.len() == 3 && words[1] == "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_tolerate_whitespace() {
        assert!(string_value_is(r#"{ "type" :  "bundle", "id": "x"}"#, "type", "bundle"));
        assert!(!string_value_is(r#"{"type": "bundles"}"#, "type", "bundle"));
        assert!(has_key("{\n  \"ioc_value\"\t: 1}", "ioc_value"));
        assert!(!has_key(r#"{"x": "ioc_value"}"#, "ioc_value"));
    }

    #[test]
    fn binary_and_unknown_layouts_are_unrecognized() {
        let err = detect_bytes(Path::new("x.bin"), b"\x00\x01\x02").map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.contains("tried: stix")));
        assert!(detect_bytes(Path::new("x"), b"a b c\nd e f\n").is_err());
        assert!(detect_bytes(Path::new("x.json"), br#"{"hello": 1}"#).is_err());
    }
}
