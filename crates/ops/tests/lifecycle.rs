//! The lifecycle through the store: no sequence of commands reaches an
//! illegal state, and history is append-only.

mod common;

use cordon_model::{Category, Tlp};
use cordon_ops::lifecycle::{allowed, RejectReason};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::ops::{OpsStore, TargetFilter, TargetState};
use cordon_store::SqliteStore;
use proptest::prelude::*;

fn store_with_target() -> (SqliteStore, i64) {
    let store = SqliteStore::open_in_memory().unwrap();
    common::import(&store, "a", &[common::record("80.94.95.112", &[], Category::C2, Tlp::Green, None)]);
    let op = common::operation(&store);
    common::build(&store, &op, &Actor::new("t", common::T0, ""));
    (store, op.id)
}

fn any_state() -> impl Strategy<Value = TargetState> {
    proptest::sample::select(TargetState::ALL.to_vec())
}

fn any_reason() -> impl Strategy<Value = Option<RejectReason>> {
    proptest::option::of(proptest::sample::select(RejectReason::ALL.to_vec()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn no_command_sequence_reaches_an_illegal_state(
        commands in proptest::collection::vec((any_state(), any_reason()), 1..24)
    ) {
        let (store, op) = store_with_target();
        for (to, reason) in commands {
            let targets = store.targets(&TargetFilter { operation_id: Some(op), ..TargetFilter::default() }).unwrap();
            let before = targets[0].state;
            let result = transition(&store, &targets, to, reason, &Actor::new("p", common::T0, "")).unwrap();
            let after = store.targets(&TargetFilter::default()).unwrap()[0].state;
            if result.applied.is_empty() {
                prop_assert_eq!(after, before);
            } else {
                prop_assert!(allowed(before).contains(&to));
                prop_assert_eq!(after, to);
            }
        }
        let history = store.history(1).unwrap();
        prop_assert_eq!(history[0].from, None);
        prop_assert_eq!(history[0].to, TargetState::Identified);
        for pair in history.windows(2) {
            prop_assert_eq!(pair[1].from, Some(pair[0].to));
            prop_assert!(allowed(pair[0].to).contains(&pair[1].to));
            prop_assert_eq!(pair[1].to == TargetState::Rejected, pair[1].reason.is_some());
        }
    }
}

#[test]
fn refusal_names_allowed_states_and_stale_from_is_refused() {
    let (store, op) = store_with_target();
    let targets = store.targets(&TargetFilter { operation_id: Some(op), ..TargetFilter::default() }).unwrap();
    let result = transition(&store, &targets, TargetState::Verified, None, &Actor::new("a", 1, "")).unwrap();
    assert!(result.applied.is_empty());
    assert!(result.refused[0].1.to_string().contains("allowed from identified: triaged, rejected"));
    transition(&store, &targets, TargetState::Triaged, None, &Actor::new("a", 1, "")).unwrap();
    // `targets` still says identified: the move is judged from the state
    // the store holds now (triaged), and refused, not applied twice.
    let again = transition(&store, &targets, TargetState::Triaged, None, &Actor::new("a", 1, "")).unwrap();
    assert!(again.applied.is_empty() && again.refused[0].1.to_string().contains("allowed from triaged"));
    // The store itself refuses a step whose `from` is not the current state.
    let stale = cordon_store::ops::Transition {
        target_id: targets[0].id,
        time: 1,
        from: Some(TargetState::Identified),
        to: TargetState::Triaged,
        reason: None,
        actor: "a".into(),
        note: String::new(),
        import_mark: 0,
    };
    assert!(store.append_transitions(&[stale]).is_err());
}

#[test]
fn takedown_then_newer_import_reemerges_into_triage() {
    let (store, op) = store_with_target();
    let actor = Actor::new("a", common::T0, "");
    for to in [TargetState::Triaged, TargetState::Referred, TargetState::Notified, TargetState::TakenDown] {
        let targets = store.targets(&TargetFilter::default()).unwrap();
        transition(&store, &targets, to, None, &actor).unwrap();
    }
    let operation = store.operation("synergia").unwrap().unwrap();
    let again = common::build(&store, &operation, &actor);
    assert_eq!((again.new, again.reemerged), (0, 0), "a rebuild without a new import changes nothing");
    common::import(&store, "b", &[common::record("80.94.95.112", &[], Category::C2, Tlp::Clear, None)]);
    let summary = common::build(&store, &operation, &actor);
    assert_eq!(summary.reemerged, 1);
    let states: Vec<_> = store.history(1).unwrap().iter().map(|t| t.to).collect();
    assert_eq!(
        states,
        [
            TargetState::Identified,
            TargetState::Triaged,
            TargetState::Referred,
            TargetState::Notified,
            TargetState::TakenDown,
            TargetState::Reemerged,
            TargetState::Triaged
        ]
    );
    assert_eq!(store.targets(&TargetFilter { operation_id: Some(op), ..TargetFilter::default() }).unwrap().len(), 1);
}
