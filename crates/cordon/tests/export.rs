//! End-to-end tests of `cordon export` through the real binary: filters,
//! the TLP default, the summary, output files and directories.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cordon(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cordon"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1710200000")
        .stdin(Stdio::null())
        .output()
        .expect("the cordon binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A store with two green sources (one reporting an address both report,
/// so its confidence is combined) and one amber source.
fn store(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("c.db");
    let feeds = [
        ("a.txt", "a", "green", "c2", "45.148.10.240\n45.148.10.241\n2a01:4f8:c17:42::1\nupdate-check.top\n"),
        ("b.txt", "b", "green", "scanner", "45.148.10.241\n77.90.185.20\n"),
        ("c.txt", "c", "amber", "c2", "185.220.101.13\n"),
    ];
    for (name, source, tlp, category, body) in feeds {
        let path = dir.join(name);
        std::fs::write(&path, body).expect("the feed is written");
        let path = path.to_str().expect("a UTF-8 path");
        let out = cordon(&db, &["ingest", path, "--source", source, "--tlp", tlp, "--category", category]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    db
}

fn lines(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", stderr(out));
    let mut lines: Vec<String> = stdout(out).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn default_tlp_max_is_green_and_filters_apply() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = store(dir.path());
    let all = lines(&cordon(&db, &["export", "--format", "plain"]));
    assert_eq!(all, ["2a01:4f8:c17:42::1", "45.148.10.240", "45.148.10.241", "77.90.185.20", "update-check.top"]);
    let amber = lines(&cordon(&db, &["export", "--format", "plain", "--tlp-max", "amber"]));
    assert!(amber.contains(&"185.220.101.13".to_string()), "{amber:?}");
    let corroborated = lines(&cordon(&db, &["export", "--format", "plain", "--min-confidence", "60"]));
    assert_eq!(corroborated, ["45.148.10.241"]);
    let scanners = lines(&cordon(&db, &["export", "--format", "plain", "--category", "scanner"]));
    assert_eq!(scanners, ["45.148.10.241", "77.90.185.20"]);
    let domains = lines(&cordon(&db, &["export", "--format", "plain", "--kind", "domain"]));
    assert_eq!(domains, ["update-check.top"]);
    let future = lines(&cordon(&db, &["export", "--format", "plain", "--since", "2999-01-01"]));
    assert!(future.is_empty(), "{future:?}");
    let recent = lines(&cordon(&db, &["export", "--format", "plain", "--since", "2000-01-01", "--source", "b"]));
    assert_eq!(recent, ["45.148.10.241", "77.90.185.20"]);
}

#[test]
fn cidr_aggregates_and_the_json_summary_counts_by_kind() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = store(dir.path());
    let out = cordon(&db, &["export", "--format", "cidr", "--json"]);
    assert_eq!(stdout(&out), "45.148.10.240/31\n77.90.185.20/32\n2a01:4f8:c17:42::1/128\n");
    let summary: Value = serde_json::from_str(stderr(&out).trim()).expect("the summary is JSON");
    assert_eq!(summary["exported"], 4);
    assert_eq!(summary["by_kind"], serde_json::json!({"ipv4": 3, "ipv6": 1}));
    assert_eq!(summary["skipped"], 1);
    assert_eq!(summary["tlp_max"], "green");
}

#[test]
fn human_summary_goes_to_stderr() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = store(dir.path());
    let out = cordon(&db, &["export", "--format", "hosts"]);
    assert!(stdout(&out).contains("0.0.0.0 update-check.top\n"), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("exported 1 indicators (1 domain) as hosts"), "{err}");
    assert!(err.contains("4 indicators left out"), "{err}");
}

#[test]
fn files_are_reproducible_and_directories_need_a_path() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = store(dir.path());
    let first = dir.path().join("one.json");
    let second = dir.path().join("two.json");
    for path in [&first, &second] {
        let out = cordon(&db, &["export", "--format", "stix", "-o", path.to_str().expect("UTF-8")]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    let bundle = std::fs::read(&first).expect("the bundle is written");
    assert_eq!(bundle, std::fs::read(&second).expect("the second bundle"));
    assert!(!dir.path().join("one.json.partial").exists());

    let refused = cordon(&db, &["export", "--format", "misp"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let feed = dir.path().join("feed");
    let out = cordon(&db, &["export", "--format", "misp", "-o", feed.to_str().expect("UTF-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(feed.join("manifest.json")).expect("manifest.json")).expect("JSON");
    assert_eq!(manifest.as_object().map(|m| m.len()), Some(2), "c2 and scanner events");

    let mmdb = dir.path().join("cordon.mmdb");
    let out = cordon(&db, &["export", "--format", "mmdb", "-o", mmdb.to_str().expect("UTF-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lookup = Command::new("mmdblookup")
        .args(["--ip", "45.148.10.241", "--file"])
        .arg(&mmdb)
        .output()
        .unwrap_or_else(|e| panic!("mmdblookup must be installed for this test ({e})"));
    let found = String::from_utf8_lossy(&lookup.stdout);
    assert!(found.contains("\"scanner\"") && found.contains("75 <uint16>"), "{found}");
}
