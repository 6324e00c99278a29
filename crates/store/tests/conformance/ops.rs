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

/// A target's first transition, to `identified` at time 10 (as a build
/// records it).
pub fn identified(target_id: i64) -> Transition {
    Transition {
        target_id,
        time: 10,
        from: None,
        to: TargetState::Identified,
        reason: None,
        actor: "t".into(),
        note: String::new(),
        import_mark: 1,
    }
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

/// The report's aggregates: grouped by the database, over one operation's
/// targets only, with each target's first `identified` and `taken-down`.
pub fn report_counts_group_one_operation<B: Backend>() {
    use cordon_store::ops::{Outcome, StateCount};
    let store = fresh::<B>();
    let op = operation(&*store);
    let mut other = Operation { name: "other".into(), ..op.clone() };
    other.id = store.create_operation(&other).unwrap();
    let with = |key: &str, country: Option<&str>, partners: &[&str]| TargetSpec {
        country: country.map(str::to_string),
        partners: partners.iter().map(|p| p.to_string()).collect(),
        ..spec(key, vec![])
    };
    let ids: Vec<i64> = store
        .upsert_targets(
            op.id,
            &[with("a", Some("NL"), &["x"]), with("b", None, &["x", "y"]), with("c", Some("RO"), &[])],
            0,
        )
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let foreign = store.upsert_targets(other.id, &[with("a", Some("FR"), &["z"])], 0).unwrap()[0].0;
    let step = |target_id, time, from, to, reason: Option<&str>| Transition {
        target_id,
        time,
        from,
        to,
        reason: reason.map(str::to_string),
        actor: "t".into(),
        note: String::new(),
        import_mark: 0,
    };
    use TargetState::*;
    store
        .append_transitions(&[
            step(ids[0], 86_400, None, Identified, None),
            step(ids[0], 90_000, Some(Identified), TakenDown, None),
            step(ids[0], 95_000, Some(TakenDown), Reemerged, None),
            step(ids[0], 96_000, Some(Reemerged), TakenDown, None),
            step(ids[1], 86_500, None, Identified, None),
            step(ids[1], 86_600, Some(Identified), Rejected, Some("false-positive")),
            step(ids[2], 3 * 86_400, None, Identified, None),
            step(ids[2], 3 * 86_400 + 100, Some(Identified), TakenDown, None),
            step(foreign, 86_400, None, Identified, None),
            step(foreign, 86_401, Some(Identified), TakenDown, None),
        ])
        .unwrap();
    for (operation_id, country, count) in [(op.id, "DE", 2), (op.id, "DE", 3), (op.id, "NL", 1), (other.id, "IT", 9)] {
        let outcome =
            Outcome { operation_id, country: country.into(), kind: "arrest".into(), count, date: 0, note: "".into() };
        store.add_outcome(&outcome).unwrap();
    }
    let mut counts = store.report_counts(op.id).unwrap();
    counts.countries.sort_by(|a, b| a.key.cmp(&b.key));
    let cell = |key, state, targets| StateCount { key, state, targets };
    assert_eq!(
        counts.countries,
        [cell(None, Rejected, 1), cell(Some("NL".to_string()), TakenDown, 1), cell(Some("RO".into()), TakenDown, 1)]
    );
    assert_eq!(counts.kinds.iter().map(|c| c.targets).sum::<u64>(), 3);
    counts.partners.sort_by(|a, b| a.key.cmp(&b.key));
    let partners: Vec<_> = counts.partners.iter().map(|c| (c.key.clone(), c.state)).collect();
    let names = |n: &[&str]| n.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    assert_eq!(
        partners,
        [((names(&[]), false), TakenDown), ((names(&["x"]), false), TakenDown), ((names(&["x", "y"]), true), Rejected)]
    );
    counts.reached.sort();
    assert_eq!(counts.reached, [(Identified, 3), (TakenDown, 2), (Rejected, 1), (Reemerged, 1)]);
    // Waits of 3,600 s (the first takedown, not the second) and 100 s.
    assert_eq!(counts.middle_seconds_to_takedown, [100, 3600]);
    let mut days: Vec<_> = counts.days.iter().map(|d| (d.first, d.last, d.event, d.state, d.targets)).collect();
    days.sort();
    assert_eq!(
        days,
        [
            (86_400, 86_400, Identified, TakenDown, 1),
            (86_500, 86_500, Identified, Rejected, 1),
            (90_000, 90_000, TakenDown, TakenDown, 1),
            (3 * 86_400, 3 * 86_400, Identified, TakenDown, 1),
            (3 * 86_400 + 100, 3 * 86_400 + 100, TakenDown, TakenDown, 1),
        ]
    );
    assert_eq!(counts.countries_involved, 3);
    counts.outcomes.sort();
    assert_eq!(counts.outcomes, [("DE".to_string(), "arrest".to_string(), 5), ("NL".into(), "arrest".into(), 1)]);
    // An odd number of waits gives the middle one.
    let late = store.upsert_targets(op.id, &[with("d", Some("NL"), &[])], 0).unwrap()[0].0;
    store
        .append_transitions(&[
            step(late, 0, None, Identified, None),
            step(late, 7200, Some(Identified), TakenDown, None),
        ])
        .unwrap();
    assert_eq!(store.report_counts(op.id).unwrap().middle_seconds_to_takedown, [3600]);
}

/// Keyset pages of targets: every order, forward and back, with the
/// filters, read page by page, gives what sorting all of them gives; the
/// count counts what the filters match.
pub fn targets_page_by_page_in_every_order<B: Backend>() {
    use cordon_store::ops::{TargetOrder, TargetPage};
    let store = fresh::<B>();
    let op = operation(&*store);
    let mut other = Operation { name: "other".into(), ..op.clone() };
    other.id = store.create_operation(&other).unwrap();
    let countries = [Some("NL"), None, Some("DE"), Some("NL"), Some("RO")];
    let specs: Vec<TargetSpec> = (0..23)
        .map(|n| TargetSpec {
            country: countries[n % countries.len()].map(Into::into),
            kind: if n % 4 == 0 { TargetKind::Domain } else { TargetKind::Server },
            // Ties in last seen and keys out of id order.
            last_seen: 1000 + (n as i64 % 6),
            ..spec(&format!("{}.Example{}", (n * 7) % 23, if n % 2 == 0 { "" } else { "-x" }), vec![])
        })
        .collect();
    let ids = store.upsert_targets(op.id, &specs, 10).unwrap();
    store.upsert_targets(other.id, &[spec("in-another-operation", vec![])], 10).unwrap();
    let steps: Vec<Transition> = ids
        .iter()
        .enumerate()
        .map(|(n, (id, _))| Transition {
            target_id: *id,
            time: 10,
            from: None,
            to: TargetState::ALL[n % 3],
            reason: None,
            actor: "t".into(),
            note: String::new(),
            import_mark: 1,
        })
        .collect();
    store.append_transitions(&steps).unwrap();
    let filters = [
        TargetFilter { operation_id: Some(op.id), ..TargetFilter::default() },
        TargetFilter { operation_id: Some(op.id), country: Some("nl".into()), ..TargetFilter::default() },
        TargetFilter { operation_id: Some(op.id), kind: Some(TargetKind::Domain), ..TargetFilter::default() },
        TargetFilter {
            key_contains: Some("EXAMPLE-".into()),
            state: Some(TargetState::Triaged),
            ..TargetFilter::default()
        },
        TargetFilter::default(),
    ];
    for filter in &filters {
        let all = store.targets(filter).unwrap();
        assert!(!all.is_empty(), "{filter:?}");
        assert_eq!(store.count_targets(filter).unwrap(), all.len() as u64, "{filter:?}");
        for order in TargetOrder::ALL {
            let mut expected = all.clone();
            let value = |t: &cordon_store::ops::Target| order.cursor(t);
            expected.sort_by(|a, b| match order {
                TargetOrder::Id => a.id.cmp(&b.id),
                TargetOrder::Key => (&a.spec.key, a.id).cmp(&(&b.spec.key, b.id)),
                TargetOrder::State => (a.state.as_str(), a.id).cmp(&(b.state.as_str(), b.id)),
                TargetOrder::Country => (value(a).text().to_string(), a.id).cmp(&(value(b).text().to_string(), b.id)),
                TargetOrder::LastSeen => (b.spec.last_seen, b.id).cmp(&(a.spec.last_seen, a.id)),
            });
            let expected: Vec<i64> = expected.iter().map(|t| t.id).collect();
            let mut read = Vec::new();
            let mut pages = Vec::new();
            let mut page = TargetPage { order, after: None, backward: false, limit: 4 };
            loop {
                let got = store.targets_page(filter, &page).unwrap();
                assert!(got.len() <= 4);
                read.extend(got.iter().map(|t| t.id));
                pages.push(got.iter().map(|t| t.id).collect::<Vec<_>>());
                let Some(last) = got.last() else { break };
                page.after = Some(order.cursor(last));
            }
            assert_eq!(read, expected, "{order:?} {filter:?}");
            // Back from the end: the same pages, last first.
            let mut back = Vec::new();
            let mut page = TargetPage { order, after: None, backward: true, limit: 4 };
            page.after = all.iter().find(|t| Some(&t.id) == expected.last()).map(|t| order.cursor(t));
            back.extend(expected.last().copied());
            loop {
                let got = store.targets_page(filter, &page).unwrap();
                let Some(first) = got.first() else { break };
                let mut ids: Vec<i64> = got.iter().map(|t| t.id).collect();
                ids.extend(back);
                back = ids;
                page.after = Some(order.cursor(first));
            }
            assert_eq!(back, expected, "backward {order:?} {filter:?}");
        }
    }
}

/// The streamed operations agree with what they stream: `scope_each` is
/// the scope in planning order (kind group, then value) a batch at a time,
/// and may write between batches; `targets_after` is `targets` a page at a
/// time; `move_targets` moves those in the state given, once each;
/// `scope_links` and `scope_indicators` are the scope's links and
/// indicators.
pub fn streamed_operations_agree_with_their_definitions<B: Backend>() {
    use cordon_store::ops::SCOPE_ORDER;
    let store = fresh::<B>();
    for raw in ["https://b.example/x", "80.94.95.113", "b.example", "45.148.10.0/24", "80.94.95.112", "a.example"] {
        import(&*store, "a", raw, 1500);
    }
    import(&*store, "a", "9.9.9.9", 5000);
    let op = operation(&*store);
    // The links and the indicators among some ids are the scope's: ids
    // from 1 up cover those of the store, one outside the window included.
    let scope = store.scope(op.id).unwrap();
    assert!(!scope.links.is_empty());
    assert_eq!(store.scope_links(op.id).unwrap(), scope.links);
    let asked: Vec<i64> = (1..=20).rev().chain([3, 3]).collect();
    assert_eq!(store.scope_indicators(op.id, &asked).unwrap(), scope.indicators);
    let group = |kind| SCOPE_ORDER.iter().position(|kinds| kinds.contains(&kind));
    let mut expected: Vec<String> = store.scope(op.id).unwrap().indicators.into_iter().map(|i| i.value).collect();
    expected.sort_by_key(|v| (group(cordon_model::normalize(v).unwrap().observables[0].kind()), v.clone()));
    let mut streamed = Vec::new();
    store
        .scope_each(op.id, 2, &mut |batch| {
            assert!(!batch.is_empty() && batch.len() <= 2, "{batch:?}");
            // A write between batches, as building targets does.
            let key = batch[0].value.clone();
            store.upsert_targets(op.id, &[spec(&key, vec![batch[0].id])], 10)?;
            streamed.extend(batch.iter().map(|i| i.value.clone()));
            Ok(())
        })
        .unwrap();
    assert_eq!(streamed, expected);

    let specs: Vec<TargetSpec> = (0..7).map(|n| spec(&format!("t{n}.example"), vec![])).collect();
    let ids: Vec<i64> = store.upsert_targets(op.id, &specs, 10).unwrap().into_iter().map(|(id, _)| id).collect();
    let filter = TargetFilter { operation_id: Some(op.id), ..TargetFilter::default() };
    let all = store.targets(&filter).unwrap();
    let mut paged = Vec::new();
    let mut after = i64::MIN;
    while let Some(last) = store.targets_after(&filter, after, 3).unwrap().last().map(|t| t.id) {
        paged.extend(store.targets_after(&filter, after, 3).unwrap());
        after = last;
    }
    assert_eq!(paged, all);
    let nl = TargetFilter { country: Some("nl".into()), ..filter.clone() };
    assert_eq!(store.targets_after(&nl, ids[4], 10).unwrap(), store.targets(&nl).unwrap()[all.len() - 2..]);

    let step = |to| Transition {
        target_id: 0,
        time: 20,
        from: None,
        to,
        reason: None,
        actor: "t".into(),
        note: "bulk".into(),
        import_mark: 1,
    };
    let identified: Vec<Transition> =
        ids.iter().map(|id| Transition { target_id: *id, ..step(TargetState::Identified) }).collect();
    store.append_transitions(&identified).unwrap();
    store
        .append_transitions(&[Transition {
            target_id: ids[1],
            from: Some(TargetState::Identified),
            ..step(TargetState::Triaged)
        }])
        .unwrap();
    let asked = [ids[3], ids[1], ids[0], ids[3], 999_999];
    let moved = store.move_targets(&asked, TargetState::Identified, &step(TargetState::Triaged)).unwrap();
    assert_eq!(moved, [ids[0], ids[3]], "those identified, once each, ascending");
    let history = store.history(ids[3]).unwrap();
    assert_eq!(history.len(), 2);
    let last = &history[1];
    assert_eq!(
        (last.target_id, last.from, last.to, last.note.as_str(), last.time),
        (ids[3], Some(TargetState::Identified), TargetState::Triaged, "bulk", 20)
    );
    assert_eq!(store.history(ids[1]).unwrap().len(), 2, "already triaged: not moved again");
    let states = store.states(&ids).unwrap();
    assert_eq!(states[&ids[0]], TargetState::Triaged);
    assert_eq!(states[&ids[2]], TargetState::Identified);
}

/// `upsert_targets` answers each spec in the order given: a new target is
/// new, an existing one with a history is not, one made in this very
/// second with no history yet still is; a key given twice in one call is
/// one target with the last spec's values and both specs' members;
/// members given on a later build are added to those of the first.
pub fn upserts_answer_each_spec_in_order<B: Backend>() {
    let store = fresh::<B>();
    for (value, seen) in [("80.94.95.112", 1500), ("45.148.10.7", 1500), ("193.47.62.69", 1500)] {
        import(&*store, "a", value, seen);
    }
    let op = operation(&*store);
    let [c] = store.upsert_targets(op.id, &[spec("c", vec![1])], 10).unwrap()[..] else { panic!() };
    assert_eq!(c, (1, true));
    store.append_transitions(&[identified(c.0)]).unwrap();
    assert_eq!(store.upsert_targets(op.id, &[], 20).unwrap(), []);
    let later = TargetSpec { ports: vec![443, 8443], partners: vec!["a".into(), "b".into()], ..spec("b", vec![3]) };
    let answers =
        store.upsert_targets(op.id, &[spec("b", vec![2]), spec("c", vec![2]), spec("a", vec![1]), later], 20).unwrap();
    let (b, a) = (answers[0].0, answers[2].0);
    assert_eq!(answers, [(b, true), (1, false), (a, true), (b, true)]);
    assert!(b != a && b != 1 && a != 1);
    // The same second, no history yet: still new; a later second: not.
    assert_eq!(store.upsert_targets(op.id, &[spec("a", vec![3])], 20).unwrap(), [(a, true)]);
    assert_eq!(store.upsert_targets(op.id, &[spec("a", vec![])], 21).unwrap(), [(a, false)]);
    let by_key =
        |key: &str| store.targets(&TargetFilter::default()).unwrap().into_iter().find(|t| t.spec.key == key).unwrap();
    let stored = by_key("b");
    assert_eq!(stored.spec.ports, [443, 8443]);
    assert_eq!(stored.spec.partners, ["a", "b"]);
    // Members by value.
    assert_eq!(store.members(b).unwrap(), ["193.47.62.69", "45.148.10.7"]);
    assert_eq!(store.members(a).unwrap(), ["193.47.62.69", "80.94.95.112"]);
    assert_eq!(store.members(1).unwrap(), ["45.148.10.7", "80.94.95.112"]);
    assert_eq!((by_key("c").state, store.history(1).unwrap().len()), (TargetState::Identified, 1));
    assert_eq!(by_key("a").state, TargetState::Identified);
    assert_eq!(store.targets(&TargetFilter::default()).unwrap().len(), 3);
}

/// Transitions of one call are checked one after the other: a target may
/// move twice in one call (each `from` the state the one before left), and
/// a call with one that does not hold, or names no target, stores none.
pub fn transitions_of_one_call_follow_each_other<B: Backend>() {
    let store = fresh::<B>();
    import(&*store, "a", "80.94.95.112", 1500);
    import(&*store, "a", "45.148.10.7", 1500);
    let op = operation(&*store);
    let ids: Vec<i64> = store
        .upsert_targets(op.id, &[spec("x", vec![1]), spec("y", vec![2])], 10)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let step = |target_id, from, to| Transition {
        target_id,
        time: 10,
        from,
        to,
        reason: None,
        actor: "t".into(),
        note: format!("{target_id}"),
        import_mark: 1,
    };
    let state = |id: i64| store.states(&[id]).unwrap()[&id];
    let broken = [
        step(ids[0], None, TargetState::Identified),
        step(ids[0], Some(TargetState::Identified), TargetState::Triaged),
        step(ids[1], None, TargetState::Identified),
        step(ids[1], None, TargetState::Identified),
    ];
    assert!(store.append_transitions(&broken).is_err(), "a second first transition");
    let unknown = [step(ids[0], None, TargetState::Identified), step(9999, None, TargetState::Identified)];
    assert!(store.append_transitions(&unknown).is_err(), "no such target");
    assert!(store.history(ids[0]).unwrap().is_empty() && store.history(ids[1]).unwrap().is_empty());
    let chain = [
        step(ids[1], None, TargetState::Identified),
        step(ids[0], None, TargetState::Identified),
        step(ids[0], Some(TargetState::Identified), TargetState::Triaged),
        step(ids[0], Some(TargetState::Triaged), TargetState::Referred),
    ];
    store.append_transitions(&chain).unwrap();
    assert_eq!((state(ids[0]), state(ids[1])), (TargetState::Referred, TargetState::Identified));
    let history: Vec<(Option<TargetState>, TargetState)> =
        store.history(ids[0]).unwrap().into_iter().map(|t| (t.from, t.to)).collect();
    assert_eq!(
        history,
        [
            (None, TargetState::Identified),
            (Some(TargetState::Identified), TargetState::Triaged),
            (Some(TargetState::Triaged), TargetState::Referred)
        ]
    );
    let everything: Vec<i64> = store.operation_history(op.id).unwrap().into_iter().map(|t| t.target_id).collect();
    assert_eq!(everything, [ids[1], ids[0], ids[0], ids[0]], "appended in the order given");
    assert!(store.append_transitions(&[step(ids[0], Some(TargetState::Triaged), TargetState::Referred)]).is_err());
    assert_eq!(state(ids[0]), TargetState::Referred);
}
