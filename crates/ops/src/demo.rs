//! The demo's partner feeds, generated deterministically from a list of
//! real addresses (a committed IPsum slice).
//!
//! Four partners, four formats, realistic overlap: every address goes to a
//! subset of partners chosen by a hash of the address, so the same input
//! always gives the same feeds. Categories, malware families, ports, dates
//! and TLP are **simulated** (IPsum says only how many blocklists list an
//! address); URLs use the address as host, so no real domain is named.
//! Every sighting is dated in the operation's first twelve days
//! ([`EVIDENCE_DAYS`]), before the demo builds its targets (day 14), so no
//! package or message shows evidence newer than itself and every sighting
//! lies in the operation's window.
//!
//! | partner          | format        | TLP                         |
//! |------------------|---------------|-----------------------------|
//! | `kestrel-cert`   | CSV (address and dates) | CLEAR             |
//! | `harbor-labs`    | CSV           | GREEN, some AMBER (no consent) |
//! | `ostrich-intelmq`| IntelMQ JSONL | GREEN                       |
//! | `lantern-isac`   | STIX 2.1      | AMBER (consent), some RED   |

use std::fmt::Write as _;

use cordon_model::{format_timestamp, Timestamp, Tlp};
use serde_json::json;

/// The sightings' first and last seen lie in the first `EVIDENCE_DAYS`
/// days of the window.
pub const EVIDENCE_DAYS: i64 = 12;

/// One generated feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoFeed {
    /// The partner (source) name.
    pub source: &'static str,
    /// The file name to write it under.
    pub file: &'static str,
    /// The format name (`cordon ingest --format`).
    pub format: &'static str,
    /// The TLP of records that carry none.
    pub default_tlp: Tlp,
    /// Whether the partner consents to share its AMBER sightings.
    pub share_amber: bool,
    /// The feed's content.
    pub text: String,
    /// Records in it.
    pub records: usize,
}

/// What the demo's truth says about one address.
struct Profile {
    category: &'static str,
    family: Option<&'static str>,
    intelmq_type: &'static str,
    port: u16,
    first_seen: Timestamp,
    last_seen: Timestamp,
}

/// FNV-1a, for stable per-address choices.
pub fn stable_hash(text: &str, salt: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^ (hash >> 29)
}

/// A number in `0..100` for `text`, independent for each salt.
pub fn percentile(text: &str, salt: u64) -> u64 {
    stable_hash(text, salt) % 100
}

const CATEGORIES: [(&str, &str, u64, &[&str]); 7] = [
    ("phishing", "phishing", 25, &[]),
    ("c2", "c2-server", 20, &["Cobalt Strike", "Sliver", "QakBot"]),
    ("infostealer", "infected-system", 15, &["LummaC2", "RedLine", "Vidar"]),
    ("malware-distribution", "malware-distribution", 15, &["AsyncRAT", "Remcos"]),
    ("ransomware", "c2-server", 5, &["LockBit", "Akira"]),
    ("botnet", "infected-system", 10, &["Mirai"]),
    ("spam", "spam", 10, &[]),
];

fn profile(ip: &str, window_start: Timestamp) -> Profile {
    let mut pick = percentile(ip, 1);
    let mut chosen = CATEGORIES[0];
    for entry in CATEGORIES {
        if pick < entry.2 {
            chosen = entry;
            break;
        }
        pick -= entry.2;
    }
    let family = (!chosen.3.is_empty()).then(|| chosen.3[stable_hash(ip, 2) as usize % chosen.3.len()]);
    let port = match chosen.0 {
        "phishing" | "malware-distribution" => [80, 443, 8080][stable_hash(ip, 3) as usize % 3],
        "spam" => 25,
        _ => [443, 8443, 2222, 4444][stable_hash(ip, 3) as usize % 4],
    };
    let span = (EVIDENCE_DAYS * 86_400) as u64;
    let first_seen = window_start + (stable_hash(ip, 4) % (span - 86_400)) as i64;
    let last_seen = first_seen + (stable_hash(ip, 5) % 86_400) as i64;
    Profile { category: chosen.0, family, intelmq_type: chosen.1, port, first_seen, last_seen }
}

/// The addresses of an IPsum file (`IP<TAB>count` lines, `#` comments).
pub fn ipsum_addresses(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|ip| !ip.is_empty())
        .collect()
}

