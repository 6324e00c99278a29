//! Feed collectors against servers run here on 127.0.0.1: a small HTTP
//! server (ETag and 304, 500 then success, gzip, a MISP feed directory)
//! and medallion, PyPI's TAXII 2.1 server. The collectors may reach them
//! because each test opts in (`Destinations::AnyForTesting`), except the
//! test that proves the guard refuses 127.0.0.1 without it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cordon_app::feeds::{FeedRunView, NewFeed};
use cordon_app::{App, Config};
use cordon_collect::{Destinations, Settings};
use cordon_model::{Category, OrgKind, Tlp, Viewer};
use cordon_store::orgs::NewOrganisation;

/// One answer of the test server: status, headers, body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// What the server answers for a path, given the request's headers.
type Route = Box<dyn Fn(&HashMap<String, String>) -> Answer + Send + Sync>;

/// A small HTTP/1.1 server on 127.0.0.1 that logs every request's path.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(routes: Vec<(&'static str, Route)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<HashMap<&'static str, Route>> = Arc::new(routes.into_iter().collect());
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (routes, seen) = (routes.clone(), seen.clone());
                std::thread::spawn(move || answer(stream, &routes, &seen));
            }
        });
        Server { port, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self, path: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|p| p.as_str() == path).count()
    }

    fn total(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

fn answer(stream: TcpStream, routes: &HashMap<&'static str, Route>, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    headers.insert("query".to_string(), target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default());
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    seen.lock().unwrap().push(path.clone());
    let (status, extra, body) = match routes.get(path.as_str()) {
        Some(route) => route(&headers),
        None => (404, vec![], b"not found".to_vec()),
    };
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes()).and_then(|()| out.write_all(&body));
}

fn ok(body: &[u8]) -> Answer {
    (200, vec![], body.to_vec())
}

/// An app whose feeds may reach 127.0.0.1, retrying quickly.
fn app(dir: &tempfile::TempDir, destinations: Destinations) -> (App, Viewer) {
    app_timing_out(dir, destinations, Duration::from_secs(10))
}

/// [`app`], with requests that time out after `timeout`.
fn app_timing_out(dir: &tempfile::TempDir, destinations: Destinations, timeout: Duration) -> (App, Viewer) {
    let mut config = Config::new(dir.path().join("cordon.db"));
    config.collect = Settings { destinations, timeout, backoff: Duration::from_millis(50), ..Settings::default() };
    let app = App::open(&config).unwrap();
    let hub = app.viewer(None).unwrap();
    (app, hub)
}

fn feed(name: &str, url: &str) -> NewFeed {
    NewFeed {
        name: name.to_string(),
        url: url.to_string(),
        source: format!("{name}-source"),
        format: None,
        tlp: Some(Tlp::Green),
        category: Some(Category::C2),
        every: 3600,
        headers: vec![("X-Api-Key".to_string(), "k1".to_string())],
        basic_auth_env: None,
    }
}

fn run(app: &App, hub: &Viewer, name: &str) -> FeedRunView {
    app.run_feeds(hub, &[name.to_string()]).unwrap().remove(0)
}

fn values(app: &App, hub: &Viewer) -> Vec<String> {
    let mut values = Vec::new();
    app.indicators(&app.filter(*hub), &mut |i| values.push(i.value)).unwrap();
    values
}

fn imports(app: &App, hub: &Viewer) -> usize {
    app.imports(hub).unwrap().len()
}

#[test]
fn an_unchanged_feed_costs_one_304_and_no_import() {
    let server = Server::start(vec![(
        "/list.txt",
        Box::new(|headers: &HashMap<String, String>| {
            assert_eq!(headers.get("x-api-key").map(String::as_str), Some("k1"), "the feed's header is sent");
            if headers.get("if-none-match").map(String::as_str) == Some("\"v1\"") {
                return (304, vec![], vec![]);
            }
            (200, vec![("ETag".into(), "\"v1\"".into())], b"80.94.95.112\n45.9.20.31\n".to_vec())
        }),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::AnyForTesting);
    app.add_feed(&hub, &feed("list", &server.url("/list.txt"))).unwrap();

    let first = run(&app, &hub, "list");
    assert_eq!((first.status, first.error.as_deref(), first.unchanged), (Some(200), None, false), "{first:?}");
    let import = first.import.as_ref().unwrap();
    assert_eq!((import.read, import.new), (2, 2));
    assert_eq!(values(&app, &hub), ["45.9.20.31", "80.94.95.112"]);
    let recorded = app.imports(&hub).unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].source.as_str(), recorded[0].path.as_str()),
        ("list-source", server.url("/list.txt").as_str())
    );

    let second = run(&app, &hub, "list");
    assert_eq!((second.status, second.unchanged, second.import.is_none(), second.bytes), (Some(304), true, true, 0));
    assert_eq!(imports(&app, &hub), 1, "a 304 makes no import");
    assert_eq!(server.requests("/list.txt"), 2, "one request per run");
    let listed = app.feeds(&hub).unwrap().remove(0);
    assert!(listed.last_success.is_some() && listed.last_error.is_none(), "{listed:?}");
    assert_eq!(listed.headers, ["X-Api-Key"], "header names are listed, their values are not");
}

