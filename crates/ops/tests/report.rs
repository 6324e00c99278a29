//! The operation report on a store built in the test: its figures are
//! pinned by a golden file that the implementation reading every target and
//! transition wrote, so the SQL aggregates must give the same report.

use cordon_model::Category;
use cordon_ops::report;
use cordon_store::ops::{ContactRef, Operation, OpsStore, Outcome, TargetKind, TargetSpec, TargetState, Transition};
use cordon_store::SqliteStore;

/// 2024-04-01T00:00:00Z, a Monday (ISO week 14).
const START: i64 = 1_711_929_600;
const DAY: i64 = 86_400;

fn operation(store: &SqliteStore, name: &str) -> Operation {
    let mut op = Operation {
        id: 0,
        name: name.into(),
        start: START,
        end: START + 60 * DAY,
        description: "d".into(),
        created: START,
    };
    op.id = store.create_operation(&op).unwrap();
    op
}

fn spec(i: usize) -> TargetSpec {
    let kind = match i % 7 {
        0 => TargetKind::Network,
        3 => TargetKind::Url,
        _ => TargetKind::Server,
    };
    let categories = [
        vec![Category::C2],
        vec![Category::Botnet, Category::C2],
        vec![],
        vec![Category::Phishing],
        vec![Category::Spam, Category::Scanner],
    ];
    let partners: [&[&str]; 5] = [&["alpha"], &["alpha", "beta"], &[], &["gamma"], &["beta", "gamma"]];
    let provider = |name: &str| Some(ContactRef { name: name.into(), email: "abuse@example.net".into() });
    let (as_org, provider) = match i % 4 {
        0 => (Some(format!("Hoster {}", i % 3)), provider("ignored")),
        1 => (None, provider("Provider B")),
        _ => (None, None),
    };
    TargetSpec {
        key: format!("192.0.2.{i}"),
        kind,
        country: [Some("NL"), Some("RO"), None, Some("US"), Some("NL"), Some("unknown")][i % 6].map(str::to_string),
        asn: Some(64_500 + (i % 3) as u32),
        as_org,
        hosting: None,
        provider,
        agency: None,
        categories: categories[i % 5].clone(),
        malware: Vec::new(),
        partners: partners[(i / 2) % 5].iter().map(|p| p.to_string()).collect(),
        ports: Vec::new(),
        first_seen: START,
        last_seen: START,
        last_import: 0,
        members: Vec::new(),
    }
}

/// Each target's path through the lifecycle and the hours between steps.
fn path(i: usize) -> Vec<(TargetState, Option<&'static str>, i64)> {
    use TargetState::*;
    match i % 6 {
        0 => vec![],
        1 => vec![(Triaged, None, 5)],
        2 => vec![(Triaged, None, 2), (Referred, None, 3), (Notified, None, 1), (TakenDown, None, (i % 17) as i64 * 7)],
        3 => vec![(Triaged, None, 1), (TakenDown, None, 30 + i as i64), (Verified, None, 48)],
        4 => vec![
            (Triaged, None, 1),
            (Rejected, Some(if i.is_multiple_of(4) { "false-positive" } else { "duplicate" }), 4),
        ],
        _ => vec![(Triaged, None, 1), (TakenDown, None, 12), (Reemerged, None, 240), (Triaged, None, 1)],
    }
}

/// Targets of `op` from `count` specs, identified over some weeks (one
/// before the operation's start), each moved along its path.
fn populate(store: &SqliteStore, op: &Operation, count: usize) {
    let specs: Vec<TargetSpec> = (0..count).map(spec).collect();
    let ids = store.upsert_targets(op.id, &specs, START).unwrap();
    let mut transitions = Vec::new();
    for (i, (id, _)) in ids.iter().enumerate() {
        let mut time = START + i as i64 * 37_000 - if i == 1 { 3 * DAY } else { 0 };
        let mut from = None;
        let mut step = |to: TargetState, reason: Option<&str>, time: i64| {
            transitions.push(Transition {
                target_id: *id,
                time,
                from,
                to,
                reason: reason.map(str::to_string),
                actor: "analyst".into(),
                note: String::new(),
                import_mark: 0,
            });
            from = Some(to);
        };
        step(TargetState::Identified, None, time);
        for (to, reason, hours) in path(i) {
            time += hours * 3600;
            step(to, reason, time);
        }
    }
    store.append_transitions(&transitions).unwrap();
}

fn outcome(op: &Operation, country: &str, kind: &str, count: u64) -> Outcome {
    Outcome { operation_id: op.id, country: country.into(), kind: kind.into(), count, date: START, note: String::new() }
}

#[test]
fn report_matches_its_golden_file() {
    let store = SqliteStore::open_in_memory().unwrap();
    let op = operation(&store, "golden");
    populate(&store, &op, 97);
    let other = operation(&store, "other");
    populate(&store, &other, 13);
    for o in [
        outcome(&op, "RO", "arrest", 3),
        outcome(&op, "RO", "arrest", 4),
        outcome(&op, "DE", "server-seized", 11),
        outcome(&other, "FR", "arrest", 100),
    ] {
        store.add_outcome(&o).unwrap();
    }
    let report = report::load(&store, &op).unwrap();
    insta::assert_json_snapshot!("report", report);
    insta::assert_snapshot!("report_text", report::text(&report));
}

#[test]
fn an_empty_operation_reports_zeros() {
    let store = SqliteStore::open_in_memory().unwrap();
    let op = operation(&store, "empty");
    let report = report::load(&store, &op).unwrap();
    assert_eq!(report.headline.suspicious_ips, 0);
    assert!(report.by_week.is_empty() && report.funnel.iter().all(|(_, n)| *n == 0));
    assert_eq!(report.median_hours_to_takedown, None);
}

#[test]
fn every_week_is_in_the_timeline_and_reemerged_targets_are_counted() {
    let store = SqliteStore::open_in_memory().unwrap();
    let op = operation(&store, "weeks");
    let ids = store.upsert_targets(op.id, &[spec(1), spec(2)], START).unwrap();
    let step = |target_id, time, from, to| Transition {
        target_id,
        time,
        from,
        to,
        reason: None,
        actor: "a".into(),
        note: String::new(),
        import_mark: 0,
    };
    store
        .append_transitions(&[
            step(ids[0].0, START + DAY, None, TargetState::Identified),
            step(ids[1].0, START + 22 * DAY, None, TargetState::Identified),
            step(ids[1].0, START + 23 * DAY, Some(TargetState::Identified), TargetState::Reemerged),
        ])
        .unwrap();
    let report = report::load(&store, &op).unwrap();
    let weeks: Vec<&str> = report.by_week.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(weeks, ["2024-W14", "2024-W15", "2024-W16", "2024-W17"]);
    assert_eq!(report.reemerged, 1);
    assert!(report::html(&report).contains("1 target(s) re-emerged after their takedown"));
}
