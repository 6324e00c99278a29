//! Two `cordon serve` replicas over one PostgreSQL database (a database of
//! each test on `CORDON_TEST_PG`'s server, see scripts/pg.sh; the tests
//! fail without one), on 127.0.0.1: a submission through one is seen
//! through the other within a second; queued feed runs run exactly once
//! across both; a replica killed mid-run leaves its run to the other once
//! its job's lease runs out.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Database;

/// Runs the real binary on `db`.
fn cordon(db: &Database, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cordon"))
        .arg("--db")
        .arg(db.url())
        .args(args)
        .env_remove("CORDON_AS")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Like [`cordon`], and it must succeed; its standard output.
fn ok(db: &Database, args: &[&str]) -> String {
    let out = cordon(db, args);
    assert!(out.status.success(), "cordon {args:?}: {out:?}");
    common::stdout(&out)
}

/// The first column of the one row `sql` returns, as a number.
fn count(db: &Database, sql: &str) -> i64 {
    let mut client = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Polls `done` every 20 ms for at most `limit`; whether it came true.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// A feed server on 127.0.0.1 that counts the requests of each path and
/// answers `/fN.txt` with the address 45.9.N.1; the first request of
/// `/slow.txt` is held for a minute (its client is killed meanwhile), the
/// next answered at once.
struct Feeds {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Feeds {
    fn start() -> Feeds {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counted = counted.clone();
                std::thread::spawn(move || Feeds::answer(stream, &counted));
            }
        });
        Feeds { port, hits }
    }

    fn answer(mut stream: std::net::TcpStream, hits: &Mutex<HashMap<String, usize>>) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        let _ = reader.read_line(&mut request);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                break;
            }
        }
        let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
        let seen = {
            let mut hits = hits.lock().unwrap();
            let n = hits.entry(path.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let body = match path.strip_prefix("/f").and_then(|p| p.strip_suffix(".txt")) {
            Some(n) => format!("45.9.{n}.1\n"),
            None if path == "/slow.txt" && seen == 1 => {
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            None => "185.220.101.77\n".to_string(),
        };
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A `cordon serve` replica on 127.0.0.1, killed when dropped.
struct Replica {
    child: Child,
    port: u16,
}

impl Replica {
    /// Starts one on `db` (reaching loopback feeds) with `extra` options;
    /// returns once it answers.
    fn start(db: &Database, extra: &[&str]) -> Replica {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_cordon"))
            .arg("--db")
            .arg(db.url())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("CORDON_TESTING_ANY_DESTINATION", "1")
            .env("CORDON_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let replica = Replica { child, port };
        let up = within(Duration::from_secs(30), || replica.get("/healthz", "").starts_with("HTTP/1.1 200"));
        assert!(up, "the replica on port {port} did not start");
        replica
    }

    /// Sends `request` (without its Host and Connection lines) and reads the
    /// whole answer; empty when nothing answers.
    fn send(&self, head: &str, body: &str) -> String {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return String::new() };
        let request =
            format!("{head}\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        let mut answer = String::new();
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_string(&mut answer);
        }
        answer
    }

    fn get(&self, path: &str, token: &str) -> String {
        self.send(&format!("GET {path} HTTP/1.1\r\nAuthorization: Bearer {token}"), "")
    }

    /// Kills it with SIGKILL: no shutdown, no cleanup.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_submission_through_one_replica_is_in_the_others_lookups_within_a_second() {
    let db = Database::create("visible");
    ok(&db, &["user", "add", "admin@hub.example", "--org", "hub", "--role", "admin"]);
    let token = ok(&db, &["token", "create", "--user", "admin@hub.example"]).trim().to_string();
    let (one, other) = (Replica::start(&db, &[]), Replica::start(&db, &[]));
    let lookup = "/api/v1/lookup/45.9.20.31";
    let before = other.get(lookup, &token);
    assert!(before.starts_with("HTTP/1.1 200") && before.contains("\"listed\":false"), "{before}");

    let submitted = one.send(
        &format!("POST /api/v1/submissions?format=plain&tlp=green HTTP/1.1\r\nAuthorization: Bearer {token}"),
        "45.9.20.31\n",
    );
    assert!(submitted.starts_with("HTTP/1.1 20"), "{submitted}");
    let committed = Instant::now();
    let seen = within(Duration::from_secs(1), || other.get(lookup, &token).contains("\"listed\":true"));
    assert!(seen, "not in the other replica's lookups {:?} after the commit", committed.elapsed());
    let shown = other.get("/api/v1/indicators/45.9.20.31", &token);
    assert!(shown.starts_with("HTTP/1.1 200") && shown.contains("45.9.20.31"), "{shown}");
}

#[test]
fn queued_feed_runs_run_exactly_once_across_two_replicas() {
    const FEEDS: i64 = 200;
    let db = Database::create("once");
    ok(&db, &["migrate"]);
    let feeds = Feeds::start();
    // Due a few seconds from now, when both replicas are up.
    let mut client = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO feeds (name, url, source, every, created, next_run)
             SELECT 'f' || n, $1 || '/f' || n || '.txt', 'vendor', 3600, now(), now() + interval '3 seconds'
             FROM generate_series(1, $2::bigint) n",
            &[&feeds.url(""), &FEEDS],
        )
        .unwrap();
    let replicas = [Replica::start(&db, &[]), Replica::start(&db, &[])];

    let ran = within(Duration::from_secs(180), || {
        count(&db, "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed')") >= FEEDS
    });
    // Runs that came twice would come now.
    std::thread::sleep(Duration::from_secs(2));
    drop(replicas);
    assert!(ran, "{} of {FEEDS} jobs finished", count(&db, "SELECT count(*) FROM jobs WHERE state = 'done'"));
    let twice: Vec<(String, usize)> =
        feeds.hits.lock().unwrap().iter().filter(|(_, n)| **n != 1).map(|(p, n)| (p.clone(), *n)).collect();
    assert!(twice.is_empty(), "paths not fetched exactly once: {twice:?}");
    assert_eq!(feeds.hits.lock().unwrap().len(), FEEDS as usize);
    assert_eq!(count(&db, "SELECT count(*) FROM imports"), FEEDS);
    assert_eq!(count(&db, "SELECT count(*) FROM feed_runs"), FEEDS);
    assert_eq!(count(&db, "SELECT count(*) FROM jobs WHERE state = 'done' AND attempts = 1"), FEEDS);
    assert_eq!(count(&db, "SELECT count(DISTINCT owner) FROM jobs"), 2, "both replicas ran some");
}

#[test]
fn a_replica_killed_mid_run_leaves_the_run_to_the_other_once_its_lease_runs_out() {
    let db = Database::create("killed");
    ok(&db, &["migrate"]);
    let feeds = Feeds::start();
    ok(&db, &["feed", "add", "slow", "--url", &feeds.url("/slow.txt"), "--source", "vendor"]);
    let lease = ["--job-lease", "2s"];
    let first = Replica::start(&db, &lease);
    assert!(within(Duration::from_secs(30), || feeds.hits("/slow.txt") == 1), "the first replica did not run it");
    let second = Replica::start(&db, &lease);
    // Two leases long: the first renews its lease, the second keeps off.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(feeds.hits("/slow.txt"), 1, "the second replica took a job whose lease was renewed");
    assert_eq!(count(&db, "SELECT count(*) FROM jobs WHERE state = 'running' AND attempts = 1"), 1);

    first.kill();
    let done = within(Duration::from_secs(30), || count(&db, "SELECT count(*) FROM jobs WHERE state = 'done'") == 1);
    drop(second);
    assert!(done, "the second replica did not take the run over");
    assert_eq!(feeds.hits("/slow.txt"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM imports"), 1, "one import, the second replica's");
    assert_eq!(count(&db, "SELECT count(*) FROM feed_runs WHERE error IS NULL"), 1);
    let mut client = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    let jobs: Vec<(String, i32, Option<String>)> = client
        .query("SELECT state, attempts, error FROM jobs", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(jobs, [("done".to_string(), 2, None)], "one job, claimed twice");
}

/// `--db-read` sends listing, lookups and exports to its URL and the rest
/// to `--db`: pointed at a server that does not answer, those reads fail
/// while imports and everything else work; pointed at the database itself
/// (a replica that is not behind), they answer.
#[test]
fn db_read_takes_the_read_only_queries() {
    let db = Database::create("reads");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feed.txt"), "45.9.20.31\n").unwrap();
    let feed = dir.path().join("feed.txt");
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = format!("postgres://postgres@127.0.0.1:{closed}/nowhere");
    let with_reads = |reads: &str, args: &[&str]| {
        let mut all = vec!["--db-read", reads];
        all.extend_from_slice(args);
        cordon(&db, &all)
    };
    let ingest = with_reads(&nowhere, &["ingest", feed.to_str().unwrap(), "--source", "a", "--tlp", "green"]);
    assert!(ingest.status.success(), "{ingest:?}");
    assert!(with_reads(&nowhere, &["imports"]).status.success(), "imports are read from the primary");
    for reads in [&["indicators"][..], &["sources"], &["show", "45.9.20.31"], &["lookup", "45.9.20.31"], &["export"]] {
        let out = with_reads(&nowhere, reads);
        assert!(!out.status.success(), "cordon {reads:?} read from the replica: {out:?}");
    }
    let listed = with_reads(&db.url(), &["indicators"]);
    assert!(listed.status.success() && common::stdout(&listed).contains("45.9.20.31"), "{listed:?}");
    let lite = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["--db", dir.path().join("cordon.db").to_str().unwrap(), "--db-read", &db.url(), "indicators"])
        .output()
        .unwrap();
    assert!(!lite.status.success(), "a replica of an SQLite file makes no sense: {lite:?}");
}