#[test]
fn retries_recover_after_a_500_and_gzip_is_unpacked() {
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let gzipped = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"80.94.95.112\n185.220.101.77\n").unwrap();
        encoder.finish().unwrap()
    };
    let server = Server::start(vec![(
        "/list.txt.gz",
        Box::new(move |_: &HashMap<String, String>| {
            let mut n = counter.lock().unwrap();
            *n += 1;
            if *n == 1 {
                return (500, vec![], b"busy".to_vec());
            }
            ok(&gzipped)
        }),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::AnyForTesting);
    app.add_feed(&hub, &feed("gz", &server.url("/list.txt.gz"))).unwrap();
    let outcome = run(&app, &hub, "gz");
    assert_eq!((outcome.status, outcome.error.as_deref()), (Some(200), None), "{outcome:?}");
    assert_eq!(*calls.lock().unwrap(), 2, "the 500 was retried once");
    assert_eq!(values(&app, &hub), ["185.220.101.77", "80.94.95.112"], "the gzip file was unpacked");
}

#[test]
fn a_failing_feed_is_listed_with_its_error_and_blocks_no_other() {
    let server = Server::start(vec![
        ("/down.txt", Box::new(|_: &HashMap<String, String>| -> Answer { (503, vec![], b"down".to_vec()) }) as Route),
        ("/up.txt", Box::new(|_: &HashMap<String, String>| ok(b"80.94.95.112\n"))),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::AnyForTesting);
    app.add_feed(&hub, &feed("a-down", &server.url("/down.txt"))).unwrap();
    app.add_feed(&hub, &feed("b-up", &server.url("/up.txt"))).unwrap();
    let outcomes = app.run_due_feeds(cordon_app::now()).unwrap();
    assert_eq!(outcomes.len(), 2);
    let error = outcomes[0].error.as_deref().unwrap();
    assert!(error.contains("HTTP 503") && error.contains("after 3 attempts"), "{error}");
    assert_eq!(outcomes[0].status, Some(503));
    assert_eq!(server.requests("/down.txt"), 3, "three attempts");
    assert_eq!((outcomes[1].error.as_deref(), outcomes[1].import.as_ref().map(|i| i.new)), (None, Some(1)));
    let listed = app.feeds(&hub).unwrap();
    assert_eq!(listed[0].last_error.as_deref(), Some(error));
    assert!(listed[0].last_success.is_none() && listed[0].last_run.is_some());
    assert!(listed[1].last_error.is_none() && listed[1].last_success.is_some());
    assert!(app.run_due_feeds(cordon_app::now()).unwrap().is_empty(), "neither is due again before its interval");
}

/// How long the stalling routes below keep a request waiting: far past
/// the tests' timeout.
const STALL: Duration = Duration::from_secs(5);

/// The timeout of the tests whose servers stall.
const SHORT: Duration = Duration::from_millis(300);

#[test]
fn a_request_that_times_out_is_retried_and_the_feed_run_succeeds() {
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let server = Server::start(vec![(
        "/slow.txt",
        Box::new(move |_: &HashMap<String, String>| {
            let first = {
                let mut n = counter.lock().unwrap();
                *n += 1;
                *n == 1
            };
            if first {
                std::thread::sleep(STALL);
            }
            ok(b"80.94.95.112\n")
        }) as Route,
    )]);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app_timing_out(&dir, Destinations::AnyForTesting, SHORT);
    app.add_feed(&hub, &feed("slow", &server.url("/slow.txt"))).unwrap();
    let started = std::time::Instant::now();
    let outcome = run(&app, &hub, "slow");
    assert_eq!((outcome.status, outcome.error.as_deref()), (Some(200), None), "{outcome:?}");
    assert_eq!(*calls.lock().unwrap(), 2, "the timed-out request was retried once");
    assert!(started.elapsed() < STALL, "the first attempt was given up at the timeout: {:?}", started.elapsed());
    assert_eq!(values(&app, &hub), ["80.94.95.112"]);
}

#[test]
fn a_feed_that_always_times_out_is_listed_with_its_error_and_blocks_no_other() {
    let server = Server::start(vec![
        (
            "/stalled.txt",
            Box::new(|_: &HashMap<String, String>| -> Answer {
                std::thread::sleep(STALL);
                ok(b"80.94.95.112\n")
            }) as Route,
        ),
        ("/up.txt", Box::new(|_: &HashMap<String, String>| ok(b"185.220.101.77\n"))),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app_timing_out(&dir, Destinations::AnyForTesting, SHORT);
    app.add_feed(&hub, &feed("a-stalled", &server.url("/stalled.txt"))).unwrap();
    app.add_feed(&hub, &feed("b-up", &server.url("/up.txt"))).unwrap();
    let started = std::time::Instant::now();
    let outcomes = app.run_due_feeds(cordon_app::now()).unwrap();
    assert!(started.elapsed() < STALL, "three attempts end at their timeouts: {:?}", started.elapsed());
    assert_eq!(outcomes.len(), 2);
    let error = outcomes[0].error.as_deref().unwrap();
    assert!(error.contains("after 3 attempts") && error.to_lowercase().contains("timeout"), "{error}");
    assert_eq!(server.requests("/stalled.txt"), 3, "three attempts");
    assert_eq!((outcomes[1].error.as_deref(), outcomes[1].import.as_ref().map(|i| i.new)), (None, Some(1)));
    let listed = app.feeds(&hub).unwrap();
    assert_eq!(listed[0].last_error.as_deref(), Some(error));
    assert!(listed[0].last_success.is_none() && !listed[0].next_run.is_empty());
    assert!(listed[1].last_error.is_none() && listed[1].last_success.is_some());
    assert_eq!(values(&app, &hub), ["185.220.101.77"]);
}

#[test]
fn the_guard_refuses_loopback_without_the_opt_in() {
    let server =
        Server::start(vec![("/list.txt", Box::new(|_: &HashMap<String, String>| ok(b"80.94.95.112\n")) as Route)]);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::Public);
    app.add_feed(&hub, &feed("local", &server.url("/list.txt"))).unwrap();
    app.add_feed(&hub, &feed("named", &format!("http://localhost:{}/list.txt", server.port))).unwrap();
    for outcome in app.run_feeds(&hub, &[]).unwrap() {
        let error = outcome.error.as_deref().unwrap_or_default();
        assert!(error.contains("refused addresses") && error.contains("loopback"), "{outcome:?}");
    }
    assert_eq!(server.total(), 0, "nothing was connected to");
    assert!(values(&app, &hub).is_empty());
    assert_eq!(imports(&app, &hub), 0);
}

#[test]
fn feeds_are_checked_when_added() {
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::AnyForTesting);
    let bad = [
        NewFeed { url: "ftp://f.example/x".into(), ..feed("a", "") },
        NewFeed { url: "https://user:pw@f.example/x".into(), ..feed("a", "") },
        NewFeed { headers: vec![("X-A".into(), "v\r\nX-B: injected".into())], ..feed("a", "https://f.example/") },
        NewFeed { headers: vec![("Bad Name".into(), "v".into())], ..feed("a", "https://f.example/") },
        NewFeed { basic_auth_env: Some("A-B".into()), ..feed("a", "https://f.example/") },
        NewFeed { every: 5, ..feed("a", "https://f.example/") },
        feed("../a", "https://f.example/"),
    ];
    for new in bad {
        assert!(matches!(app.add_feed(&hub, &new), Err(cordon_app::AppError::Invalid(_))), "{new:?}");
    }
    app.add_feed(&hub, &feed("a", "https://f.example/")).unwrap();
    assert!(matches!(app.add_feed(&hub, &feed("a", "https://f.example/")), Err(cordon_app::AppError::Conflict(_))));
    let soc = NewOrganisation { name: "soc".into(), kind: OrgKind::Defender, country: None, asns: vec![] };
    app.add_org(&hub, &soc).unwrap();
    let soc = app.viewer(Some("soc")).unwrap();
    assert!(matches!(app.feeds(&soc), Err(cordon_app::AppError::Forbidden(_))), "feeds are the hub's");
    app.remove_feed(&hub, "a").unwrap();
    assert!(matches!(app.remove_feed(&hub, "a"), Err(cordon_app::AppError::NotFound(_))));
}

const EVENT_A: &str = "5f2b3c4d-1111-4222-8333-944455566677";
const EVENT_B: &str = "6a7b8c9d-2222-4333-8444-a55566677788";

fn misp_event(uuid: &str, value: &str, timestamp: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"Event": {
        "uuid": uuid, "info": "c2", "date": "2026-11-30", "timestamp": timestamp,
        "Attribute": [{"type": "ip-dst", "category": "Network activity", "value": value, "to_ids": true,
                       "timestamp": timestamp}],
    }}))
    .unwrap()
}

