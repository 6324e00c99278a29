//! Test fixtures: an in-memory store with a few partners' sightings.
#![allow(dead_code)]

use cordon_model::{normalize, Attributes, Category, Record, Tlp};
use cordon_store::ops::{Operation, OpsStore};
use cordon_store::{ImportCounts, ImportMeta, SqliteStore, Store};

/// 2024-09-01T00:00:00Z.
pub const T0: i64 = 1_725_148_800;

/// A record of `raw` linked to `links`.
pub fn record(raw: &str, links: &[&str], category: Category, tlp: Tlp, malware: Option<&str>) -> Record {
    let mut rec = Record::new(1, normalize(raw).unwrap().observables.remove(0));
    rec.links = links.iter().map(|l| normalize(l).unwrap().observables.remove(0)).collect();
    rec.attributes = Attributes {
        category: Some(category),
        tlp: Some(tlp),
        malware: malware.map(str::to_string),
        first_seen: Some(T0 + 86_400),
        last_seen: Some(T0 + 2 * 86_400),
        confidence: Some(70),
        ..Attributes::default()
    };
    rec
}

/// Imports `records` from `source`; returns the import id.
pub fn import(store: &SqliteStore, source: &str, records: &[Record]) -> i64 {
    let meta = ImportMeta::new(source, "feed.txt", "00", "plain");
    store
        .import(&meta, &mut |sink| {
            for rec in records {
                for s in rec.sightings() {
                    sink.add(&s)?;
                }
            }
            Ok(ImportCounts::default())
        })
        .unwrap()
}

/// Creates operation "synergia" spanning September 2024.
pub fn operation(store: &SqliteStore) -> Operation {
    let mut op = Operation {
        id: 0,
        name: "synergia".into(),
        start: T0,
        end: T0 + 30 * 86_400,
        description: "test".into(),
        created: T0,
    };
    op.id = store.create_operation(&op).unwrap();
    op
}

/// Writes an enrichment row straight into the database file, as the
/// enrichment step does.
pub fn enrich(db: &std::path::Path, value: &str, country: &str, asn: u32, flags: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT OR REPLACE INTO enrichment (indicator_id, asn, as_org, country, hosting, flags, enriched)
         SELECT id, ?2, 'AS ' || ?2, ?3, 'hosting', ?4, 0 FROM indicators WHERE value = ?1",
        rusqlite::params![value, asn, country, flags],
    )
    .unwrap();
}

/// Adds a contact row.
pub fn contact(db: &std::path::Path, kind: &str, key: &str, name: &str, email: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT OR REPLACE INTO contacts (kind, key, name, email) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![kind, key, name, email],
    )
    .unwrap();
}

/// The routing book of the contacts stored in `store`.
pub fn book(store: &SqliteStore) -> cordon_enrich::ContactBook {
    use cordon_store::enrichment::EnrichmentStore;
    let mut book = cordon_enrich::ContactBook::default();
    for c in store.contacts().unwrap() {
        book.insert(cordon_enrich::Contact::from_fields(&[&c.kind, &c.key, &c.name, &c.email]).unwrap());
    }
    book
}

/// Builds the operation's targets, routed through the stored contacts.
pub fn build(
    store: &SqliteStore,
    operation: &Operation,
    actor: &cordon_ops::workflow::Actor,
) -> cordon_ops::workflow::BuildSummary {
    build_with(store, operation, actor, false)
}

/// Builds targets of flagged indicators too: the verification tests probe
/// servers on loopback addresses, which are bogons.
pub fn build_including_flagged(
    store: &SqliteStore,
    operation: &Operation,
    actor: &cordon_ops::workflow::Actor,
) -> cordon_ops::workflow::BuildSummary {
    build_with(store, operation, actor, true)
}

fn build_with(
    store: &SqliteStore,
    operation: &Operation,
    actor: &cordon_ops::workflow::Actor,
    include_flagged: bool,
) -> cordon_ops::workflow::BuildSummary {
    let routing = cordon_ops::workflow::Routing { contacts: book(store), ..Default::default() };
    cordon_ops::workflow::build_targets(store, operation, &routing, actor, include_flagged).unwrap()
}

/// Moves every target through the states `to`, one after the other, at `time`.
pub fn advance(store: &SqliteStore, to: &[cordon_store::ops::TargetState], time: i64) {
    for state in to {
        let all = store.targets(&cordon_store::ops::TargetFilter::default()).unwrap();
        cordon_ops::workflow::transition(store, &all, *state, None, &cordon_ops::workflow::Actor::new("a", time, ""))
            .unwrap();
    }
}

/// One GREEN C2 address in RO, routed to a hosting provider's abuse desk,
/// built into operation "synergia" and referred: ready to notify.
pub fn one_referred_target(store: &SqliteStore, db: &std::path::Path) -> Operation {
    import(store, "open", &[record("80.94.95.112", &[], Category::C2, Tlp::Green, None)]);
    enrich(db, "80.94.95.112", "RO", 64500, "");
    contact(db, "asn", "64500", "Hosting", "abuse@hosting.example");
    let op = operation(store);
    build(store, &op, &cordon_ops::workflow::Actor::new("a", T0, ""));
    advance(store, &[cordon_store::ops::TargetState::Triaged, cordon_store::ops::TargetState::Referred], T0);
    op
}

/// Builds the operation's targets, refers them all a day into the window,
/// and notifies their contacts as `from_name` <reports@hub.example>, with
/// the outbox in `dir`.
pub fn notify_referred(
    store: &SqliteStore,
    dir: &std::path::Path,
    operation: &Operation,
    from_name: &str,
) -> cordon_ops::notify::NotifySummary {
    let t = T0 + 86_400;
    build(store, operation, &cordon_ops::workflow::Actor::new("a", t, ""));
    advance(store, &[cordon_store::ops::TargetState::Triaged, cordon_store::ops::TargetState::Referred], t);
    let config = cordon_ops::notify::NotifyConfig {
        outbox: dir.join("outbox"),
        from_name: from_name.into(),
        from_address: "reports@hub.example".into(),
        interval: 7 * 86_400,
        smtp: None,
    };
    cordon_ops::notify::notify(store, operation, &config, &cordon_ops::workflow::Actor::new("a", t, "")).unwrap()
}
