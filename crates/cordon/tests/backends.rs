//! The same workload on both backends: four feeds ingested, enriched,
//! targets built and moved, packages, the report and the exports, run by
//! the real binary on an SQLite file and on a PostgreSQL database
//! (`CORDON_TEST_PG`, see scripts/pg.sh; the test fails without one). Every
//! output is the same, but for the clock and the directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Database;

/// Runs the workload on the store `db` in `dir`; returns every output.
fn workload(dir: &Path, db: &str) -> Vec<(String, String)> {
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write("asn.csv", "80.94.95.0,80.94.95.255,204428,SS-Net\n45.148.10.0,45.148.10.255,48090,DMZHOST\n");
    write("country.csv", "80.94.95.0,80.94.95.255,RO\n45.148.10.0,45.148.10.255,NL\n");
    write(
        "contacts.csv",
        "kind,key,name,email\nasn,204428,SS-Net,abuse@ss-net.example.net\ncountry,RO,DIICOT,cyber@diicot.example.ro\n",
    );
    write(
        "harbor.csv",
        "ip,category,malware,tlp,first_seen,last_seen\n\
         80.94.95.112,c2,LockBit,green,2024-05-02,2024-05-03\n\
         80.94.95.113,phishing,,amber,2024-05-02,2024-05-03\n\
         45.148.10.7,c2,,red,2024-05-02,2024-05-03\n",
    );
    write("kestrel.txt", "# kestrel\n80.94.95.112\n45.148.10.8\n80.94.95.0/28\n");
    write("lantern.txt", "http://evil-shop.com/login\nhttps://80.94.95.114/gate.php\n");
    write("ostrich.txt", "45.148.10.7\n45.148.10.9\nbad-domain.ru\n");
    let mut outputs = Vec::new();
    let mut run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(args)
            .env("CORDON_DB", db)
            .env("CORDON_GEO", dir.join("geo.snap"))
            .env("CORDON_CACHE_DIR", dir.join("cache"))
            .current_dir(dir)
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "cordon {args:?} on {db}: {text}");
        outputs.push((args.join(" "), text));
    };
    run(&["migrate"]);
    run(&["geo", "import", "asn.csv", "country.csv"]);
    run(&["contacts", "import", "contacts.csv"]);
    run(&["operation", "create", "synergia", "--start", "2024-04-01", "--end", "2024-08-31"]);
    run(&["ingest", "harbor.csv", "--source", "harbor", "--operation", "synergia"]);
    run(&["ingest", "kestrel.txt", "--source", "kestrel", "--category", "c2", "--tlp", "green"]);
    run(&["ingest", "lantern.txt", "--source", "lantern", "--category", "phishing", "--tlp", "clear"]);
    run(&["ingest", "ostrich.txt", "--source", "ostrich", "--operation", "synergia"]);
    run(&["ingest", "kestrel.txt", "--source", "kestrel", "--category", "c2", "--tlp", "green"]);
    run(&["enrich", "--json"]);
    run(&["source", "consent", "harbor", "--amber-to", "agencies"]);
    run(&["targets", "build", "--operation", "synergia"]);
    run(&["targets", "list", "--operation", "synergia", "--json"]);
    run(&["target", "transition", "--to", "triaged", "--state", "identified", "--actor", "alice", "--note", "ok"]);
    run(&["package", "build", "--operation", "synergia", "--out", "packages"]);
    run(&["target", "transition", "--to", "referred", "--state", "triaged", "--actor", "alice"]);
    run(&["target", "transition", "--to", "taken-down", "--id", "1", "--actor", "ro-police"]);
    run(&["target", "transition", "--to", "rejected", "--id", "2", "--reason", "false-positive", "--actor", "bob"]);
    run(&["target", "show", "1", "--json"]);
    run(&["outcome", "add", "--operation", "synergia", "--country", "RO", "--kind", "arrest", "--count", "3"]);
    run(&["report", "--operation", "synergia", "--json"]);
    run(&["indicators", "--json"]);
    run(&["indicators", "--category", "c2", "--tlp-max", "green"]);
    run(&["show", "80.94.95.112", "--json"]);
    run(&["show", "evil-shop.com"]);
    run(&["sources", "--json"]);
    run(&["lookup", "80.94.95.112", "45.148.10.9", "1.1.1.1"]);
    // Again, from the snapshot the first one wrote (PostgreSQL's in the
    // private cache directory).
    run(&["lookup", "80.94.95.112", "45.148.10.9", "1.1.1.1"]);
    for format in ["plain", "cidr", "csv", "jsonl", "stix", "nft"] {
        run(&["export", "--format", format, "--tlp-max", "amber"]);
    }
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.join("packages")];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap().path();
            if entry.is_dir() {
                stack.push(entry);
            } else {
                files.push(entry);
            }
        }
    }
    files.sort();
    for file in files {
        let name = file.strip_prefix(dir).unwrap().display().to_string();
        outputs.push((name, String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned()));
    }
    outputs
}

