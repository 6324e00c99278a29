//! End-to-end tests of `cordon ingest`, `indicators`, `show`, `sources` and
//! `imports` through the real binary.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{cordon, ipsum_path, stdout};
use serde_json::Value;

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", stdout(out), String::from_utf8_lossy(&out.stderr)))
}

fn indicator_values(db: &Path) -> Vec<String> {
    let out = cordon(db, &["indicators", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["value"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ipsum_is_ingested_whole_and_reingest_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let ipsum = ipsum_path();
    let ipsum = ipsum.to_str().unwrap();
    let first = cordon(&db, &["ingest", ipsum, "--source", "ipsum", "--tlp", "clear", "--json"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let report = &json(&first)["files"][0];
    assert_eq!(report["format"], "ipsum");
    assert_eq!(report["read"], 120_430);
    assert_eq!(report["new"], 120_430);
    assert_eq!(report["rejected"], 0);
    let values = indicator_values(&db);
    assert_eq!(values.len(), 120_430);
    let expected: std::collections::BTreeSet<String> = std::fs::read_to_string(ipsum_path())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect();
    assert_eq!(values.into_iter().collect::<std::collections::BTreeSet<_>>(), expected);

    let again = cordon(&db, &["ingest", ipsum, "--source", "ipsum", "--tlp", "clear", "--json"]);
    let report = &json(&again)["files"][0];
    assert_eq!((report["new"].as_u64(), report["updated"].as_u64()), (Some(0), Some(120_430)));
    assert_eq!(indicator_values(&db).len(), 120_430);
    let imports = stdout(&cordon(&db, &["imports", "--json"]));
    assert_eq!(imports.lines().count(), 2);
}

#[test]
fn strict_rejection_stores_nothing_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "80.94.95.112\n").unwrap();
    assert!(cordon(&db, &["ingest", good.to_str().unwrap(), "--source", "a"]).status.success());
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "# list\n45.148.10.1\n999.1.2.3\n185.220.101.1\n").unwrap();
    let out = cordon(&db, &["ingest", bad.to_str().unwrap(), "--source", "b", "--strict", "--format", "plain"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.txt:3") && err.contains("'999.1.2.3' is not an IP address"), "{err}");
    assert_eq!(indicator_values(&db), ["80.94.95.112"]);
    assert_eq!(stdout(&cordon(&db, &["imports", "--json"])).lines().count(), 1);

    let lenient = cordon(&db, &["ingest", bad.to_str().unwrap(), "--source", "b", "--format", "plain", "--json"]);
    assert!(lenient.status.success());
    let report = &json(&lenient)["files"][0];
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["reason"], "'999.1.2.3' is not an IP address");
    assert_eq!(indicator_values(&db).len(), 3);
}

#[test]
fn bogons_are_skipped_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "10.1.2.3\n192.168.0.1\n198.51.100.7\n80.94.95.112\nhttp://127.0.0.1/x\n").unwrap();
    let out = cordon(&db, &["ingest", list.to_str().unwrap(), "--source", "a", "--json"]);
    let report = &json(&out)["files"][0];
    assert_eq!(report["skipped"], 4);
    assert_eq!(report["skip_reasons"]["bogon:private"], 2);
    assert_eq!(report["skip_reasons"]["bogon:documentation"], 1);
    assert_eq!(report["skip_reasons"]["bogon:loopback"], 1);
    assert_eq!(indicator_values(&db), ["80.94.95.112"]);
}

#[test]
fn unknown_format_exits_2_naming_the_formats_tried() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let file = dir.path().join("weird.bin");
    std::fs::write(&file, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let out = cordon(&db, &["ingest", file.to_str().unwrap(), "--source", "a"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unrecognised format") && err.contains("ipsum") && err.contains("stix"), "{err}");
    let missing = cordon(&db, &["ingest", "/nonexistent/feed.txt", "--source", "a"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn show_finds_defanged_values_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let list = dir.path().join("phish.txt");
    std::fs::write(&list, "hxxps://login-secure-paypa1[.]com/verify\nhttp://80.94.95.112:8080/bins/mozi.m\n").unwrap();
    let ingest = cordon(&db, &["ingest", list.to_str().unwrap(), "--source", "a", "--category", "phishing"]);
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    let out = cordon(&db, &["show", "80[.]94[.]95[.]112", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let detail = json(&out);
    assert_eq!(detail["value"], "80.94.95.112");
    assert_eq!(detail["linked"][0], "http://80.94.95.112:8080/bins/mozi.m");
    assert_eq!(detail["sightings"][0]["derived_from"], "http://80.94.95.112:8080/bins/mozi.m");
    let url = json(&cordon(&db, &["show", "hxxps://LOGIN-secure-paypa1.com/verify", "--json"]));
    assert_eq!(url["linked"][0], "login-secure-paypa1.com");
    assert_eq!(url["categories"][0], "phishing");
    let none = cordon(&db, &["show", "45.148.10.1"]);
    assert_eq!(none.status.code(), Some(1));
}

/// An import writes a batch at a time, so while a big one runs another
/// process's write gets in (an analyst adding an organisation); killed
/// after batches were written, it is undone by the next process to open
/// the store: nothing of it is left.
#[test]
fn killed_import_leaves_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "80.94.95.112\n").unwrap();
    assert!(cordon(&db, &["ingest", small.to_str().unwrap(), "--source", "a"]).status.success());
    // Three million distinct public addresses: far more than can be stored
    // before the kill below.
    let big = dir.path().join("big.txt");
    let mut text = String::with_capacity(3_000_000 * 14);
    for i in 0..3_000_000u32 {
        let ip = std::net::Ipv4Addr::from(0x2d00_0000u32 + i * 7);
        text.push_str(&ip.to_string());
        text.push('\n');
    }
    std::fs::write(&big, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .arg("--db")
        .arg(&db)
        .args(["ingest", big.to_str().unwrap(), "--source", "b", "--format", "plain"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first line's address is in the first batch.
    let started = std::time::Instant::now();
    while !cordon(&db, &["show", "45.0.0.0"]).status.success() {
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "no batch was written");
        assert!(child.try_wait().unwrap().is_none(), "the import ended before its first batch showed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let add = cordon(&db, &["org", "add", "analysts", "--kind", "partner"]);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let finished_early = child.try_wait().unwrap();
    assert!(finished_early.is_none(), "the import finished before it could be killed: make the file bigger");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(indicator_values(&db), ["80.94.95.112"]);
    assert_eq!(stdout(&cordon(&db, &["imports", "--json"])).lines().count(), 1);
    let sources = stdout(&cordon(&db, &["sources", "--json"]));
    assert!(!sources.contains("\"b\""), "{sources}");
    assert!(stdout(&cordon(&db, &["org", "list"])).contains("analysts"));
}
