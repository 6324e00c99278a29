//! The operations storage: scope, attachment, consent, history checked
//! against the current state.

use cordon_model::{normalize, Attributes, Record};
use cordon_store::ops::{Operation, OpsStore, TargetFilter, TargetKind, TargetSpec, TargetState, Transition};
use cordon_store::{ImportCounts, ImportMeta, Store};

use super::{fresh, Backend};

pub fn import(store: &impl Store, source: &str, raw: &str, seen: i64) -> i64 {
    let mut rec = Record::new(1, normalize(raw).unwrap().observables.remove(0));
    rec.attributes = Attributes { first_seen: Some(seen), last_seen: Some(seen), ..Attributes::default() };
    let meta = ImportMeta::new(source, "f.txt", "00", "plain");
    store
        .import(&meta, &mut |sink| {
            for s in rec.sightings() {
                sink.add(&s)?;
            }
            Ok(ImportCounts::default())
        })
        .unwrap()
}

pub fn operation(store: &impl OpsStore) -> Operation {
    let mut op = Operation { id: 0, name: "op".into(), start: 1000, end: 2000, description: String::new(), created: 0 };
    op.id = store.create_operation(&op).unwrap();
    op
}

pub fn spec(key: &str, members: Vec<i64>) -> TargetSpec {
    TargetSpec {
        key: key.into(),
        kind: TargetKind::Server,
        country: Some("NL".into()),
        asn: Some(64500),
        as_org: None,
        hosting: None,
        provider: None,
        agency: None,
        categories: vec![],
        malware: vec![],
        partners: vec!["a".into()],
        ports: vec![8080],
        first_seen: 1500,
        last_seen: 1500,
        last_import: 1,
        members,
    }
}

pub fn scope_is_window_plus_attached_imports<B: Backend>() {
    let store = fresh::<B>();
    import(&*store, "a", "80.94.95.112", 1500);
    let outside = import(&*store, "a", "45.148.10.7", 5000);
    import(&*store, "a", "193.47.62.69", 9000);
    let op = operation(&*store);
    let values = |s: &B| s.scope(op.id).unwrap().indicators.into_iter().map(|i| i.value).collect::<Vec<_>>();
    assert_eq!(values(&store), ["80.94.95.112"]);
    store.attach_import("op", outside).unwrap();
    store.attach_import("op", outside).unwrap();
    assert_eq!(values(&store), ["80.94.95.112", "45.148.10.7"]);
    assert!(store.attach_import("nope", outside).is_err());
    assert!(store.create_operation(&op).is_err(), "names are unique");
    let both = cordon_model::Consent { agencies: true, providers: true };
    assert!(cordon_store::orgs::OrgStore::set_consent(&*store, "a", both).unwrap());
    assert!(!cordon_store::orgs::OrgStore::set_consent(&*store, "nobody", both).unwrap());
}

/// Returns the store for a backend's own checks that the history cannot be
/// edited behind the trait's back.
pub fn transitions_are_checked_against_the_current_state<B: Backend>() -> super::Fresh<B> {
    let store = fresh::<B>();
    import(&*store, "a", "80.94.95.112", 1500);
    let op = operation(&*store);
    let ids = store.upsert_targets(op.id, &[spec("80.94.95.112", vec![1])], 10).unwrap();
    assert_eq!(ids, [(1, true)]);
    let step = |from, to| Transition {
        target_id: 1,
        time: 10,
        from,
        to,
        reason: None,
        actor: "t".into(),
        note: String::new(),
        import_mark: 1,
    };
    store.append_transitions(&[step(None, TargetState::Identified)]).unwrap();
    // Atomic: the second transition's `from` is stale, so neither is stored.
    let stale = [
        step(Some(TargetState::Identified), TargetState::Triaged),
        step(Some(TargetState::Identified), TargetState::Triaged),
    ];
    assert!(store.append_transitions(&stale).is_err());
    assert_eq!(store.history(1).unwrap().len(), 1);
    assert_eq!(store.upsert_targets(op.id, &[spec("80.94.95.112", vec![1])], 20).unwrap(), [(1, false)]);
    let target = &store.targets(&TargetFilter { country: Some("nl".into()), ..TargetFilter::default() }).unwrap()[0];
    assert_eq!((target.state, target.spec.ports.as_slice()), (TargetState::Identified, &[8080u16][..]));
    assert_eq!(store.members(1).unwrap(), ["80.94.95.112"]);
    store
}
