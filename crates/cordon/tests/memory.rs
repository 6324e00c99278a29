//! Memory bounds as a contract (issue 12): commands over a store of many
//! indicators peak under a bound that does not follow the store. Each
//! command runs under GNU time (a peer of `scripts/install-peers.sh`),
//! which reports the child's peak resident set (`%M`, from `wait4`).
//!
//! The stores of the targets and package tests hold 1,000,000 addresses
//! (issue 12: a bound of 500 MB at 1M). The code that held the whole
//! scope, plan and every target in memory peaked near 2 KB per indicator
//! (1.95 GB for `targets build` at 1M), the package builder at 8.2 GB; the
//! bound leaves room for the binary, SQLite's page caches (up to 256 MB for
//! the writer, 64 MB a reader) and one batch. Measured in a debug build:
//! targets build 325 MB, the bulk transition 210 MB, package build 370 MB.
//! Each command's time goes to the test's output; in the suite the two
//! tests take ~30 s and ~120 s.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Addresses in the stores of the targets and package tests.
const ADDRESSES: u64 = 1_000_000;
/// URLs (each with its host domain, linked to it: one domain target each).
const URLS: u64 = 10_000;
/// The peak resident set every command below must stay under.
const BOUND_KIB: u64 = 500 * 1024;

/// Runs `cordon --db db args` under GNU time; returns the peak RSS in KiB
/// (and tells the test's output how long the command took).
fn peak_kib(db: &Path, args: &[&str]) -> u64 {
    let report = db.with_extension("time");
    let started = std::time::Instant::now();
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
    eprintln!("cordon {args:?}: {:.1} s", started.elapsed().as_secs_f64());
    let text = std::fs::read_to_string(&report).expect("GNU time wrote its report");
    text.trim().lines().last().and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("no peak RSS in {text:?}"))
}

/// `n` (at most [`ADDRESSES`]) distinct public unicast addresses from
/// 11.0.0.0 up (to 47.x), never a bogon, a line each.
fn address_feed(n: u64) -> String {
    let mut feed = String::new();
    for i in 0..n {
        writeln!(feed, "{}", address(i)).unwrap();
    }
    feed
}

/// The `i`th address of [`address_feed`].
fn address(i: u64) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(((11u64 << 24) + i * 613) as u32)
}

#[test]
fn targets_build_and_bulk_transitions_peak_under_a_bound_that_does_not_follow_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let mut feed = address_feed(ADDRESSES);
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

/// `package build` over the same store, enriched so that every address has
/// a country (two large packages of 500,000 servers each): the code that
/// held every target, its evidence and each file as a whole document
/// peaked at several KB per target (8.2 GB at 1M indicators, 1,357 MB on
/// a store of 150,000: the release build of 2026-11 under GNU time);
/// written as the store is read, the peak follows a page, the per-country
/// counts and SQLite's caches.
#[test]
fn package_build_peaks_under_a_bound_that_does_not_follow_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let feed = address_feed(ADDRESSES);
    let text = |name: &str, contents: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    };
    let feed = text("feed.txt", &feed);
    // The addresses run from 11.0.0.0 to 47.x: half in each country.
    let middle = address(ADDRESSES / 2);
    let below = std::net::Ipv4Addr::from(u32::from(middle) - 1);
    let asn = text("asn.csv", "11.0.0.0,47.255.255.255,64500,Example Hosting\n");
    let country = text("country.csv", &format!("11.0.0.0,{below},US\n{middle},47.255.255.255,DE\n"));
    let geo = dir.path().join("geo.snap");
    let geo = geo.to_string_lossy();
    peak_kib(&db, &["--geo", &geo, "geo", "import", &asn, &country]);
    peak_kib(&db, &["ingest", "--source", "partner", "--format", "plain", "--tlp", "green", &feed]);
    peak_kib(&db, &["--geo", &geo, "enrich"]);
    peak_kib(&db, &["operation", "create", "--start", "2000-01-01", "--end", "2100-12-31", "scale"]);
    peak_kib(&db, &["targets", "build", "--operation", "scale"]);
    let triage = ["target", "transition", "--operation", "scale", "--state", "identified", "--to", "triaged"];
    peak_kib(&db, &[&triage[..], &["--actor", "t"]].concat());

    let out = dir.path().join("packages");
    let packaged = peak_kib(&db, &["package", "build", "--operation", "scale", "--out", &out.to_string_lossy()]);
    for cc in ["US", "DE"] {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(cc).join("manifest.json")).unwrap()).unwrap();
        let names: Vec<&str> =
            manifest["files"].as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(names, ["report.html", "targets.csv.gz", "report.json.gz", "bundle.stix.json.gz"], "{cc}");
    }
    let report = common::cordon(&db, &["report", "--operation", "scale", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["states"]["referred"].as_u64(), Some(ADDRESSES), "every target packaged: {}", report["states"]);
    eprintln!("peak RSS: package build {packaged} KiB");
    assert!(packaged < BOUND_KIB, "package build peaked at {packaged} KiB (bound {BOUND_KIB} KiB)");
}

/// The peak resident set of a warm `lookup` and `scan --count` over the
/// store below. The snapshot they used to read held one line of
/// explanations per indicator, and every call parsed it back into strings
/// and rebuilt the whole map: 155,000 indicators cost 110 MB (lookup) and
/// 84 MB (`scan --count`) in a debug build; now they load the network index
/// (or, for the scanner, the bare set) and read explanations for the
/// matches only: 30 and 38 MB (2026-12-08).
const LOOKUP_BOUND_KIB: u64 = 40 * 1024;

/// Addresses in the store of the lookup test (with 5,000 networks).
const LOOKUP_ADDRESSES: u64 = 150_000;

#[test]
fn warm_lookup_and_scan_count_load_the_index_not_the_explanations() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let mut feed = address_feed(LOOKUP_ADDRESSES);
    // Networks, some holding listed addresses: the index's entries.
    for i in 0..5_000u64 {
        writeln!(feed, "{}/24", std::net::Ipv4Addr::from(((11u64 << 24) + i * 65_536) as u32)).unwrap();
    }
    let path = dir.path().join("feed.txt");
    std::fs::write(&path, feed).unwrap();
    let path_text = path.to_string_lossy();
    peak_kib(&db, &["ingest", "--source", "partner", "--format", "plain", "--category", "c2", &path_text]);
    let log = dir.path().join("access.log");
    std::fs::write(&log, format!("11.0.0.0 GET /\n{} GET /\n8.8.8.8 GET /\n", address(1))).unwrap();
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