#[test]
fn a_misp_feed_imports_only_new_or_changed_events() {
    let stamp_b = Arc::new(Mutex::new("1700000000".to_string()));
    let (manifest_b, event_b) = (stamp_b.clone(), stamp_b.clone());
    let routes: Vec<(&'static str, Route)> = vec![
        (
            "/misp/manifest.json",
            Box::new(move |headers: &HashMap<String, String>| {
                let b = manifest_b.lock().unwrap().clone();
                let etag = format!("\"m{b}\"");
                if headers.get("if-none-match") == Some(&etag) {
                    return (304, vec![], vec![]);
                }
                let manifest = serde_json::json!({
                    EVENT_A: {"info": "c2", "timestamp": "1700000000"},
                    EVENT_B: {"info": "c2", "timestamp": b},
                    "../../etc/passwd": {"timestamp": "1"},
                });
                (200, vec![("ETag".into(), etag)], serde_json::to_vec(&manifest).unwrap())
            }),
        ),
        (
            "/misp/5f2b3c4d-1111-4222-8333-944455566677.json",
            Box::new(|_: &HashMap<String, String>| ok(&misp_event(EVENT_A, "80.94.95.112", "1700000000"))),
        ),
        (
            "/misp/6a7b8c9d-2222-4333-8444-a55566677788.json",
            Box::new(move |_: &HashMap<String, String>| {
                let b = event_b.lock().unwrap().clone();
                let value = if b == "1700000000" { "45.9.20.31" } else { "185.220.101.77" };
                ok(&misp_event(EVENT_B, value, &b))
            }),
        ),
    ];
    let server = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::AnyForTesting);
    app.add_feed(&hub, &feed("misp", &server.url("/misp/manifest.json"))).unwrap();
    assert_eq!(app.feeds(&hub).unwrap()[0].kind, "misp-feed");

    let first = run(&app, &hub, "misp");
    assert_eq!(first.error, None, "{first:?}");
    assert_eq!(first.import.as_ref().map(|i| (i.format, i.read)), Some(("misp", 2)));
    assert_eq!(
        (server.requests(&format!("/misp/{EVENT_A}.json")), server.requests(&format!("/misp/{EVENT_B}.json"))),
        (1, 1)
    );
    assert_eq!(server.total(), 3, "no request for a key that is not a UUID");

    let unchanged = run(&app, &hub, "misp");
    assert_eq!((unchanged.status, unchanged.unchanged), (Some(304), true));

    *stamp_b.lock().unwrap() = "1700000500".to_string();
    let changed = run(&app, &hub, "misp");
    assert_eq!(changed.error, None, "{changed:?}");
    assert_eq!(changed.import.as_ref().map(|i| (i.read, i.new)), Some((1, 1)), "only the changed event");
    assert_eq!(server.requests(&format!("/misp/{EVENT_A}.json")), 1, "the unchanged event is not fetched again");
    assert_eq!(server.requests(&format!("/misp/{EVENT_B}.json")), 2);
    assert_eq!(values(&app, &hub), ["185.220.101.77", "45.9.20.31", "80.94.95.112"]);
    assert_eq!(imports(&app, &hub), 2);
}

