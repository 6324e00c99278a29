//! Long imports: other writers get in between their batches, and an import
//! that fails after batches were written leaves no trace.

use std::sync::mpsc;
use std::time::Duration;

use cordon_model::{normalize, Attributes, Category, OrgKind, Record, Tlp};
use cordon_store::orgs::NewOrganisation;
use cordon_store::{ImportCounts, ImportMeta, ImportSink, IndicatorFilter, Store, StoreError};

use super::{everything, fresh, hub, Backend};

/// A sighting of `raw` with `label`, last seen at `seen`.
fn record(raw: &str, label: &str, seen: i64) -> Record {
    let mut rec = Record::new(1, normalize(raw).unwrap().observables.remove(0));
    rec.attributes = Attributes {
        category: Some(Category::C2),
        tlp: Some(Tlp::Green),
        label: Some(label.into()),
        first_seen: Some(seen),
        last_seen: Some(seen),
        ..Attributes::default()
    };
    rec
}

fn add(sink: &mut dyn ImportSink, rec: &Record) -> Result<(), StoreError> {
    for s in rec.sightings() {
        sink.add(&s)?;
    }
    Ok(())
}

fn partner(name: &str) -> NewOrganisation {
    NewOrganisation { name: name.into(), kind: OrgKind::Partner, country: None, asns: Vec::new() }
}

/// What an import wrote of `value`: (label, last seen) of its one sighting.
fn seen(store: &impl Store, filter: &IndicatorFilter, value: &str) -> Option<(Option<String>, i64)> {
    let detail = store.indicator(value, filter).unwrap()?;
    let s = &detail.sightings[0];
    Some((s.label.clone(), s.last_seen))
}

/// A flush ends a batch, and another writer (an analyst adding an
/// organisation on another connection) gets in before the import goes on:
/// the import does not hold the store from its first batch to its last.
pub fn writers_get_in_between_batches<B: Backend + Send>() {
    let store = fresh::<B>();
    let other = store.reopen();
    let (ask, asked) = mpsc::channel::<()>();
    let (done, answered) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        asked.recv().unwrap();
        other.add_org(&partner("analysts")).unwrap();
        done.send(()).unwrap();
    });
    let meta = ImportMeta::new("a", "long.txt", "00", "plain");
    store
        .import(&meta, &mut |sink| {
            add(sink, &record("45.0.0.1", "first", 1_000))?;
            sink.flush()?;
            ask.send(()).unwrap();
            // Generous: this waits for one small write, not for a timing.
            answered
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| StoreError::Aborted("the other writer could not get in".into()))?;
            add(sink, &record("45.0.0.2", "second", 1_000))?;
            Ok(ImportCounts::default())
        })
        .unwrap();
    writer.join().unwrap();
    assert!(store.orgs().unwrap().iter().any(|o| o.name == "analysts"));
    assert!(seen(&*store, &everything(&*store), "45.0.0.2").is_some());
}

/// An import that fails after some of its batches were written is undone:
/// the sightings it made are gone, those it refreshed are as they were,
/// and the source and organisation it made for itself are gone too.
pub fn a_failed_import_is_undone_after_its_batches<B: Backend>() {
    let store = fresh::<B>();
    let kept = ImportMeta::new("a", "old.txt", "00", "plain");
    store
        .import(&kept, &mut |sink| {
            add(sink, &record("45.0.0.1", "before", 1_000))?;
            Ok(ImportCounts::default())
        })
        .unwrap();
    let (imports, orgs, generation) =
        (store.imports(&hub(&*store)).unwrap(), store.orgs().unwrap(), store.generation().unwrap());
    for source in ["a", "newcomer"] {
        let meta = ImportMeta::new(source, "new.txt", "11", "plain");
        let result = store.import(&meta, &mut |sink| {
            add(sink, &record("45.0.0.1", "after", 9_000))?;
            add(sink, &record("http://evil.example/x", "made", 9_000))?;
            sink.flush()?;
            add(sink, &record("45.0.0.3", "made", 9_000))?;
            sink.flush()?;
            Err(StoreError::Aborted("line 3: rejected under --strict".into()))
        });
        assert!(result.is_err());
        let hub_view = everything(&*store);
        assert_eq!(seen(&*store, &hub_view, "45.0.0.1"), Some((Some("before".into()), 1_000)), "{source}");
        for made in ["http://evil.example/x", "evil.example", "45.0.0.3"] {
            assert!(store.indicator(made, &hub_view).unwrap().is_none(), "{source}: {made}");
        }
        let mut all = Vec::new();
        store.indicators(&hub_view, &mut |i| all.push(i.value)).unwrap();
        assert_eq!(all, ["45.0.0.1"]);
        assert_eq!(store.imports(&hub(&*store)).unwrap(), imports);
        assert_eq!(store.sources(&hub(&*store)).unwrap().len(), 1);
        assert_eq!(store.orgs().unwrap(), orgs);
    }
    // What readers saw of it changed twice; caches must not keep it.
    assert!(store.generation().unwrap() > generation);
    // And the store takes the same import when it succeeds.
    let meta = ImportMeta::new("newcomer", "new.txt", "11", "plain");
    store
        .import(&meta, &mut |sink| {
            add(sink, &record("45.0.0.3", "made", 9_000))?;
            sink.flush()?;
            add(sink, &record("45.0.0.1", "after", 9_000))?;
            Ok(ImportCounts::default())
        })
        .unwrap();
    let filter = everything(&*store);
    assert_eq!(seen(&*store, &filter, "45.0.0.3"), Some((Some("made".into()), 9_000)));
    assert_eq!(store.indicator("45.0.0.1", &filter).unwrap().unwrap().sightings.len(), 2);
}