/// `text` without what differs from run to run: the directory, today's
/// dates and clock readings (Unix seconds of this decade), hashes of files
/// that hold them, STIX bundle and random ids, the waits of this run.
fn steady(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<dir>");
    let dated =
        regex::Regex::new(r"20(2[5-9]|[3-9]\d)-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?").unwrap();
    let clock = regex::Regex::new(r"\b1[7-9]\d{8}\b").unwrap();
    let hashes = regex::Regex::new(r"\b[0-9a-f]{64}\b").unwrap();
    // A bundle's id is drawn from when it was written, a package's from
    // chance (version 4).
    let bundle = regex::Regex::new(r"bundle--[0-9a-f-]{36}").unwrap();
    let random = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").unwrap();
    // The time from identified to taken down is the run's own.
    let waited = regex::Regex::new(r#"("median_hours_to_takedown":\s*)[0-9.e-]+"#).unwrap();
    let text = bundle.replace_all(&text, "bundle--<id>");
    let text = random.replace_all(&text, "<uuid>");
    let text = waited.replace_all(&text, "${1}<hours>");
    let text = dated.replace_all(&text, "<now>");
    let text = clock.replace_all(&text, "<clock>");
    hashes.replace_all(&text, "<sha256>").into_owned()
}

#[test]
fn the_same_workload_gives_the_same_outputs_on_both_backends() {
    let database = Database::create("backends");
    let (lite, pg) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let on_sqlite = workload(lite.path(), lite.path().join("cordon.db").to_str().unwrap());
    let on_postgres = workload(pg.path(), &database.url());
    assert_eq!(on_sqlite.len(), on_postgres.len());
    for ((step, a), (_, b)) in on_sqlite.iter().zip(&on_postgres) {
        assert_eq!(steady(a, lite.path()), steady(b, pg.path()), "{step}");
    }
    assert!(on_postgres.iter().any(|(step, out)| step.starts_with("report") && out.contains("arrests")));
}

/// On PostgreSQL a lookup's snapshot goes to the user's private cache
/// directory (owner-only, named by the store's identity), is used while the
/// store's generation holds and rebuilt when it moved; a directory others
/// may enter, or another user's, is not used.
#[test]
fn postgres_lookups_cache_their_snapshot_privately() {
    use std::os::unix::fs::PermissionsExt;
    let database = Database::create("lookupcache");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(args)
            .env("CORDON_DB", database.url())
            .env("CORDON_CACHE_DIR", &cache)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    std::fs::write(dir.path().join("a.txt"), "80.94.95.0/24\n").unwrap();
    std::fs::write(dir.path().join("b.txt"), "45.148.10.0/24\n").unwrap();
    run(&["migrate"]);
    run(&["ingest", "a.txt", "--source", "a", "--tlp", "green"]);
    let (cold, _) = run(&["lookup", "80.94.95.112", "45.148.10.9"]);
    let snapshots: Vec<PathBuf> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let name = snapshots[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("postgres-") && name.contains(".lookup-"), "{name}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&cache), mode(&snapshots[0])), (0o700, 0o600));
    let written = std::fs::metadata(&snapshots[0]).unwrap().modified().unwrap();
    let (warm, _) = run(&["lookup", "80.94.95.112", "45.148.10.9"]);
    assert_eq!(warm, cold);
    assert_eq!(std::fs::metadata(&snapshots[0]).unwrap().modified().unwrap(), written, "read, not rewritten");

    run(&["ingest", "b.txt", "--source", "b", "--tlp", "green"]);
    let (after, _) = run(&["lookup", "80.94.95.112", "45.148.10.9"]);
    assert_ne!(after, cold, "the new generation's network is found: {after}");
    assert!(after.contains("45.148.10.0/24"), "{after}");

    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (open, said) = run(&["lookup", "80.94.95.112", "45.148.10.9"]);
    assert_eq!(open, after, "still answered, from the store");
    assert!(said.contains("not caching") && said.contains("chmod 700"), "{said}");

    // Owner-only but another user's (the suite runs as root, which may
    // hand it to `nobody`): it could hold snapshots planted to hide a
    // listed network, so it is not used either.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).expect("the suite runs as root to chown the cache");
    let (foreign, said) = run(&["lookup", "80.94.95.112", "45.148.10.9"]);
    assert_eq!(foreign, after, "still answered, from the store");
    assert!(said.contains("not caching") && said.contains("belongs to another user"), "{said}");
}
