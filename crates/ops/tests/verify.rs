//! Verification, only ever against servers this test starts on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use cordon_model::{Category, Tlp};
use cordon_ops::verify::{verify, VerifyConfig};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{OpsStore, TargetFilter, TargetState};
use cordon_store::SqliteStore;

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

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn up_and_down_targets_and_verification_after_two_down_checks() {
    let open = http_server();
    let closed = closed_port();
    let mut store = SqliteStore::open_in_memory().unwrap();
    let mut live = common::record(&format!("http://127.0.0.1:{open}/panel"), &[], Category::C2, Tlp::Green, None);
    live.attributes.port = Some(open);
    let mut dead = common::record("127.0.0.2", &[], Category::C2, Tlp::Green, None);
    dead.attributes.port = Some(closed);
    common::import(&mut store, "p", &[live, dead]);
    let op = common::operation(&mut store);
    let actor = Actor::new("a", common::T0, "");
    common::build(&mut store, &op, &actor);
    for to in [TargetState::Triaged, TargetState::Referred, TargetState::TakenDown] {
        let all = store.targets(&TargetFilter::default()).unwrap();
        transition(&mut store, &all, to, None, &actor).unwrap();
    }
    let config = VerifyConfig { concurrency: 4, timeout: Duration::from_millis(500), min_interval: 60 };
    let first = verify(&mut store, &op, &config, true, &Actor::new("v", common::T0 + 100, "")).unwrap();
    assert_eq!((first.checked, first.up, first.verified), (2, 1, 0));
    let too_soon = verify(&mut store, &op, &config, true, &Actor::new("v", common::T0 + 110, "")).unwrap();
    assert!(too_soon.eligible.is_empty(), "two down checks 10 s apart are not enough");
    let later = verify(&mut store, &op, &config, true, &Actor::new("v", common::T0 + 200, "")).unwrap();
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
