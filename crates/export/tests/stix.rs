//! The STIX bundle passes the OASIS validator (PyPI `stix2-validator`).

use cordon_export::Format;

use crate::fixture::{export, run};

#[test]
fn bundle_passes_stix2_validator() {
    let (text, _) = export(Format::Stix);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, &text).expect("the bundle is written");
    let out = run("stix2_validator", &[], &file);
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "stix2_validator failed:\n{report}");
    assert!(report.contains("[+]") && !report.contains("[X]"), "stix2_validator reported errors:\n{report}");
    // Ids are UUIDv5 by design (stable exports); every other warning fails.
    let warnings: Vec<&str> = report.lines().filter(|l| l.contains("[!]") && !l.contains("{103}")).collect();
    assert!(warnings.is_empty(), "stix2_validator reported warnings:\n{report}");
}

#[test]
fn bundle_is_json_with_one_indicator_per_entry() {
    let (text, summary) = export(Format::Stix);
    let bundle: serde_json::Value = serde_json::from_str(&text).expect("the bundle is JSON");
    let objects = bundle["objects"].as_array().expect("objects");
    let indicators = objects.iter().filter(|o| o["type"] == "indicator").count() as u64;
    assert_eq!(indicators, summary.total());
    let markings: Vec<&str> =
        objects.iter().filter(|o| o["type"] == "marking-definition").filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(markings, ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"]);
    let quoted = objects.iter().find(|o| o["name"] == "http://secure-login.bank-verify.top/it's/login.php");
    assert_eq!(
        quoted.map(|o| o["pattern"].clone()),
        Some(serde_json::json!("[url:value = 'http://secure-login.bank-verify.top/it\\'s/login.php']"))
    );
}
