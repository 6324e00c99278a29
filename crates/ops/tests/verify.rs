//! Verification, only ever against servers this test starts on 127.0.0.1:
//! the tests that probe them opt in with `Destinations::AnyForTesting`;
//! without it, loopback and private addresses are refused (issue 9).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cordon_model::{Category, Record, Tlp};
use cordon_ops::verify::{is_refused, run_probes, verify, verify_to, Destinations, Probe, VerifyConfig};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{Check, Operation, OpsStore, TargetFilter, TargetState};
use cordon_store::SqliteStore;
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// Serves `HTTP/1.0 200` to every connection until the test ends.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    port
}

/// What the TLS server saw on one connection.
#[derive(Debug)]
struct Seen {
    /// The SNI name the client sent.
    sni: Option<String>,
    /// The request head (empty if the handshake or the read failed).
    request: String,
}

/// A TLS server with a fresh self-signed certificate for `phish.example`.
/// It answers `GET /status/NNN` with status NNN and closes without an
/// answer after any other request; each connection's SNI and request go to
/// the receiver.
fn tls_server() -> (u16, Receiver<Seen>) {
    let key = rcgen::generate_simple_self_signed(vec!["phish.example".to_string()]).unwrap();
    let private = PrivatePkcs8KeyDer::from(key.signing_key.serialize_der());
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![key.cert.der().clone()], private.into())
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut tls = StreamOwned::new(ServerConnection::new(Arc::clone(&config)).unwrap(), stream);
            let mut request = Vec::new();
            let mut buf = [0u8; 512];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let request = String::from_utf8_lossy(&request).into_owned();
            if let Some(code) = request.strip_prefix("GET /status/").and_then(|r| r.get(..3)) {
                let _ = write!(tls, "HTTP/1.0 {code} Test\r\nContent-Length: 0\r\n\r\n");
            }
            tls.conn.send_close_notify();
            let _ = tls.flush();
            let _ = seen.send(Seen { sni: tls.conn.server_name().map(str::to_string), request });
        }
    });
    (port, receiver)
}

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Imports `records`, builds an operation's targets and takes them all down.
fn taken_down(store: &SqliteStore, records: &[Record]) -> Operation {
    common::import(store, "p", records);
    let op = common::operation(store);
    let actor = Actor::new("a", common::T0, "");
    common::build_including_flagged(store, &op, &actor);
    for to in [TargetState::Triaged, TargetState::Referred, TargetState::TakenDown] {
        let all = store.targets(&TargetFilter::default()).unwrap();
        transition(store, &all, to, None, &actor).unwrap();
    }
    op
}

/// The check of one probe GETting `url`, and how long it took.
fn get(url: &str, timeout: Duration) -> (Check, Duration) {
    let probe = Probe { target_id: 1, connect: Vec::new(), get: vec![url.to_string()] };
    let config = VerifyConfig { concurrency: 2, timeout, min_interval: 60 };
    let start = Instant::now();
    let mut checks = run_probes(&[probe], &config, Destinations::AnyForTesting, common::T0);
    assert_eq!(checks.len(), 1);
    (checks.remove(0), start.elapsed())
}

#[test]
fn up_and_down_targets_and_verification_after_two_down_checks() {
    let open = http_server();
    let closed = closed_port();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut live = common::record(&format!("http://127.0.0.1:{open}/panel"), &[], Category::C2, Tlp::Green, None);
    live.attributes.port = Some(open);
    let mut dead = common::record("127.0.0.2", &[], Category::C2, Tlp::Green, None);
    dead.attributes.port = Some(closed);
    let op = taken_down(&store, &[live, dead]);
    let config = VerifyConfig { concurrency: 4, timeout: Duration::from_millis(500), min_interval: 60 };
    let first =
        verify_to(&store, &op, &config, Destinations::AnyForTesting, true, &Actor::new("v", common::T0 + 100, ""))
            .unwrap();
    assert_eq!((first.checked, first.up, first.verified), (2, 1, 0));
    let too_soon =
        verify_to(&store, &op, &config, Destinations::AnyForTesting, true, &Actor::new("v", common::T0 + 110, ""))
            .unwrap();
    assert!(too_soon.eligible.is_empty(), "two down checks 10 s apart are not enough");
    let later =
        verify_to(&store, &op, &config, Destinations::AnyForTesting, true, &Actor::new("v", common::T0 + 200, ""))
            .unwrap();
    assert_eq!((later.eligible.len(), later.verified), (1, 1));
    let states: Vec<(String, TargetState)> =
        store.targets(&TargetFilter::default()).unwrap().into_iter().map(|t| (t.spec.key, t.state)).collect();
    assert_eq!(
        states,
        [("127.0.0.1".to_string(), TargetState::TakenDown), ("127.0.0.2".to_string(), TargetState::Verified)]
    );
    let checks = store.checks(1).unwrap();
    assert!(checks[0].up && checks[0].detail.contains("GET http://127.0.0.1"), "{}", checks[0].detail);
}

