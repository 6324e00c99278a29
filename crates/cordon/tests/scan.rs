//! `cordon scan` and `cordon lookup` through the real binary, compared with
//! the real grepcidr (Debian package `grepcidr`, installed by
//! scripts/install-peers.sh; these tests fail when it is missing).

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::{cordon, ipsum_addresses};
use serde_json::Value;

fn grepcidr(args: &[&str]) -> Output {
    Command::new("grepcidr").args(args).output().expect("grepcidr is installed (scripts/install-peers.sh)")
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    list: String,
    log: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ips = ipsum_addresses(400);
    let list = dir.path().join("list.txt");
    let mut text: String = ips[..300].iter().map(|ip| format!("{ip}\n")).collect();
    text.push_str("185.220.101.0/24\n2a0b:f4c0::/32\n");
    std::fs::write(&list, text).unwrap();
    let log = dir.path().join("access.log");
    let mut f = std::fs::File::create(&log).unwrap();
    for (i, ip) in ips.iter().enumerate() {
        let line = match i % 8 {
            0 => format!("{ip} - - [22/Aug/2026:10:00:{:02} +0000] \"GET / HTTP/1.1\" 200 512", i % 60),
            1 => format!("connect from [{ip}]:443 refused"),
            2 => format!("\"{ip}\",\"blocked\""),
            3 => format!("src={ip}:8080 dst=10.0.0.1"),
            4 => format!("version {ip}.5 is not an address"),
            5 => format!("x{ip}"),
            6 => format!("{ip}x"),
            _ => format!("nothing to see, 999.{}.1.1 and 1.2.3", i % 200),
        };
        writeln!(f, "{line}").unwrap();
    }
    writeln!(f, "tor exit 185.220.101.77 seen").unwrap();
    writeln!(f, "v6 client 2a0b:f4c0:1::5 and [2a0b:f4c0::9]:443").unwrap();
    write!(f, "last line without newline {}", ips[3]).unwrap();
    drop(f);
    Fixture { db: dir.path().join("c.db"), list: list.display().to_string(), log: log.display().to_string(), _dir: dir }
}

#[test]
fn list_scan_prints_exactly_grepcidrs_lines() {
    let fx = fixture();
    let ours = cordon(&fx.db, &["scan", "--list", &fx.list, &fx.log]);
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
    let theirs = grepcidr(&["-f", &fx.list, &fx.log]);
    let (ours, theirs) = (String::from_utf8_lossy(&ours.stdout), String::from_utf8_lossy(&theirs.stdout));
    assert!(theirs.lines().count() > 100, "the fixture must exercise matches");
    assert_eq!(ours.lines().collect::<Vec<_>>(), theirs.lines().collect::<Vec<_>>());
    let count = cordon(&fx.db, &["scan", "--count", "--list", &fx.list, &fx.log]);
    assert_eq!(String::from_utf8_lossy(&count.stdout).trim(), theirs.lines().count().to_string());
}

#[test]
fn store_scan_matches_list_scan_and_reports_hits() {
    let fx = fixture();
    let ingest = cordon(&fx.db, &["ingest", &fx.list, "--source", "partner-a", "--category", "c2"]);
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    let from_store = cordon(&fx.db, &["scan", &fx.log]);
    let from_list = cordon(&fx.db, &["scan", "--list", &fx.list, &fx.log]);
    assert_eq!(from_store.stdout, from_list.stdout);
    let json = cordon(&fx.db, &["scan", "--json", &fx.log]);
    let hits: Vec<Value> =
        String::from_utf8_lossy(&json.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let tor = hits.iter().find(|h| h["ip"] == "185.220.101.77").expect("the /24 hit is reported");
    assert_eq!(tor["indicator"], "185.220.101.0/24");
    assert_eq!(tor["categories"][0], "c2");
    assert_eq!(tor["sources"][0], "partner-a");
    assert_eq!(tor["file"], fx.log.as_str());
    let v6: Vec<&Value> = hits.iter().filter(|h| h["indicator"] == "2a0b:f4c0::/32").collect();
    assert_eq!(v6.len(), 2, "both IPv6 addresses of one line are hits");
    // A second run uses the cached snapshot and must answer the same.
    assert_eq!(cordon(&fx.db, &["scan", "--json", &fx.log]).stdout, json.stdout);
}

#[test]
fn gzip_and_stdin_inputs() {
    let fx = fixture();
    let gz = format!("{}.gz", fx.log);
    let status = Command::new("sh").arg("-c").arg(format!("gzip -c '{}' > '{gz}'", fx.log)).status().unwrap();
    assert!(status.success());
    let plain = cordon(&fx.db, &["scan", "--count", "--list", &fx.list, &fx.log]);
    let zipped = cordon(&fx.db, &["scan", "--count", "--list", &fx.list, &gz]);
    assert_eq!(plain.stdout, zipped.stdout);
    let piped = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["--db", fx.db.to_str().unwrap(), "scan", "--count", "--list", &fx.list])
        .stdin(std::fs::File::open(&fx.log).unwrap())
        .output()
        .unwrap();
    assert_eq!(plain.stdout, piped.stdout);
    let missing = cordon(&fx.db, &["scan", "--list", &fx.list, "/nonexistent.log"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn lookup_explains_why() {
    let fx = fixture();
    assert!(cordon(&fx.db, &["ingest", &fx.list, "--source", "partner-a", "--category", "c2"]).status.success());
    let out = cordon(&fx.db, &["lookup", "--json", "185.220.101.77", "8.8.8.8", "nonsense"]);
    assert_eq!(out.status.code(), Some(2), "a bad address is a usage error, after answering the others");
    let answers: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["listed"], true);
    assert_eq!(answers[0]["matches"][0]["indicator"], "185.220.101.0/24");
    assert_eq!(answers[0]["matches"][0]["confidence"], 50);
    assert_eq!(answers[1]["listed"], false);
}