/// medallion (memory backend) on a free port, with one collection holding
/// `objects`, behind HTTP Basic `feeds:secret`.
struct Medallion {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

impl Medallion {
    fn start(objects: &[serde_json::Value]) -> Medallion {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let manifest: Vec<serde_json::Value> = objects
            .iter()
            .map(|o| {
                serde_json::json!({"id": o["id"], "date_added": "2026-11-30T10:00:00.000000Z",
                                        "version": o["modified"], "media_type": "application/stix+json;version=2.1"})
            })
            .collect();
        let api_root = format!("http://127.0.0.1:{port}/api1/");
        let data = serde_json::json!({
            "/discovery": {"title": "medallion", "default": api_root, "api_roots": [api_root]},
            "api1": {
                "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"],
                                "max_content_length": 10_000_000},
                "status": [],
                "collections": [{"id": COLLECTION, "title": "feeds", "can_read": true, "can_write": true,
                                 "media_types": ["application/stix+json;version=2.1"],
                                 "objects": objects, "manifest": manifest}],
            },
        });
        let data_path = dir.path().join("data.json");
        std::fs::write(&data_path, serde_json::to_vec(&data).unwrap()).unwrap();
        let config = serde_json::json!({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": data_path},
            "users": {"feeds": "secret"}, "taxii": {"max_page_size": 2},
        });
        let config_path = dir.path().join("medallion.json");
        std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        let child = Command::new("medallion")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("medallion is missing: run scripts/install-peers.sh");
        // Killed and waited for when dropped, also when it never comes up.
        let medallion = Medallion { child, port, _dir: dir };
        for _ in 0..300 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return medallion;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("medallion did not start");
    }

    fn collection(&self) -> String {
        format!("taxii2+http://127.0.0.1:{}/api1/collections/{COLLECTION}/", self.port)
    }

    /// Posts an envelope of `objects` to the collection.
    fn post(&self, objects: &[serde_json::Value]) {
        let body = serde_json::to_vec(&serde_json::json!({"objects": objects})).unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let request = format!(
            "POST /api1/collections/{COLLECTION}/objects/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Basic ZmVlZHM6c2VjcmV0\r\nAccept: application/taxii+json;version=2.1\r\n\
             Content-Type: application/taxii+json;version=2.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 202") || answer.starts_with("HTTP/1.0 202"), "{answer}");
    }
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn indicator(n: u32, address: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{n:08x}-1111-4222-8333-944455566677"),
        "created": "2026-11-30T09:00:00.000Z", "modified": "2026-11-30T09:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '{address}']"), "pattern_type": "stix",
        "valid_from": "2026-11-30T09:00:00Z", "indicator_types": ["malicious-activity"],
    })
}