#[test]
fn verify_gets_a_taken_down_targets_https_url() {
    let (port, seen) = tls_server();
    let store = SqliteStore::open_in_memory().unwrap();
    let url = format!("https://127.0.0.1:{port}/status/200");
    let mut live = common::record(&url, &[], Category::Phishing, Tlp::Green, None);
    live.attributes.port = Some(port);
    let op = taken_down(&store, &[live]);
    let config = VerifyConfig { concurrency: 4, timeout: Duration::from_millis(500), min_interval: 60 };
    let summary =
        verify_to(&store, &op, &config, Destinations::AnyForTesting, false, &Actor::new("v", common::T0 + 100, ""))
            .unwrap();
    assert_eq!((summary.checked, summary.up), (1, 1));
    let checks = store.checks(1).unwrap();
    assert!(checks[0].detail.contains(&format!("GET {url} 200")), "{}", checks[0].detail);
    // The first connection is the TCP probe of the port, which says nothing.
    let request = seen.iter().take(2).map(|s| s.request).find(|r| !r.is_empty()).unwrap_or_default();
    assert!(request.starts_with("GET /status/200 HTTP/1.0\r\n"), "{request}");
}

#[test]
fn https_answer_2xx_or_3xx_is_up_whatever_the_certificate() {
    let (port, seen) = tls_server();
    for code in [200, 302] {
        let url = format!("https://127.0.0.1:{port}/status/{code}?id=7#top");
        let (check, _) = get(&url, Duration::from_millis(500));
        assert!(check.up, "{}", check.detail);
        assert_eq!(check.detail, format!("GET {url} {code}"));
        let received = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(received.request.starts_with(&format!("GET /status/{code}?id=7 HTTP/1.0\r\n")), "{received:?}");
        assert!(received.request.contains(&format!("\r\nHost: 127.0.0.1:{port}\r\n")), "{received:?}");
        assert_eq!(received.sni, None, "no SNI for an IP literal");
    }
}

#[test]
fn https_answer_4xx_5xx_or_none_after_the_handshake_is_down() {
    let (port, seen) = tls_server();
    for (path, outcome) in [("/status/404", "404"), ("/status/500", "500"), ("/login", "no answer (")] {
        let url = format!("https://127.0.0.1:{port}{path}");
        let (check, _) = get(&url, Duration::from_millis(500));
        assert!(!check.up, "{}", check.detail);
        assert!(check.detail.starts_with(&format!("GET {url} {outcome}")), "{}", check.detail);
        let received = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(received.request.starts_with(&format!("GET {path} HTTP/1.0\r\n")), "{received:?}");
    }
}

#[test]
fn https_url_on_a_non_tls_listener_is_down_within_the_timeout() {
    let timeout = Duration::from_millis(300);
    // Answers plain HTTP 200: garbage to a TLS client.
    let plain = http_server();
    let (check, elapsed) = get(&format!("https://127.0.0.1:{plain}/"), timeout);
    assert!(!check.up && check.detail.contains("no answer (TLS handshake: "), "{}", check.detail);
    assert!(elapsed < timeout * 4, "{elapsed:?}");
    // Accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let (check, elapsed) = get(&format!("https://127.0.0.1:{silent_port}/"), timeout);
    assert_eq!(check.detail, format!("GET https://127.0.0.1:{silent_port}/ no answer (TLS handshake: timed out)"));
    assert!(!check.up);
    assert!(elapsed >= timeout && elapsed < timeout * 4, "{elapsed:?}");
    drop(silent);
}

