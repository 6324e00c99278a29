//! Action packages: the TLP rule, the manifest, STIX validity, referral;
//! and the operation report built on the same fixture.

mod common;

use std::path::Path;

use cordon_model::Consent;
use cordon_model::{Category, Tlp};
use cordon_ops::package::{
    build_packages, build_packages_with, files, sha256, Layout, FILES, LARGE_FILES, LARGE_PACKAGE,
};
use cordon_ops::report;
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{OpsStore, Outcome, TargetFilter, TargetState};
use cordon_store::orgs::OrgStore;
use cordon_store::SqliteStore;
use serde_json::Value;

/// Partner `open` shares GREEN/CLEAR, `consenting` AMBER with consent,
/// `private` AMBER without consent and one RED sighting.
fn fixture(db: &Path) -> (SqliteStore, cordon_store::ops::Operation) {
    let store = SqliteStore::open(db).unwrap();
    let rec = common::record;
    common::import(
        &store,
        "open",
        &[
            rec("http://evil.example/login", &["80.94.95.112"], Category::Phishing, Tlp::Green, None),
            rec("45.148.10.7", &[], Category::C2, Tlp::Clear, Some("LockBit")),
        ],
    );
    common::import(&store, "consenting", &[rec("45.148.10.7", &[], Category::C2, Tlp::Amber, Some("Cobalt'Strike"))]);
    common::import(
        &store,
        "private",
        &[
            rec("80.94.95.112", &[], Category::Botnet, Tlp::Amber, None),
            rec("193.47.62.69", &[], Category::C2, Tlp::Red, None),
            rec("2.57.122.53", &[], Category::Spam, Tlp::AmberStrict, None),
        ],
    );
    assert!(store.set_consent("consenting", Consent { agencies: true, providers: false }).unwrap());
    for (ip, cc) in [("80.94.95.112", "RO"), ("45.148.10.7", "NL"), ("193.47.62.69", "NL"), ("2.57.122.53", "RO")] {
        common::enrich(db, ip, cc, 64500, "");
    }
    triaged(store)
}

