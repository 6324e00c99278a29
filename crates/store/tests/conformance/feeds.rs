//! Feeds: defined once by name, their headers kept in order, each run
//! recorded with its provenance; a failed run keeps the last good state and
//! a removed feed's runs stay.

use cordon_model::{Category, Tlp};
use cordon_store::feeds::{FeedRun, FeedSpec, FeedState};
use cordon_store::StoreError;

use super::ops::import;
use super::{fresh, Backend};

fn spec(name: &str) -> FeedSpec {
    FeedSpec {
        name: name.to_string(),
        url: "https://feeds.example/list.txt".to_string(),
        source: "vendor-a".to_string(),
        format: Some("plain".to_string()),
        tlp: Some(Tlp::Green),
        category: Some(Category::C2),
        every: 3600,
        headers: vec![("X-Key-Id".to_string(), "7".to_string()), ("Accept".to_string(), "text/plain".to_string())],
        basic_auth_env: Some("FEED_A_AUTH".to_string()),
    }
}

fn run(feed: &str, time: i64, error: Option<&str>, import_id: Option<i64>) -> FeedRun {
    FeedRun {
        feed: feed.to_string(),
        time,
        url: "https://feeds.example/list.txt".to_string(),
        status: Some(if error.is_some() { 503 } else { 200 }),
        bytes: 1234,
        import_id,
        error: error.map(str::to_string),
    }
}

pub fn feeds_keep_their_definition_state_and_runs<B: Backend>() {
    let store = fresh::<B>();
    let added = store.add_feed(&spec("a"), 100).unwrap();
    assert_eq!(added.spec, spec("a"), "headers in order, defaults and the env var's name as given");
    assert_eq!((added.created, added.next_run, added.last_run, added.last_error.as_deref()), (100, 100, None, None));
    assert_eq!(added.state, FeedState::default());
    assert!(matches!(store.add_feed(&spec("a"), 101), Err(StoreError::Conflict(_))), "names are unique");
    let minimal =
        FeedSpec { format: None, tlp: None, category: None, headers: vec![], basic_auth_env: None, ..spec("b") };
    store.add_feed(&minimal, 100).unwrap();

    let import_id = import(&*store, "vendor-a", "80.94.95.112", 150);
    let good = FeedState {
        etag: Some("\"v1\"".to_string()),
        last_modified: Some("Tue, 01 Dec 2026 10:00:00 GMT".to_string()),
        cursor: Some("2026-12-01T10:00:00.000000Z".to_string()),
    };
    store.record_feed_run(added.id, &run("a", 200, None, Some(import_id)), &good, 3800).unwrap();
    let changed = FeedState { etag: Some("\"v2\"".to_string()), ..FeedState::default() };
    store.record_feed_run(added.id, &run("a", 300, Some("HTTP 503 after 3 attempts"), None), &changed, 900).unwrap();

    let feeds = store.feeds().unwrap();
    let names: Vec<&str> = feeds.iter().map(|f| f.spec.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let a = &feeds[0];
    assert_eq!(a.state, good, "a failed run leaves the last good state");
    assert_eq!((a.last_run, a.last_success, a.next_run), (Some(300), Some(200), 900));
    assert_eq!(a.last_error.as_deref(), Some("HTTP 503 after 3 attempts"));
    assert_eq!(feeds[1].spec, minimal);
    assert_eq!((feeds[1].last_run, feeds[1].next_run), (None, 100), "another feed is untouched");

    store.record_feed_run(added.id, &run("a", 400, None, None), &changed, 4000).unwrap();
    let a = store.feeds().unwrap().remove(0);
    assert_eq!((a.state, a.last_success, a.last_error), (changed, Some(400), None), "a success clears the error");

    let runs = store.feed_runs("a", 10).unwrap();
    let seen: Vec<(i64, Option<u16>, Option<i64>, bool)> =
        runs.iter().map(|r| (r.time, r.status, r.import_id, r.error.is_some())).collect();
    assert_eq!(
        seen,
        [(400, Some(200), None, false), (300, Some(503), None, true), (200, Some(200), Some(import_id), false)]
    );
    assert_eq!(runs[2], run("a", 200, None, Some(import_id)), "the provenance as recorded");
    assert_eq!(store.feed_runs("a", 1).unwrap().len(), 1);

    assert!(store.remove_feed("a").unwrap());
    assert!(!store.remove_feed("a").unwrap());
    assert_eq!(store.feeds().unwrap().len(), 1);
    assert_eq!(store.feed_runs("a", 10).unwrap().len(), 3, "runs outlive their feed as provenance");
    assert!(
        matches!(
            store.record_feed_run(a.id, &run("a", 500, None, None), &FeedState::default(), 0),
            Err(StoreError::Conflict(_))
        ),
        "a run of a removed feed is refused"
    );
    let again = store.add_feed(&spec("a"), 600).unwrap();
    assert_eq!((again.state, again.last_run), (FeedState::default(), None), "a re-added feed starts afresh");
}