#[test]
fn https_url_on_a_closed_port_is_down() {
    let closed = closed_port();
    let (check, _) = get(&format!("https://127.0.0.1:{closed}/"), Duration::from_millis(300));
    assert!(!check.up);
    assert!(check.detail.contains("no answer (connect: "), "{}", check.detail);
}

/// A listener on 127.0.0.1 that counts the connections it accepts.
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
        }
    });
    (port, accepted)
}

/// Regression (issue 9, SSRF): `verify` connected to whatever a target's
/// address or a URL's host resolved to. Without the opt-in, targets on
/// 127.0.0.1 and `localhost` are refused, nothing connects to them, and the
/// refused checks neither count as up nor as down. (A `localhost` URL
/// cannot be stored, `normalize` rejects it; `run_probes` is tested with one
/// below.)
#[test]
fn verify_refuses_loopback_targets_without_connecting() {
    let (port, accepted) = counting_listener();
    let store = SqliteStore::open_in_memory().unwrap();
    let mut by_ip = common::record(&format!("http://127.0.0.1:{port}/panel"), &[], Category::C2, Tlp::Green, None);
    by_ip.attributes.port = Some(port);
    let mut bare = common::record("127.0.0.2", &[], Category::C2, Tlp::Green, None);
    bare.attributes.port = Some(port);
    let op = taken_down(&store, &[by_ip, bare]);
    let targets = store.targets(&TargetFilter::default()).unwrap();
    assert_eq!(targets.len(), 2, "{targets:?}");
    let config = VerifyConfig { concurrency: 4, timeout: Duration::from_millis(500), min_interval: 60 };
    for time in [100, 200, 300] {
        let summary = verify(&store, &op, &config, true, &Actor::new("v", common::T0 + time, "")).unwrap();
        assert_eq!((summary.checked, summary.up, summary.refused, summary.skipped), (0, 0, 2, 2), "{summary:?}");
        assert!(summary.eligible.is_empty() && summary.verified == 0, "{summary:?}");
    }
    for target in &targets {
        let checks = store.checks(target.id).unwrap();
        assert_eq!(checks.len(), 3);
        for check in &checks {
            assert!(is_refused(check) && !check.up, "{}", check.detail);
            assert!(check.detail.contains("is a loopback address (bogon:loopback)"), "{}", check.detail);
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "nothing may connect to a refused address");
    assert!(
        store.targets(&TargetFilter::default()).unwrap().iter().all(|t| t.state == TargetState::TakenDown),
        "no target is verified on refused checks"
    );
}

/// The same probes reach the server once a test opts in.
#[test]
fn probes_reach_loopback_only_with_the_opt_in() {
    let (port, accepted) = counting_listener();
    let config = VerifyConfig { concurrency: 2, timeout: Duration::from_millis(500), min_interval: 60 };
    let probes = [
        Probe { target_id: 1, connect: vec![format!("127.0.0.1:{port}").parse().unwrap()], get: Vec::new() },
        Probe { target_id: 2, connect: Vec::new(), get: vec![format!("http://localhost:{port}/")] },
        Probe { target_id: 3, connect: vec![format!("[::ffff:127.0.0.1]:{port}").parse().unwrap()], get: Vec::new() },
    ];
    let refused = run_probes(&probes, &config, Destinations::Public, common::T0);
    assert!(refused.iter().all(|c| is_refused(c) && !c.up), "{refused:?}");
    assert!(refused[1].detail.contains("localhost resolves only to refused addresses: "), "{}", refused[1].detail);
    assert!(refused[2].detail.contains("::ffff:127.0.0.1 is a loopback address"), "{}", refused[2].detail);
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    let probed = run_probes(&probes, &config, Destinations::AnyForTesting, common::T0);
    assert!(probed.iter().all(|c| !is_refused(c)), "{probed:?}");
    assert!(probed[0].up && probed[1].up, "{probed:?}");
    assert!(accepted.load(Ordering::SeqCst) >= 2);
}
