//! Coordination and streams over HTTP: bulk transitions (all or none, an
//! agency its country's only, bounded), package files checked against
//! their manifest, gzipped submissions, chunked blocklists.

mod common;

use cordon_store::ops::TargetState;
use serde_json::{json, Value};

use common::fixture::{world, Who, World};
use common::{request, send};

fn targets(world: &World, country: &str) -> Vec<cordon_store::ops::Target> {
    let hub = world.app.viewer(None).unwrap();
    let all = world.app.targets(&hub, &Default::default()).unwrap();
    all.into_iter().filter(|t| t.spec.country.as_deref() == Some(country)).collect()
}

fn bulk(world: &World, who: Who, body: Value) -> common::Answer {
    let path = "/api/v1/operations/op/transitions";
    request(world.addr, "POST", path, Some(world.token(who)), Some(&body.to_string()))
}

fn states(world: &World) -> Vec<(i64, TargetState)> {
    let hub = world.app.viewer(None).unwrap();
    world.app.targets(&hub, &Default::default()).unwrap().iter().map(|t| (t.id, t.state)).collect()
}

#[test]
fn bulk_transitions_move_all_or_none() {
    let world = world();
    let before = states(&world);
    let romanian = targets(&world, "RO");
    let german = targets(&world, "DE");
    // The agency sees the Romanian targets it may know something of.
    let shown = request(world.addr, "GET", "/api/v1/operations/op/targets", Some(world.token(Who::Agency)), None);
    let visible: Vec<i64> = shown.json().as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert!(visible.len() >= 2 && visible.iter().all(|id| romanian.iter().any(|t| t.id == *id)));

    // Another country's target is unknown to the agency: nothing moves.
    let mixed: Vec<i64> = visible.iter().copied().chain([german[0].id]).collect();
    let refused = bulk(&world, Who::Agency, json!({"targets": mixed, "to": "taken-down", "note": "seized"}));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.header("content-type"), Some("application/problem+json"));
    let results = refused.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), mixed.len());
    assert_eq!(results.last().unwrap()["outcome"], "not-found");
    assert_eq!(results.last().unwrap()["from"], Value::Null, "nothing about another country's target");
    assert!(results[..visible.len()].iter().all(|r| r["outcome"] == "movable"), "{results:?}");
    assert_eq!(states(&world), before, "all or none");

    // An agency records takedowns and rejections only; bounded requests.
    assert_eq!(bulk(&world, Who::Agency, json!({"targets": visible, "to": "triaged"})).status, 403);
    let too_many: Vec<i64> = (0..10_001).collect();
    assert_eq!(bulk(&world, Who::Hub, json!({"targets": too_many, "to": "rejected"})).status, 413);
    assert_eq!(bulk(&world, Who::Defender, json!({"targets": visible, "to": "rejected"})).status, 403);

    // Its own: every one moves, with the one note.
    let moved = bulk(&world, Who::Agency, json!({"targets": visible, "to": "taken-down", "note": "seized"}));
    assert_eq!(moved.status, 200, "{}", moved.body);
    let answer = moved.json();
    assert_eq!(answer["applied"], true);
    assert!(answer["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "moved" && r["from"].is_string()));
    let hub = world.app.viewer(None).unwrap();
    for id in &visible {
        let detail = world.app.target(&hub, *id).unwrap();
        assert_eq!(detail.target.state, "taken-down");
        let last = detail.history.last().unwrap();
        assert_eq!((last.note.as_str(), last.actor.as_str()), ("seized", "officer@ncu.example"));
    }

    // The lifecycle refuses taken-down → taken-down: said per target, and
    // the hub's valid move of a German target in the same call is undone.
    let again: Vec<i64> = [german[0].id].into_iter().chain(visible.iter().copied()).collect();
    let refused = bulk(&world, Who::Hub, json!({"targets": again, "to": "taken-down"}));
    assert_eq!(refused.status, 409, "{}", refused.body);
    let results = refused.json()["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["outcome"], "movable");
    assert!(results[1..].iter().all(|r| r["outcome"] == "refused" && r["detail"].as_str().unwrap().contains("cannot")));
    assert_eq!(world.app.target(&hub, german[0].id).unwrap().target.state, before_state(&before, german[0].id));
}

fn before_state(before: &[(i64, TargetState)], id: i64) -> &'static str {
    before.iter().find(|(t, _)| *t == id).map(|(_, s)| s.as_str()).unwrap_or_default()
}

#[test]
fn a_package_file_changed_on_disk_is_never_served() {
    let world = world();
    let path = "/api/v1/operations/op/packages/RO/targets.csv";
    let agency = world.token(Who::Agency);
    assert_eq!(request(world.addr, "GET", path, Some(agency), None).status, 200);
    let file = world.out.path().join("packages/RO/targets.csv");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("injected,row\n");
    std::fs::write(&file, text).unwrap();
    let changed = request(world.addr, "GET", path, Some(agency), None);
    assert_eq!(changed.status, 409, "{}", changed.body);
    assert!(!changed.body.contains("injected"));
    // The manifest itself is checked against the store's record.
    let manifest = world.out.path().join("packages/RO/manifest.json");
    std::fs::write(&manifest, "{}").unwrap();
    let json = "/api/v1/operations/op/packages/RO/report.json";
    assert_eq!(request(world.addr, "GET", json, Some(agency), None).status, 409);
    assert_eq!(request(world.addr, "GET", "/api/v1/operations/nope/packages", Some(agency), None).status, 404);
}

#[test]
fn submissions_take_gzip_and_say_what_they_refuse() {
    let world = world();
    let token = world.callers.iter().find(|c| c.role == cordon_app::access::Role::Submitter).unwrap();
    let auth = format!("Authorization: Bearer {}\r\n", token.token);
    let feed = "45.77.0.1\n45.77.0.2\n45.77.0.3\n";
    let zipped = common::gzip(feed.as_bytes());
    let said = send(
        world.addr,
        "POST",
        "/api/v1/submissions?tlp=green",
        &format!("{auth}Content-Encoding: gzip\r\n"),
        &zipped,
    );
    assert_eq!((said.status, said.json()["new"].as_u64()), (200, Some(3)), "{}", said.body);
    let unsaid = send(world.addr, "POST", "/api/v1/submissions?tlp=green", &auth, &zipped);
    assert_eq!(unsaid.json()["new"].as_u64(), Some(0), "the same feed, recognised by its magic bytes");
    let lie =
        send(world.addr, "POST", "/api/v1/submissions", &format!("{auth}Content-Encoding: gzip\r\n"), feed.as_bytes());
    assert_eq!(lie.status, 400, "{}", lie.body);
    let brotli =
        send(world.addr, "POST", "/api/v1/submissions", &format!("{auth}Content-Encoding: br\r\n"), feed.as_bytes());
    assert_eq!(brotli.status, 415);
    let broken = send(world.addr, "POST", "/api/v1/submissions", &auth, &zipped[..zipped.len() / 2]);
    assert_eq!(broken.status, 400, "a truncated gzip stream: {}", broken.body);
}

#[test]
fn blocklists_stream_chunked_and_keep_their_etag() {
    let world = world();
    let token = world.token(Who::Defender);
    let list = request(world.addr, "GET", "/api/v1/blocklists/plain", Some(token), None);
    assert_eq!(list.status, 200);
    assert_eq!(list.header("transfer-encoding"), Some("chunked"));
    assert_eq!(list.header("content-length"), None);
    assert!(list.body.contains("45.10.0.7\n") && !list.body.contains("45.10.2.7"), "GREEN and CLEAR only");
    let etag = list.header("etag").unwrap().to_string();
    let again = common::request_with(
        world.addr,
        "GET",
        "/api/v1/blocklists/plain",
        Some(token),
        None,
        &format!("If-None-Match: {etag}\r\n"),
    );
    assert_eq!(again.status, 304);
}
