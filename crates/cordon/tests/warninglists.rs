//! `cordon warninglists list|check` on the real MISP warninglists that
//! scripts/fetch-warninglists.sh fetches into data/warninglists (these
//! tests fail, not skip, without them), and `route`'s flags from them.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn real_lists() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/warninglists");
    assert!(dir.join("VERSION").is_file(), "run scripts/fetch-warninglists.sh: {} is missing", dir.display());
    dir
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let lists = real_lists().display().to_string();
    let mut all = vec!["--warninglists", lists.as_str()];
    all.extend_from_slice(args);
    common::cordon(&dir.join("cordon.db"), &all)
}

#[test]
fn check_names_the_lists_and_flags_of_each_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["warninglists", "check", "8.8.8.8", "hxxps://drive[.]google[.]com/file/d/x", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<Value> = common::stdout(&out).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["value"], "8.8.8.8");
    let flags = |answer: &Value| -> Vec<String> {
        answer["hits"].as_array().unwrap().iter().filter_map(|h| h["flag"].as_str().map(str::to_string)).collect()
    };
    assert!(flags(&answers[0]).contains(&"public-resolver".to_string()), "{:?}", answers[0]);
    assert_eq!(answers[1]["value"], "https://drive.google.com/file/d/x");
    assert!(flags(&answers[1]).contains(&"shared-platform".to_string()), "{:?}", answers[1]);

    let human = run(dir.path(), &["warninglists", "check", "qzxv-cordon-nonexistent.top"]);
    assert!(human.status.success());
    assert_eq!(common::stdout(&human), "qzxv-cordon-nonexistent.top\tin no warninglist\n");
}

#[test]
fn list_shows_every_list_with_its_class_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["warninglists", "list", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let view: Value = serde_json::from_str(&common::stdout(&out)).unwrap();
    let lists = view["lists"].as_array().unwrap();
    assert!(lists.len() >= 100, "{}", lists.len());
    let find = |needle: &str| lists.iter().find(|l| l["name"].as_str().unwrap().contains(needle)).unwrap();
    assert_eq!(find("LOTS")["flag"], "shared-platform");
    assert_eq!(find("Censys")["flag"], "research-scanner");
    assert_eq!(find("disposable")["flag"], Value::Null);

    let missing = common::cordon(
        &dir.path().join("cordon.db"),
        &["--warninglists", dir.path().join("none").to_str().unwrap(), "warninglists", "list"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("scripts/fetch-warninglists.sh"));
}

/// The small warninglists fixture in MISP's layout (real list names,
/// made-up entries), shared with cordon-enrich's tests.
fn fixture_lists() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../enrich/tests/fixtures/platform-lists").display().to_string()
}

/// The flag names `cordon show VALUE --json` reports.
fn shown_flags(dir: &Path, lists: &str, value: &str) -> Vec<String> {
    let out = common::cordon(&dir.join("cordon.db"), &["--warninglists", lists, "show", value, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_str(&common::stdout(&out)).unwrap();
    let flags = shown["flags"].as_array().cloned().unwrap_or_default();
    flags.iter().filter_map(|f| f["flag"].as_str().map(str::to_string)).collect()
}

#[test]
fn ingest_without_geo_data_records_the_flags_that_need_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lists = fixture_lists();
    let feed = d.join("feed.txt");
    std::fs::write(&feed, "8.8.8.8\nhttps://bit.ly/3xYz\n45.9.20.31\n").unwrap();
    let db = d.join("cordon.db");
    let ingest =
        common::cordon(&db, &["--warninglists", &lists, "ingest", feed.to_str().unwrap(), "--source", "a", "--json"]);
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    assert!(!d.join("cordon-geo.snap").exists(), "this test is about a store without geo data");
    let report: Value = serde_json::from_str(common::stdout(&ingest).lines().last().unwrap()).unwrap();
    assert_eq!(report["enrichment"]["geo"], false);
    assert_eq!(report["enrichment"]["flagged"]["public-resolver"], 1, "{report}");
    assert_eq!(report["enrichment"]["flagged"]["shared-platform"], 1, "bit.ly, the shortener's name: {report}");
    assert_eq!(shown_flags(d, &lists, "8.8.8.8"), ["public-resolver"]);
    assert_eq!(shown_flags(d, &lists, "bit.ly"), ["shared-platform"]);
    assert!(shown_flags(d, &lists, "https://bit.ly/3xYz").is_empty(), "a URL on a platform is not flagged for it");
    assert!(shown_flags(d, &lists, "45.9.20.31").is_empty());

    // The allowlist is applied, and lifted, without geo data too.
    let allow = |args: &[&str]| {
        let out = common::cordon(&db, &[&["--warninglists", lists.as_str(), "allow"], args].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    allow(&["add", "45.9.20.31", "--reason", "our own server"]);
    assert_eq!(shown_flags(d, &lists, "45.9.20.31"), ["allowlisted"]);
    allow(&["remove", "45.9.20.31"]);
    assert!(shown_flags(d, &lists, "45.9.20.31").is_empty(), "a lifted entry leaves no stale flag");
    assert_eq!(shown_flags(d, &lists, "8.8.8.8"), ["public-resolver"]);
}
