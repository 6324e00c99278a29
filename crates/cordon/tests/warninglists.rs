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
