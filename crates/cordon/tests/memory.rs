//! Memory bounds as a contract (issue 12): commands over a store of many
//! indicators peak under a bound that does not follow the store. Each
//! command runs under GNU time (a peer of `scripts/install-peers.sh`),
//! which reports the child's peak resident set (`%M`, from `wait4`).
//!
//! The store holds 150,000 addresses and 10,000 URLs with their hosts: the
//! code that held the whole scope, plan and every target in memory peaked
//! near 2 KB per indicator (over 300 MB here, 1.95 GB at 1M); the bound
//! leaves room for the binary, SQLite's cache and one batch (measured
//! in a debug build: targets build 85 MB, the bulk transition 47 MB).

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Indicators in the store.
const ADDRESSES: u64 = 150_000;
/// URLs (each with its host domain, linked to it: one domain target each).
const URLS: u64 = 10_000;
/// The peak resident set every command below must stay under.
const BOUND_KIB: u64 = 120 * 1024;

/// Runs `cordon --db db args` under GNU time; returns the peak RSS in KiB.
fn peak_kib(db: &Path, args: &[&str]) -> u64 {
    let report = db.with_extension("time");
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_cordon"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("GNU time runs: /usr/bin/time comes with scripts/install-peers.sh");
    assert!(
        out.status.success(),
        "cordon {args:?} failed: {}{}",
        common::stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report).expect("GNU time wrote its report");
    text.trim().lines().last().and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("no peak RSS in {text:?}"))
}

/// `ADDRESSES` distinct public unicast addresses from 11.0.0.0 up (never
/// a bogon), one a line.
fn addresses() -> String {
    let mut feed = String::new();
    for i in 0..ADDRESSES {
        let address = (11u64 << 24) + i * 4099;
        writeln!(feed, "{}", std::net::Ipv4Addr::from(address as u32)).unwrap();
    }
    feed
}

#[test]
fn targets_build_and_bulk_transitions_peak_under_a_bound_that_does_not_follow_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let mut feed = addresses();
    for i in 0..URLS {
        writeln!(feed, "http://host{i}.example{}.com/login", i % 97).unwrap();
    }
    let path = dir.path().join("feed.txt");
    std::fs::write(&path, feed).unwrap();
    let ingest = ["ingest", "--source", "partner", "--format", "plain", "--tlp", "green"];
    let mut args: Vec<&str> = ingest.to_vec();
    let path_text = path.to_string_lossy();
    args.push(&path_text);
    peak_kib(&db, &args);
    peak_kib(&db, &["operation", "create", "--start", "2000-01-01", "--end", "2100-12-31", "scale"]);

    let built = peak_kib(&db, &["targets", "build", "--operation", "scale"]);
    let moved = peak_kib(
        &db,
        &["target", "transition", "--operation", "scale", "--state", "identified", "--to", "triaged", "--actor", "t"],
    );
    let out = common::cordon(&db, &["report", "--operation", "scale", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // One server per address, one domain target (with its URL) per URL.
    assert_eq!(report["kinds"]["server"].as_u64(), Some(ADDRESSES), "{}", report["kinds"]);
    assert_eq!(report["kinds"]["domain"].as_u64(), Some(URLS), "{}", report["kinds"]);
    assert_eq!(
        report["states"]["triaged"].as_u64(),
        Some(ADDRESSES + URLS),
        "every target moved: {}",
        report["states"]
    );
    eprintln!("peak RSS: targets build {built} KiB, bulk transition {moved} KiB");
    assert!(built < BOUND_KIB, "targets build peaked at {built} KiB (bound {BOUND_KIB} KiB)");
    assert!(moved < BOUND_KIB, "the bulk transition peaked at {moved} KiB (bound {BOUND_KIB} KiB)");
}

/// The peak resident set of a warm `lookup` and `scan --count` over the
/// store below. The snapshot they used to read held one line of
/// explanations per indicator, and every call parsed it back into strings
/// and rebuilt the whole map: 155,000 indicators cost 110 MB (lookup) and
/// 84 MB (`scan --count`) in a debug build; now they load the network index
/// (or, for the scanner, the bare set) and read explanations for the
/// matches only: 26 and 22 MB.
const LOOKUP_BOUND_KIB: u64 = 40 * 1024;

#[test]
fn warm_lookup_and_scan_count_load_the_index_not_the_explanations() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let mut feed = addresses();
    // Networks, some holding listed addresses: the index's entries.
    for i in 0..5_000u64 {
        writeln!(feed, "{}/24", std::net::Ipv4Addr::from(((11u64 << 24) + i * 65_536) as u32)).unwrap();
    }
    let path = dir.path().join("feed.txt");
    std::fs::write(&path, feed).unwrap();
    let path_text = path.to_string_lossy();
    peak_kib(&db, &["ingest", "--source", "partner", "--format", "plain", "--category", "c2", &path_text]);
    let log = dir.path().join("access.log");
    std::fs::write(&log, "11.0.0.0 GET /\n11.0.16.3 GET /\n8.8.8.8 GET /\n").unwrap();
    let log_text = log.to_string_lossy();

    // The first calls build the snapshots; the second ones are warm.
    let listed = common::cordon(&db, &["lookup", "11.0.0.0", "--json"]);
    assert!(common::stdout(&listed).contains("\"11.0.0.0/24\""), "{}", common::stdout(&listed));
    let lookup = peak_kib(&db, &["lookup", "11.0.0.0"]);
    assert_eq!(common::stdout(&common::cordon(&db, &["scan", "--count", &log_text])).trim(), "2");
    let scan = peak_kib(&db, &["scan", "--count", &log_text]);
    eprintln!("peak RSS: warm lookup {lookup} KiB, warm scan --count {scan} KiB");
    assert!(lookup < LOOKUP_BOUND_KIB, "a warm lookup peaked at {lookup} KiB (bound {LOOKUP_BOUND_KIB} KiB)");
    assert!(scan < LOOKUP_BOUND_KIB, "a warm scan --count peaked at {scan} KiB (bound {LOOKUP_BOUND_KIB} KiB)");
}
