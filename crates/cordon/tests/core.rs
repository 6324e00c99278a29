//! Regression tests of issue 9 through the real binary: organisations and
//! `--as`, markings that never downgrade, the allowlist without geo data,
//! stores opened by several processes at once, the lookup cache, and a
//! demo that stays inside its own directory and runs no script.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{cordon_in, ok_in, stdout};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// An indicator seen CLEAR by one partner (scanner) and GREEN by another
/// (ransomware) was exported marked TLP:CLEAR while naming both.
#[test]
fn stix_export_is_marked_with_the_most_restrictive_tlp() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = write(d, "a.txt", "45.9.20.31\n");
    let b = write(d, "b.txt", "45.9.20.31\n");
    ok_in(d, &["ingest", &a, "--source", "alpha", "--tlp", "clear", "--category", "scanner"]);
    ok_in(d, &["ingest", &b, "--source", "bravo", "--tlp", "green", "--category", "ransomware"]);
    let bundle: serde_json::Value = serde_json::from_str(&ok_in(d, &["export", "--format", "stix"])).unwrap();
    let indicator = bundle["objects"].as_array().unwrap().iter().find(|o| o["type"] == "indicator").unwrap();
    let green = cordon_model::Tlp::Green.stix_marking_id();
    assert_eq!(indicator["object_marking_refs"], serde_json::json!([green]), "{indicator}");
    let jsonl = ok_in(d, &["export", "--format", "jsonl"]);
    assert!(jsonl.contains("\"tlp\":\"green\""), "{jsonl}");
}

/// Without a geo snapshot, `allow add` said "allowlisted" yet the address
/// became a target and was exported.
#[test]
fn the_allowlist_holds_without_geo_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let feed = write(d, "feed.txt", "45.9.20.31\n45.9.20.32\nlisted.badsite.xyz\n");
    ok_in(d, &["allow", "add", "45.9.20.31", "--reason", "our own server"]);
    ok_in(d, &["allow", "add", "badsite.xyz", "--reason", "a partner's domain"]);
    ok_in(d, &["operation", "create", "op", "--start", "2020-01-01", "--end", "2099-12-31"]);
    ok_in(d, &["ingest", &feed, "--source", "alpha", "--tlp", "green", "--operation", "op"]);
    let built = ok_in(d, &["targets", "build", "--operation", "op"]);
    assert!(built.contains("allowlisted"), "{built}");
    let targets = ok_in(d, &["targets", "list", "--operation", "op"]);
    assert!(targets.contains("45.9.20.32"), "{targets}");
    assert!(!targets.contains("45.9.20.31") && !targets.contains("badsite"), "{targets}");
    let plain = ok_in(d, &["export", "--format", "plain"]);
    assert!(plain.contains("45.9.20.32") && !plain.contains("45.9.20.31"), "{plain}");
    let rpz = ok_in(d, &["export", "--format", "rpz"]);
    assert!(!rpz.contains("badsite"), "{rpz}");
}

/// Ingests started together on a new store file: all but one failed
/// with `table sources already exists`.
#[test]
fn processes_opening_a_new_store_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let feed = write(d, &format!("f{i}.txt"), &format!("45.9.20.{}\n", 40 + i));
            Command::new(env!("CARGO_BIN_EXE_cordon"))
                .args(["--db", &d.join("cordon.db").display().to_string(), "ingest", &feed, "--source"])
                .arg(format!("p{i}"))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let listed = ok_in(d, &["indicators"]);
    assert_eq!(listed.lines().count(), 8, "{listed}");
}