#[test]
fn a_taxii_collection_is_pulled_incrementally_from_medallion() {
    let first: Vec<serde_json::Value> = ["80.94.95.112", "45.9.20.31", "185.220.101.77"]
        .iter()
        .enumerate()
        .map(|(i, a)| indicator(i as u32, a))
        .collect();
    let medallion = Medallion::start(&first);
    let dir = tempfile::tempdir().unwrap();
    let (app, hub) = app(&dir, Destinations::AnyForTesting);
    std::env::set_var("CORDON_TEST_MEDALLION_AUTH", "feeds:secret");
    let new = NewFeed {
        basic_auth_env: Some("CORDON_TEST_MEDALLION_AUTH".into()),
        headers: vec![],
        ..feed("taxii", &medallion.collection())
    };
    app.add_feed(&hub, &new).unwrap();
    assert_eq!(app.feeds(&hub).unwrap()[0].kind, "taxii");

    let pulled = run(&app, &hub, "taxii");
    assert_eq!(pulled.error, None, "{pulled:?}");
    assert_eq!(pulled.import.as_ref().map(|i| (i.format, i.read)), Some(("stix", 3)), "three objects over two pages");
    assert_eq!(values(&app, &hub).len(), 3);

    let nothing = run(&app, &hub, "taxii");
    assert_eq!((nothing.error.as_deref(), nothing.unchanged), (None, true), "{nothing:?}");
    assert_eq!(imports(&app, &hub), 1, "no new object, no import");

    std::thread::sleep(Duration::from_millis(20));
    medallion.post(&[indicator(10, "193.142.146.35")]);
    let more = run(&app, &hub, "taxii");
    assert_eq!(more.error, None, "{more:?}");
    assert_eq!(more.import.as_ref().map(|i| (i.read, i.new)), Some((1, 1)), "only the new object: {more:?}");
    assert_eq!(values(&app, &hub).len(), 4);

    std::env::remove_var("CORDON_TEST_MEDALLION_AUTH");
    let unauthenticated = run(&app, &hub, "taxii");
    assert!(unauthenticated.error.as_deref().unwrap_or_default().contains("CORDON_TEST_MEDALLION_AUTH is not set"));
}