/// `store`'s operation with its targets built and triaged.
fn triaged(store: SqliteStore) -> (SqliteStore, cordon_store::ops::Operation) {
    let op = common::operation(&store);
    let actor = Actor::new("analyst", common::T0 + 86_400, "");
    common::build(&store, &op, &actor);
    let all = store.targets(&TargetFilter::default()).unwrap();
    transition(&store, &all, TargetState::Triaged, None, &actor).unwrap();
    (store, op)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn packages_respect_tlp_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let (store, op) = fixture(&db);
    let out = dir.path().join("packages");
    let summary = build_packages(&store, &op, None, &out, &Actor::new("a", common::T0 + 2 * 86_400, "")).unwrap();
    let countries: Vec<&str> = summary.packages.iter().map(|p| p.country.as_str()).collect();
    assert_eq!(countries, ["NL", "RO"]);
    // 193.47.62.69 (RED only) and 2.57.122.53 (AMBER+STRICT, no consent) are withheld.
    assert_eq!(summary.withheld_targets, 2);
    assert_eq!(summary.referred, 2);

    for package in &summary.packages {
        let manifest = read_json(&package.dir.join("manifest.json"));
        let listed: Vec<&str> =
            manifest["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(listed, &FILES[..4]);
        for file in manifest["files"].as_array().unwrap() {
            let bytes = std::fs::read(package.dir.join(file["name"].as_str().unwrap())).unwrap();
            assert_eq!(file["sha256"].as_str().unwrap(), sha256(&bytes));
        }
        // The TLP rule, checked against the store: every sighting in the
        // package is one the rule allows, and none it forbids slipped in.
        let report = read_json(&package.dir.join("report.json"));
        for target in report["targets"].as_array().unwrap() {
            for e in target["evidence"].as_array().unwrap() {
                let tlp: Tlp = e["tlp"].as_str().unwrap().parse().unwrap();
                let consent = e["source"] == "consenting";
                let allowed = matches!(tlp, Tlp::Clear | Tlp::Green) || (tlp == Tlp::Amber && consent);
                assert!(allowed, "{e} must not be shared");
            }
        }
        let all_text: String =
            FILES.iter().map(|f| std::fs::read_to_string(package.dir.join(f)).unwrap()).collect::<Vec<_>>().join("\n");
        assert!(!all_text.contains("193.47.62.69") && !all_text.contains("2.57.122.53"));
        assert!(!all_text.contains("\"private\""), "no sighting of the non-consenting partner is shared");
        assert!(!all_text.contains("e828b379"), "no TLP:RED marking");
        validate_stix(&package.dir.join("bundle.stix.json"));
    }
    // Regression (issue 9): the RO target 80.94.95.112 is a botnet only by
    // the non-consenting partner's AMBER sighting; its package's chart and
    // STIX infrastructure type come from the shared (GREEN phishing)
    // sightings alone.
    for file in ["report.html", "bundle.stix.json", "targets.csv", "report.json"] {
        let text = std::fs::read_to_string(out.join("RO").join(file)).unwrap();
        assert!(!text.contains("botnet"), "RO/{file} names the withheld sighting's category");
    }
    let nl = read_json(&out.join("NL/report.json"));
    let sources: Vec<&str> =
        nl["targets"][0]["evidence"].as_array().unwrap().iter().map(|e| e["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["consenting", "open"], "AMBER with consent is shared");
    let states: Vec<TargetState> = store.targets(&TargetFilter::default()).unwrap().iter().map(|t| t.state).collect();
    assert_eq!(states.iter().filter(|s| **s == TargetState::Referred).count(), 2);
}

fn validate_stix(path: &Path) {
    let output = std::process::Command::new("stix2_validator")
        .arg(path)
        .output()
        .expect("stix2_validator must be installed (pip install stix2-validator)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && !text.contains("[X]"), "{}: {text}", path.display());
}

#[test]
fn report_figures_and_self_contained_html() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let (store, op) = fixture(&db);
    let actor = |hours: i64| Actor::new("a", common::T0 + 86_400 + hours * 3600, "");
    let all = store.targets(&TargetFilter::default()).unwrap();
    transition(&store, &all[..1], TargetState::Referred, None, &actor(1)).unwrap();
    let first = store.targets(&TargetFilter { id: Some(all[0].id), ..TargetFilter::default() }).unwrap();
    transition(&store, &first, TargetState::TakenDown, None, &actor(10)).unwrap();
    let reject = store.targets(&TargetFilter { id: Some(all[1].id), ..TargetFilter::default() }).unwrap();
    let fp = Some(cordon_ops::lifecycle::RejectReason::FalsePositive);
    transition(&store, &reject, TargetState::Rejected, fp, &actor(2)).unwrap();
    for (kind, count) in [("arrest", 41), ("server-seized", 59)] {
        let outcome = Outcome {
            operation_id: op.id,
            country: "RO".into(),
            kind: kind.into(),
            count,
            date: common::T0,
            note: String::new(),
        };
        store.add_outcome(&outcome).unwrap();
    }
    let r = report::load(&store, &op).unwrap();
    assert_eq!(r.headline.suspicious_ips, 4);
    assert_eq!((r.headline.taken_down, r.headline.taken_down_percent), (1, 25.0));
    assert_eq!((r.headline.arrests, r.headline.servers_seized, r.headline.countries), (41, 59, 2));
    assert_eq!(r.median_hours_to_takedown, Some(10.0));
    assert_eq!(r.funnel[0], ("identified".to_string(), 4));
    assert!(r.headline_text.contains("4 suspicious IP addresses identified, 1 (25%) taken down"));
    let open = r.by_partner.iter().find(|p| p.partner == "open").unwrap();
    assert_eq!(open.reported, 2);
    let html = report::html(&r);
    assert!(html.contains("<svg") && html.contains("CC BY 4.0"));
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["headline"]["arrests"], 41);
}

/// `n` NL servers, each with one GREEN sighting (every other one of a
/// malware family), built into targets and triaged.
fn many(db: &Path, n: u8) -> (SqliteStore, cordon_store::ops::Operation) {
    let store = SqliteStore::open(db).unwrap();
    let records: Vec<_> = (1..=n)
        .map(|i| {
            let family = (i % 2 == 0).then_some("Emotet");
            common::record(&format!("45.148.10.{i}"), &[], Category::C2, Tlp::Green, family)
        })
        .collect();
    common::import(&store, "open", &records);
    for i in 1..=n {
        common::enrich(db, &format!("45.148.10.{i}"), "NL", 64500 + u32::from(i % 3), "");
    }
    triaged(store)
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text)
        .unwrap();
    text
}

/// Random STIX ids replaced, to compare two bundles.
fn without_ids(text: &str) -> String {
    let mut out = String::new();
    for piece in text.split("--") {
        // Each id is `type--uuid`: drop the 36 characters of the uuid.
        let keep = if out.is_empty() { piece } else { piece.get(36..).unwrap_or(piece) };
        out.push_str(keep);
        out.push('#');
    }
    out
}

/// Issue 12: a package above the threshold keeps its HTML to the first
/// targets with a link to the full CSV, and writes its big files
/// compressed; what they decompress to is what a small package holds, read
/// a page (here two targets) at a time or all at once.
#[test]
fn a_large_package_is_compressed_and_its_html_lists_the_first_targets() {
    let dir = tempfile::tempdir().unwrap();
    let actor = Actor::new("a", common::T0 + 2 * 86_400, "");
    let (store, op) = many(&dir.path().join("large.db"), 5);
    let layout = Layout { large: 3, html_targets: 2, page: 2 };
    let summary = build_packages_with(&store, &op, None, &dir.path().join("large"), &actor, &layout).unwrap();
    assert_eq!((summary.packages.len(), summary.referred), (1, 5));
    let large = &summary.packages[0].dir;
    let (plain_store, plain_op) = many(&dir.path().join("plain.db"), 5);
    let plain = build_packages(&plain_store, &plain_op, None, &dir.path().join("plain"), &actor).unwrap();
    let plain = &plain.packages[0].dir;

    let manifest = read_json(&large.join("manifest.json"));
    let listed: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(listed, &LARGE_FILES[..4]);
    for file in manifest["files"].as_array().unwrap() {
        let bytes = std::fs::read(large.join(file["name"].as_str().unwrap())).unwrap();
        assert_eq!(file["sha256"].as_str().unwrap(), sha256(&bytes));
        assert_eq!(file["bytes"].as_u64(), Some(bytes.len() as u64));
    }
    for name in FILES {
        assert_eq!(large.join(name).exists(), name == "report.html" || name == "manifest.json", "{name}");
    }
    assert!(!large.join(".bundle-refs").exists(), "the spool is removed");

    let csv = gunzip(&large.join("targets.csv.gz"));
    assert_eq!(csv, std::fs::read_to_string(plain.join("targets.csv")).unwrap());
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(rows.len(), 5);
    let report = gunzip(&large.join("report.json.gz"));
    assert_eq!(report, std::fs::read_to_string(plain.join("report.json")).unwrap());
    let bundle = gunzip(&large.join("bundle.stix.json.gz"));
    let parsed: Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(parsed["type"], "bundle");
    let objects = parsed["objects"].as_array().unwrap();
    let report_object = objects.iter().find(|o| o["type"] == "report").unwrap();
    for reference in report_object["object_refs"].as_array().unwrap() {
        assert!(objects.iter().any(|o| o["id"] == *reference), "{reference} is in the bundle");
    }
    assert_eq!(objects.iter().filter(|o| o["type"] == "infrastructure").count(), 5);
    let plain_bundle = std::fs::read_to_string(plain.join("bundle.stix.json")).unwrap();
    assert_eq!(without_ids(&bundle), without_ids(&plain_bundle));
    let unpacked = dir.path().join("bundle.stix.json");
    std::fs::write(&unpacked, &bundle).unwrap();
    validate_stix(&unpacked);

    let html = std::fs::read_to_string(large.join("report.html")).unwrap();
    assert_eq!(html.matches("<td>#").count(), 2, "the first two targets' rows");
    assert!(html.contains("<a href=\"targets.csv.gz\">targets.csv.gz</a>"));
    assert!(html.contains("5 targets"), "the summary counts them all");
    assert!(html.contains(">Emotet<"), "the family chart counts them all");
    let plain_html = std::fs::read_to_string(plain.join("report.html")).unwrap();
    assert_eq!(plain_html.matches("<td>#").count(), 5);
    assert!(!plain_html.contains("targets.csv.gz"));
}

#[test]
fn the_file_names_follow_the_threshold() {
    assert_eq!(files(LARGE_PACKAGE as u64), &FILES);
    assert_eq!(files(LARGE_PACKAGE as u64 + 1), &LARGE_FILES);
}
