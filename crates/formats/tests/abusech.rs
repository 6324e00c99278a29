//! abuse.ch: Feodo Tracker, URLhaus and ThreatFox, CSV and JSON.

use cordon_formats::{Format, FormatError, Options};
use cordon_model::{parse_timestamp, Category};

use std::path::Path;

use cordon_formats::detect_bytes;

use crate::util::{parse_bytes, parse_fixture, try_parse_fixture};

#[test]
fn feodo_csv_rows_are_c2_with_port_family_and_dates() {
    let parsed = parse_fixture(Format::FeodoCsv, "feodo.csv");
    assert_eq!(parsed.observables(), ["45.156.128.232", "47.251.78.116", "64.62.197.140", "82.156.116.86"]);
    let qakbot = parsed.record("45.156.128.232");
    assert_eq!(qakbot.line, 10);
    assert_eq!(qakbot.attributes.category, Some(Category::C2));
    assert_eq!(qakbot.attributes.port, Some(443));
    assert_eq!(qakbot.attributes.malware.as_deref(), Some("QakBot"));
    assert_eq!(qakbot.attributes.first_seen, parse_timestamp("2024-03-11 18:22:14"));
    assert_eq!(qakbot.attributes.last_seen, parse_timestamp("2024-04-19"));
    assert_eq!(parsed.record("82.156.116.86").attributes.category, Some(Category::Ransomware));
    assert!(parsed.rejected.is_empty() && parsed.warnings.is_empty(), "{parsed:?}");
}

#[test]
fn feodo_csv_broken_rows() {
    let parsed = parse_fixture(Format::FeodoCsv, "feodo_broken.csv");
    assert_eq!(parsed.observables(), ["45.156.128.232", "82.156.116.86"]);
    let rejected: Vec<u64> = parsed.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(rejected, [3, 4, 5]);
    assert_eq!(parsed.rejected[0].1, "dst_ip: '47.251.78.300' is not an IP address");
    assert_eq!(parsed.rejected[1].1, "no value in 'dst_ip'");
    assert!(parsed.rejected[2].1.contains("not closed"));
    assert_eq!(parsed.warnings, [(6, "port '70000' is not a port number; ignored".to_string())]);
    assert_eq!(parsed.record("82.156.116.86").attributes.port, None);
}

#[test]
fn feodo_csv_without_header_is_a_layout_error() {
    let err = try_parse_fixture(Format::FeodoCsv, "feodo_noheader.csv", &Options::default());
    assert!(matches!(&err, Err(FormatError::Layout { format: Format::FeodoCsv, .. })), "{err:?}");
    let message = err.map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("line 3") && message.contains("dst_ip"), "{message}");
}

#[test]
fn feodo_json_objects_by_index() {
    let parsed = parse_fixture(Format::FeodoJson, "feodo_ipblocklist.json");
    assert_eq!(parsed.observables(), ["45.156.128.232", "64.62.197.140"]);
    assert_eq!(parsed.record("45.156.128.232").attributes.port, Some(443));
    let redline = parsed.record("64.62.197.140");
    assert_eq!((redline.line, redline.attributes.category), (2, Some(Category::Infostealer)));
    assert_eq!(
        parsed.rejected[0],
        (3, "ip_address: 'not-an-ip.999' is not a valid domain name (numeric top-level label)".to_string())
    );
    assert_eq!(parsed.rejected[1], (4, "no value in 'ip_address'".to_string()));
}

#[test]
fn truncated_json_is_a_layout_error() {
    for (format, name) in
        [(Format::FeodoJson, "feodo_truncated.json"), (Format::PhishtankJson, "phishtank_truncated.json")]
    {
        let err = try_parse_fixture(format, name, &Options::default()).map(|_| ());
        assert!(matches!(&err, Err(FormatError::Layout { .. })), "{name}: {err:?}");
        assert!(err.unwrap_err().to_string().contains("JSON does not parse"));
    }
}

#[test]
fn urlhaus_csv_rows_are_malware_distribution() {
    let parsed = parse_fixture(Format::UrlhausCsv, "urlhaus.csv");
    assert_eq!(
        parsed.observables(),
        [
            "http://116.110.153.43:42260/i",
            "http://150.107.38.220/bins/sora.arm7",
            "https://cdn-files.example/update/LockBit.exe",
        ]
    );
    let mozi = parsed.record("http://116.110.153.43:42260/i");
    assert_eq!(mozi.line, 10);
    assert_eq!(mozi.attributes.category, Some(Category::MalwareDistribution));
    assert_eq!(mozi.attributes.label.as_deref(), Some("malware_download"));
    assert_eq!(mozi.attributes.first_seen, parse_timestamp("2024-04-25 10:04:07"));
    let sightings: Vec<String> = mozi.sightings().iter().map(|s| s.observable.to_string()).collect();
    assert_eq!(sightings, ["http://116.110.153.43:42260/i", "116.110.153.43"], "the URL's host is the server");
    let lockbit = parsed.record("https://cdn-files.example/update/LockBit.exe");
    assert_eq!(lockbit.attributes.category, Some(Category::Ransomware));
    assert_eq!(lockbit.attributes.malware.as_deref(), Some("LockBit"));
    assert_eq!(parsed.rejected.len(), 1);
    assert_eq!(parsed.rejected[0].0, 13);
}