/// `--as ORG` answers as the organisation would see it; an unknown one is
/// refused; the hub is the default.
#[test]
fn as_org_sees_what_the_visibility_rule_allows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let red = write(d, "red.txt", "45.9.20.31\n");
    let green = write(d, "green.txt", "45.9.20.32\n");
    ok_in(d, &["ingest", &red, "--source", "alpha", "--tlp", "red"]);
    ok_in(d, &["ingest", &green, "--source", "bravo", "--tlp", "green"]);
    ok_in(d, &["org", "add", "soc", "--kind", "defender"]);
    let orgs = ok_in(d, &["org", "list"]);
    assert!(orgs.contains("hub\thub") && orgs.contains("alpha\tpartner") && orgs.contains("soc\tdefender"), "{orgs}");

    let hub = ok_in(d, &["indicators"]);
    assert!(hub.contains("45.9.20.31") && hub.contains("45.9.20.32"));
    let soc = ok_in(d, &["--as", "soc", "indicators"]);
    assert!(!soc.contains("45.9.20.31") && soc.contains("45.9.20.32"), "{soc}");
    let alpha = ok_in(d, &["--as", "alpha", "indicators"]);
    assert!(alpha.contains("45.9.20.31"), "a partner sees its own RED: {alpha}");
    // The lookup index is kept per view: the hub's cached answer never
    // serves the defender.
    assert!(ok_in(d, &["lookup", "45.9.20.31"]).contains("\tlisted"));
    assert!(ok_in(d, &["--as", "soc", "lookup", "45.9.20.31"]).contains("not listed"));
    // Sources and imports: the defender sees bravo's counts of what it may
    // see, no import of anyone's.
    let sources = ok_in(d, &["--as", "soc", "sources"]);
    assert!(sources.contains("bravo") && !sources.contains("alpha"), "{sources}");
    assert!(ok_in(d, &["--as", "soc", "imports"]).is_empty());
    assert_eq!(ok_in(d, &["--as", "alpha", "imports"]).lines().count(), 1);
    // Coordination is the hub's; an unknown organisation is refused.
    let refused = cordon_in(d, &["--as", "soc", "targets", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    let unknown = cordon_in(d, &["--as", "nobody", "indicators"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no organisation 'nobody'"));
    // Consents per recipient class.
    ok_in(d, &["source", "consent", "alpha", "--amber-to", "agencies"]);
    ok_in(d, &["org", "add", "a-team", "--kind", "partner"]);
    ok_in(d, &["source", "set", "alpha", "--org", "a-team"]);
    let moved = ok_in(d, &["--as", "a-team", "indicators"]);
    assert!(moved.contains("45.9.20.31"), "{moved}");
}

/// The lookup cache was one file per TLP, with no store identity: a store
/// deleted and made anew answered from the old one's cache.
#[test]
fn a_recreated_store_never_answers_from_the_old_cache() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = write(d, "first.txt", "45.9.20.31\n");
    ok_in(d, &["ingest", &first, "--source", "alpha", "--tlp", "green"]);
    assert!(ok_in(d, &["lookup", "45.9.20.31"]).contains("\tlisted"));
    for file in ["cordon.db", "cordon.db-wal", "cordon.db-shm"] {
        let _ = std::fs::remove_file(d.join(file));
    }
    let second = write(d, "second.txt", "45.9.20.99\n");
    ok_in(d, &["ingest", &second, "--source", "alpha", "--tlp", "green"]);
    assert!(ok_in(d, &["lookup", "45.9.20.31"]).contains("not listed"));
    assert!(ok_in(d, &["lookup", "45.9.20.99"]).contains("\tlisted"));
}

/// The demo ran `scripts/fetch-geodata.sh` when it found one in the working
/// directory, and `demo --out .` deleted an existing store.
#[test]
fn the_demo_runs_no_script_and_never_overwrites_a_store_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("scripts")).unwrap();
    let marker = d.join("script-ran");
    let script = format!("#!/bin/sh\ntouch '{}'\n", marker.display());
    write(d, "scripts/fetch-geodata.sh", &script);
    let feed = write(d, "feed.txt", "45.9.20.31\n");
    ok_in(d, &["ingest", &feed, "--source", "alpha"]);
    let before = std::fs::read(d.join("cordon.db")).unwrap();

    let refused = cordon_in(d, &["demo", "--out", ".", "--scale", "0.01"]);
    assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("was not made by `cordon demo`"));
    assert_eq!(std::fs::read(d.join("cordon.db")).unwrap(), before, "the store is untouched");

    let out = ok_in(d, &["demo", "--out", "demo", "--scale", "0.01"]);
    assert!(out.contains("no geo data"), "{out}");
    assert!(d.join("demo/cordon.db").is_file() && d.join("demo/report.html").is_file());
    // Again into the directory it made: allowed, its files are replaced.
    ok_in(d, &["demo", "--out", "demo", "--scale", "0.01"]);
    assert!(!marker.exists(), "cordon ran a script it found on disk");
}

/// Feed strings cannot drive the terminal: control characters in a source
/// name or a value are shown escaped in human output, exact in --json.
#[test]
fn human_output_escapes_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let feed = write(d, "feed.txt", "45.9.20.31\n");
    ok_in(d, &["ingest", &feed, "--source", "evil\u{1b}]0;pwned\u{7}"]);
    let sources = stdout(&cordon_in(d, &["sources"]));
    assert!(!sources.contains('\u{1b}') && sources.contains("evil\\x1b]0;pwned\\x07"), "{sources:?}");
    let json = ok_in(d, &["sources", "--json"]);
    let value: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(value["name"], "evil\u{1b}]0;pwned\u{7}");
}

/// A second writer behind a long import failed after 10 s with "database is
/// locked": it waits for the writer to finish.
#[test]
fn a_writer_waits_for_another_to_finish() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    ok_in(&d, &["org", "list"]);
    let (locked, ready) = std::sync::mpsc::channel();
    let db = d.join("cordon.db");
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE key = 'generation';").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_secs(12));
        conn.execute_batch("COMMIT").unwrap();
    });
    ready.recv().unwrap();
    let started = std::time::Instant::now();
    ok_in(&d, &["allow", "add", "45.9.20.31", "--reason", "ours"]);
    assert!(started.elapsed() >= std::time::Duration::from_secs(10), "it did not wait for the lock");
    holder.join().unwrap();
    assert!(ok_in(&d, &["allow", "list"]).contains("45.9.20.31"));
}