/// The four partner feeds over `addresses`, first seen from `window_start`.
pub fn feeds(addresses: &[&str], window_start: Timestamp) -> Vec<DemoFeed> {
    let mut plain = String::from("ip,first_seen,last_seen\n");
    let mut csv = String::from("ip,category,malware,tlp,first_seen,last_seen,port\n");
    let mut intelmq = String::new();
    let mut stix = Vec::new();
    let mut counts = [0usize; 4];
    for ip in addresses {
        let p = profile(ip, window_start);
        let mut members =
            [percentile(ip, 11) < 45, percentile(ip, 12) < 40, percentile(ip, 13) < 35, percentile(ip, 14) < 25];
        if !members.iter().any(|m| *m) {
            members[0] = true;
        }
        if members[0] {
            let _ = writeln!(plain, "{ip},{},{}", format_timestamp(p.first_seen), format_timestamp(p.last_seen));
            counts[0] += 1;
        }
        if members[1] {
            let tlp = if percentile(ip, 21) < 25 { "amber" } else { "green" };
            let _ = writeln!(
                csv,
                "{ip},{},{},{tlp},{},{},{}",
                p.category,
                p.family.unwrap_or(""),
                format_timestamp(p.first_seen),
                format_timestamp(p.last_seen),
                p.port
            );
            counts[1] += 1;
        }
        if members[2] {
            let mut event = json!({
                "source.ip": ip, "source.port": p.port, "classification.type": p.intelmq_type,
                "time.source": format_timestamp(p.first_seen), "feed.accuracy": 80, "tlp": "GREEN",
            });
            if let Some(family) = p.family {
                event["malware.name"] = json!(family.to_ascii_lowercase());
            }
            if matches!(p.category, "phishing" | "malware-distribution") {
                let path = if p.category == "phishing" { "login/verify.php" } else { "bins/payload.bin" };
                event["source.url"] = json!(format!("http://{ip}:{}/{path}", p.port));
            }
            let _ = writeln!(intelmq, "{event}");
            counts[2] += 1;
        }
        if members[3] {
            let tlp = if percentile(ip, 31) < 6 { Tlp::Red } else { Tlp::Amber };
            stix.push((*ip, p, tlp));
            counts[3] += 1;
        }
    }
    vec![
        DemoFeed {
            source: "kestrel-cert",
            file: "kestrel-cert.csv",
            format: "csv",
            default_tlp: Tlp::Clear,
            share_amber: false,
            text: plain,
            records: counts[0],
        },
        DemoFeed {
            source: "harbor-labs",
            file: "harbor-labs.csv",
            format: "csv",
            default_tlp: Tlp::Green,
            share_amber: false,
            text: csv,
            records: counts[1],
        },
        DemoFeed {
            source: "ostrich-intelmq",
            file: "ostrich-intelmq.jsonl",
            format: "intelmq",
            default_tlp: Tlp::Green,
            share_amber: false,
            text: intelmq,
            records: counts[2],
        },
        DemoFeed {
            source: "lantern-isac",
            file: "lantern-isac.stix.json",
            format: "stix",
            default_tlp: Tlp::Amber,
            share_amber: true,
            text: stix_bundle(&stix),
            records: counts[3],
        },
    ]
}

fn uuid_for(kind: &str, text: &str) -> String {
    let a = stable_hash(text, 41);
    let b = stable_hash(text, 42);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    format!("{kind}--{}", uuid::Builder::from_random_bytes(bytes).into_uuid())
}

fn stix_bundle(items: &[(&str, Profile, Tlp)]) -> String {
    let stamp = |ts| format!("{}.000Z", format_timestamp(ts).trim_end_matches('Z'));
    let mut objects = Vec::new();
    let mut families = std::collections::BTreeMap::new();
    for (ip, p, tlp) in items {
        let indicator = uuid_for("indicator", ip);
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": indicator,
            "created": stamp(p.first_seen), "modified": stamp(p.last_seen),
            "name": format!("{} server", p.category), "indicator_types": ["malicious-activity"],
            "pattern": format!("[ipv4-addr:value = '{ip}']"), "pattern_type": "stix",
            "valid_from": stamp(p.first_seen), "labels": [p.category], "confidence": 85,
            "object_marking_refs": [tlp.stix_marking_id()],
        }));
        if let Some(family) = p.family {
            let malware = families.entry(family).or_insert_with(|| uuid_for("malware", family)).clone();
            objects.push(json!({
                "type": "relationship", "spec_version": "2.1", "id": uuid_for("relationship", ip),
                "created": stamp(p.first_seen), "modified": stamp(p.first_seen), "relationship_type": "indicates",
                "source_ref": indicator, "target_ref": malware, "object_marking_refs": [tlp.stix_marking_id()],
            }));
        }
    }
    for (family, id) in families {
        objects.push(json!({
            "type": "malware", "spec_version": "2.1", "id": id, "created": "2024-04-01T00:00:00.000Z",
            "modified": "2024-04-01T00:00:00.000Z", "name": family, "is_family": true,
        }));
    }
    let bundle = json!({"type": "bundle", "id": uuid_for("bundle", "lantern-isac"), "objects": objects});
    serde_json::to_string_pretty(&bundle).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_every_address_in_some_feed() {
        let ips: Vec<String> = (0..200).map(|i| format!("45.148.{}.{}", i / 50, i % 250)).collect();
        let refs: Vec<&str> = ips.iter().map(String::as_str).collect();
        let a = feeds(&refs, 1_711_929_600);
        assert_eq!(a, feeds(&refs, 1_711_929_600));
        for ip in &refs {
            assert!(a.iter().any(|f| f.text.contains(&format!("{ip}\n"))
                || f.text.contains(&format!("{ip},"))
                || f.text.contains(&format!("\"{ip}\""))
                || f.text.contains(&format!("'{ip}'"))));
        }
        let total: usize = a.iter().map(|f| f.records).sum();
        assert!(total > refs.len(), "feeds overlap");
    }
}
