//! Two analysts on one store: a transition reads the target's state under
//! the write lock, so a move made meanwhile is never overwritten.

mod common;

use cordon_model::{Category, Tlp};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{OpsStore, TargetFilter, TargetState};
use cordon_store::SqliteStore;

#[test]
fn a_stale_copy_never_overwrites_a_newer_move() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let first = SqliteStore::open(&db).unwrap();
    common::import(&first, "p", &[common::record("45.9.20.31", &[], Category::C2, Tlp::Green, None)]);
    let op = common::operation(&first);
    let actor = Actor::new("a", common::T0, "");
    assert_eq!(common::build(&first, &op, &actor).new, 1);
    let second = SqliteStore::open(&db).unwrap();

    // Both analysts read the target while it is identified.
    let stale = first.targets(&TargetFilter::default()).unwrap();
    let fresh = second.targets(&TargetFilter::default()).unwrap();
    // The second triages and rejects it...
    transition(&second, &fresh, TargetState::Triaged, None, &actor).unwrap();
    let fp = Some(cordon_ops::lifecycle::RejectReason::FalsePositive);
    let triaged = second.targets(&TargetFilter::default()).unwrap();
    transition(&second, &triaged, TargetState::Rejected, fp, &actor).unwrap();
    // ...and the first, from its stale copy, tries to triage it: refused,
    // since it is rejected now, not identified.
    let moved = transition(&first, &stale, TargetState::Triaged, None, &actor).unwrap();
    assert!(moved.applied.is_empty() && moved.refused.len() == 1, "{moved:?}");
    let now = first.targets(&TargetFilter::default()).unwrap();
    assert_eq!(now[0].state, TargetState::Rejected);
    assert_eq!(first.history(now[0].id).unwrap().len(), 3);
}

#[test]
fn a_failed_build_leaves_no_target_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let store = SqliteStore::open(&db).unwrap();
    common::import(&store, "p", &[common::record("45.9.20.31", &[], Category::C2, Tlp::Green, None)]);
    let op = common::operation(&store);
    // A target with history cannot take a first transition: the build's
    // transitions fail, and the targets it wrote must go with them.
    let blocker = rusqlite::Connection::open(&db).unwrap();
    blocker
        .execute_batch(
            "CREATE TRIGGER no_first BEFORE INSERT ON transitions WHEN NEW.from_state IS NULL
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
        )
        .unwrap();
    let routing = cordon_ops::workflow::Routing::default();
    let result = cordon_ops::workflow::build_targets(&store, &op, &routing, &Actor::new("a", common::T0, ""), false);
    assert!(result.is_err());
    assert!(store.targets(&TargetFilter::default()).unwrap().is_empty(), "targets without their first transition");
}