#[test]
fn urlhaus_csv_host_and_ip_columns_become_links() {
    let parsed = parse_fixture(Format::UrlhausCsv, "urlhaus_hostip.csv");
    let record = parsed.record("http://dl.files-cdn.example/a.bin");
    let links: Vec<String> = record.links.iter().map(ToString::to_string).collect();
    assert_eq!(links, ["dl.files-cdn.example", "195.78.100.186"]);
    assert_eq!(record.attributes.category, Some(Category::Infostealer), "Vidar tag");
}

#[test]
fn urlhaus_json_api_answer() {
    let parsed = parse_fixture(Format::UrlhausJson, "urlhaus_api.json");
    assert_eq!(parsed.observables(), ["http://116.110.153.43:42260/i", "https://cdn-files.example/update/setup.exe"]);
    let lumma = parsed.record("https://cdn-files.example/update/setup.exe");
    assert_eq!((lumma.line, lumma.attributes.category), (2, Some(Category::Infostealer)));
    assert_eq!(lumma.attributes.first_seen, parse_timestamp("2024-04-25 09:58:40"));
    assert_eq!(parsed.rejected, [(3, "no value in 'url'".to_string())]);
}

#[test]
fn threatfox_json_types_categories_and_skips() {
    let parsed = parse_fixture(Format::ThreatfoxJson, "threatfox.json");
    assert_eq!(parsed.observables(), ["18.97.9.102", "stealer-panel.example", "http://35.203.211.183/payload.bin"]);
    let cobalt = parsed.record("18.97.9.102");
    assert_eq!(cobalt.line, 1);
    assert_eq!(cobalt.attributes.port, Some(443));
    assert_eq!(cobalt.attributes.category, Some(Category::C2));
    assert_eq!(cobalt.attributes.confidence, Some(100));
    assert_eq!(cobalt.attributes.malware.as_deref(), Some("Cobalt Strike"));
    assert_eq!(cobalt.attributes.label.as_deref(), Some("botnet_cc"));
    let lumma = parsed.record("stealer-panel.example");
    assert_eq!((lumma.attributes.category, lumma.attributes.confidence), (Some(Category::Infostealer), Some(75)));
    let payload = parsed.record("http://35.203.211.183/payload.bin");
    assert_eq!(payload.attributes.category, Some(Category::MalwareDistribution));
    assert_eq!(payload.attributes.malware, None, "'Unknown malware' is no family");
    assert_eq!(parsed.skipped, [(4, "not-network:sha256_hash".to_string())]);
    assert_eq!(parsed.rejected, [(5, "'45.156.129.300' is not an IP address (ioc_type ip:port)".to_string())]);
}

#[test]
fn threatfox_csv_matches_json() {
    let parsed = parse_fixture(Format::ThreatfoxCsv, "threatfox.csv");
    assert_eq!(parsed.observables(), ["18.97.9.102", "stealer-panel.example"]);
    assert_eq!(parsed.record("18.97.9.102").attributes.port, Some(443));
    assert_eq!(parsed.record("18.97.9.102").line, 10);
    assert_eq!(parsed.record("stealer-panel.example").attributes.category, Some(Category::Infostealer));
    assert_eq!(parsed.skipped, [(12, "not-network:sha256_hash".to_string())]);
    assert_eq!(parsed.rejected.len(), 1);
    assert_eq!(parsed.rejected[0].0, 13);
}

#[test]
fn threatfox_api_answer_is_read_too() {
    let input =
        br#"{"query_status": "ok", "data": [{"id": "1264125", "ioc": "18.97.9.102:443", "threat_type": "botnet_cc",
        "ioc_type": "ip:port", "malware_printable": "RedLine Stealer", "confidence_level": 90,
        "first_seen": "2024-04-25 09:41:12 UTC", "last_seen": null}]}"#;
    assert_eq!(detect_bytes(Path::new("-"), input).ok(), Some(Format::ThreatfoxJson));
    let parsed = parse_bytes(Format::ThreatfoxJson, input, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let record = parsed.record("18.97.9.102");
    assert_eq!(record.attributes.category, Some(Category::Infostealer));
    assert_eq!(record.attributes.first_seen, parse_timestamp("2024-04-25 09:41:12"));
    assert_eq!((record.attributes.port, record.attributes.confidence), (Some(443), Some(90)));
}

#[test]
fn urlhaus_json_dump_keyed_by_id() {
    let input = br#"{"2840234": [{"dateadded": "2024-04-25 10:04:07 UTC", "url": "http://116.110.153.43:42260/i",
        "url_status": "online", "last_online": "2024-04-25 10:04:07 UTC", "threat": "malware_download",
        "tags": ["Mozi"], "urlhaus_link": "https://urlhaus.abuse.ch/url/2840234/", "reporter": "r"}],
        "2840235": [{"url": "hxxp://bad", "url_status": "online"}]}"#;
    assert_eq!(detect_bytes(Path::new("-"), input).ok(), Some(Format::UrlhausJson));
    let parsed = parse_bytes(Format::UrlhausJson, input, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.observables(), ["http://116.110.153.43:42260/i"]);
    assert_eq!(parsed.records[0].attributes.last_seen, parse_timestamp("2024-04-25 10:04:07"));
    assert_eq!(parsed.rejected.len(), 1);
    assert_eq!(parsed.rejected[0].0, 2);
}
