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

/// The snapshots are the netset layout behind a stamp: damaged,
/// truncated or foreign ones are reported and rebuilt, never trusted or
/// panicked on, and the answers stay those of the store.
#[test]
fn damaged_snapshots_are_rebuilt_not_trusted() {
    let fx = fixture();
    assert!(cordon(&fx.db, &["ingest", &fx.list, "--source", "partner-a", "--category", "c2"]).status.success());
    let lookup = ["lookup", "--json", "185.220.101.77", "2a0b:f4c0::9"];
    let scan = ["scan", "--count", &fx.log];
    let (want_lookup, want_scan) = (cordon(&fx.db, &lookup).stdout, cordon(&fx.db, &scan).stdout);
    let snapshots: Vec<PathBuf> = std::fs::read_dir(fx.db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".lookup-") || p.to_string_lossy().contains(".scan-"))
        .collect();
    assert_eq!(snapshots.len(), 2, "one lookup and one scan snapshot: {snapshots:?}");
    let pristine: Vec<Vec<u8>> = snapshots.iter().map(|p| std::fs::read(p).unwrap()).collect();
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 3] = [
        ("a flipped byte", |b| {
            let at = b.len() - 20;
            b[at] ^= 0x5a;
        }),
        ("truncation", |b| b.truncate(b.len() - 9)),
        ("a foreign body after the stamp", |b| {
            let stamp_end = b.iter().position(|&c| c == b'\n').unwrap() + 1;
            b.truncate(stamp_end);
            b.extend_from_slice(b"185.220.101.0/24\t50\tc2\tpartner-a\n");
        }),
    ];
    for (what, damage) in damages {
        for (path, bytes) in snapshots.iter().zip(&pristine) {
            let mut bad = bytes.clone();
            damage(&mut bad);
            std::fs::write(path, bad).unwrap();
        }
        let (got_lookup, got_scan) = (cordon(&fx.db, &lookup), cordon(&fx.db, &scan));
        assert_eq!(got_lookup.stdout, want_lookup, "{what}");
        assert_eq!(got_scan.stdout, want_scan, "{what}");
        for out in [&got_lookup, &got_scan] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("netset layout") && stderr.contains("rebuilding it"), "{what}: {stderr}");
        }
        for (path, bytes) in snapshots.iter().zip(&pristine) {
            assert_eq!(&std::fs::read(path).unwrap(), bytes, "{what}: {} is rebuilt", path.display());
        }
    }
}

/// One viewer's snapshot is never another's: the view is in the file
/// name and in the stamp, so a defender that may see nothing of RED data
/// gets nothing even from a copy of the hub's current snapshots under its
/// own names, and the hub still sees everything after it.
#[test]
fn a_snapshot_of_one_view_never_answers_another() {
    let fx = fixture();
    let ingest = ["ingest", &fx.list, "--source", "partner-a", "--category", "c2", "--tlp", "red"];
    assert!(cordon(&fx.db, &ingest).status.success());
    assert!(cordon(&fx.db, &["org", "add", "soc", "--kind", "defender"]).status.success());
    let hub = ["lookup", "185.220.101.77"];
    let as_soc = |args: &[&str]| cordon(&fx.db, &[&["--as", "soc"][..], args].concat());
    let check = |when: &str| {
        assert!(common::stdout(&cordon(&fx.db, &hub)).contains("\tlisted"), "{when}");
        assert_ne!(common::stdout(&cordon(&fx.db, &["scan", "--count", &fx.log])).trim(), "0", "{when}");
        assert!(common::stdout(&as_soc(&hub)).contains("not listed"), "{when}");
        assert_eq!(common::stdout(&as_soc(&["scan", "--count", &fx.log])).trim(), "0", "{when}");
    };
    check("first calls");
    let dir = fx.db.parent().unwrap();
    let names: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    for kind in [".lookup-", ".scan-"] {
        let of_kind: Vec<&PathBuf> = names.iter().filter(|p| p.to_string_lossy().contains(kind)).collect();
        let (soc, hub): (Vec<&PathBuf>, Vec<&PathBuf>) =
            of_kind.iter().partition(|p| p.to_string_lossy().contains("defender"));
        assert_eq!((soc.len(), hub.len()), (1, 1), "{of_kind:?}");
        std::fs::copy(hub[0], soc[0]).unwrap();
    }
    check("the hub's snapshots copied over the defender's");
}

/// `--help` of both commands says where their snapshot of the store goes.
#[test]
fn lookup_and_scan_help_name_the_snapshot_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    for command in ["lookup", "scan"] {
        let out = cordon(&db, &[command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && help.contains("CORDON_CACHE_DIR"), "{command}: {help}");
    }
}
