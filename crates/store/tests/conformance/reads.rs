//! Imports and reads through the `Store` trait.

use cordon_model::{normalize, Attributes, Category, Record, Tlp};
use cordon_store::{ImportCounts, ImportMeta, IndicatorFilter, Store, StoreError};

use super::{everything, fresh, hub, Backend};

fn record(line: u64, raw: &str, category: Category, tlp: Tlp) -> Record {
    let mut rec = Record::new(line, normalize(raw).unwrap().observables.remove(0));
    rec.attributes =
        Attributes { category: Some(category), tlp: Some(tlp), confidence: Some(60), ..Attributes::default() };
    rec
}

/// Imports `records` from `source` and returns the counts of new and updated sightings.
fn import(store: &impl Store, source: &str, records: &[Record]) -> (u64, u64) {
    let meta = ImportMeta::new(source, "feed.txt", "ab", "plain");
    let mut counts = ImportCounts::default();
    store
        .import(&meta, &mut |sink| {
            for rec in records {
                for s in rec.sightings() {
                    sink.add(&s)?;
                }
            }
            let stored = sink.flush()?;
            (counts.new, counts.updated) = (stored.new, stored.updated);
            Ok(counts)
        })
        .unwrap();
    (counts.new, counts.updated)
}

fn values(store: &impl Store, filter: &IndicatorFilter) -> Vec<String> {
    let mut out = Vec::new();
    store.indicators(filter, &mut |i| out.push(i.value)).unwrap();
    out
}

pub fn reimport_is_idempotent_and_other_sources_add_sightings<B: Backend>() {
    let store = fresh::<B>();
    let recs = [
        record(1, "80.94.95.112", Category::C2, Tlp::Green),
        record(2, "hxxp://evil-shop[.]com/login", Category::Phishing, Tlp::Green),
    ];
    assert_eq!(import(&*store, "a", &recs), (3, 0));
    assert_eq!(import(&*store, "a", &recs), (0, 3));
    assert_eq!(values(&*store, &everything(&*store)).len(), 3);
    assert_eq!(import(&*store, "b", &recs[..1]), (1, 0));
    let detail = store.indicator("80.94.95.112", &everything(&*store)).unwrap().unwrap();
    assert_eq!(detail.summary.sources, ["a", "b"]);
    assert_eq!(detail.summary.confidence, 84, "two sources at 60 corroborate to 84");
    assert_eq!(detail.sightings.len(), 2);
    assert_eq!(store.imports(&hub(&*store)).unwrap().len(), 3);
    let sources = store.sources(&hub(&*store)).unwrap();
    assert_eq!((sources[0].name.as_str(), sources[0].imports, sources[0].indicators), ("a", Some(2), 3));
}

pub fn created_indicators_are_those_an_import_added_a_sighting_to<B: Backend>() {
    let store = fresh::<B>();
    let first =
        [record(1, "80.94.95.112", Category::C2, Tlp::Green), record(2, "45.9.20.31", Category::C2, Tlp::Green)];
    import(&*store, "a", &first);
    import(&*store, "a", &first);
    import(
        &*store,
        "b",
        &[record(1, "45.9.20.31", Category::C2, Tlp::Green), record(2, "evil.example", Category::C2, Tlp::Green)],
    );
    let mut imports: Vec<i64> = store.imports(&hub(&*store)).unwrap().iter().map(|i| i.id).collect();
    imports.sort_unstable();
    let mut refs = Vec::new();
    store.indicator_refs(&mut |r| refs.push(r)).unwrap();
    let ids_of = |values: &[&str]| {
        let mut ids: Vec<i64> = refs.iter().filter(|r| values.contains(&r.value.as_str())).map(|r| r.id).collect();
        ids.sort_unstable();
        ids
    };
    let created = |imports: &[i64]| {
        let mut ids = Vec::new();
        store.created_indicators(imports, &mut |r| ids.push(r.id)).unwrap();
        ids.sort_unstable();
        ids
    };
    assert_eq!(created(&imports[..1]), ids_of(&["80.94.95.112", "45.9.20.31"]));
    assert!(created(&imports[1..2]).is_empty(), "a re-import creates no sighting");
    assert_eq!(created(&imports[2..]), ids_of(&["45.9.20.31", "evil.example"]));
    assert_eq!(created(&imports), ids_of(&["80.94.95.112", "45.9.20.31", "evil.example"]), "each once");
    // The same count, and only the named ones: a value not created by the
    // imports (80.94.95.112 by the third) or in no store is not handed over.
    let named = ["80.94.95.112", "evil.example", "198.51.100.7"].map(String::from);
    let among = |imports: &[i64]| {
        let mut ids = Vec::new();
        let count = store.created_among(imports, &named, &mut |r| ids.push(r.id)).unwrap();
        ids.sort_unstable();
        (count, ids)
    };
    assert_eq!(among(&imports[..1]), (2, ids_of(&["80.94.95.112"])));
    assert_eq!(among(&imports[1..2]), (0, Vec::new()));
    assert_eq!(among(&imports[2..]), (2, ids_of(&["evil.example"])));
    assert_eq!(among(&imports), (3, ids_of(&["80.94.95.112", "evil.example"])));
}

pub fn url_and_host_find_each_other<B: Backend>() {
    let store = fresh::<B>();
    let mut rec = record(1, "http://evil-shop.com/login", Category::Phishing, Tlp::Clear);
    rec.links.push(normalize("80.94.95.112").unwrap().observables.remove(0));
    import(&*store, "a", &[rec]);
    let ip = store.indicator("80.94.95.112", &everything(&*store)).unwrap().unwrap();
    assert_eq!(ip.linked, ["http://evil-shop.com/login"]);
    let url = store.indicator("http://evil-shop.com/login", &everything(&*store)).unwrap().unwrap();
    assert_eq!(url.linked, ["80.94.95.112", "evil-shop.com"]);
    assert_eq!(ip.sightings[0].derived_from.as_deref(), Some("http://evil-shop.com/login"));
}

pub fn tlp_hides_sightings_and_indicators<B: Backend>() {
    let store = fresh::<B>();
    import(
        &*store,
        "a",
        &[record(1, "80.94.95.112", Category::C2, Tlp::Red), record(2, "45.148.10.1", Category::C2, Tlp::Green)],
    );
    import(&*store, "b", &[record(1, "80.94.95.112", Category::Ransomware, Tlp::Green)]);
    let green = IndicatorFilter { max_tlp: Tlp::Green, ..everything(&*store) };
    assert_eq!(values(&*store, &green), ["45.148.10.1", "80.94.95.112"]);
    let detail = store.indicator("80.94.95.112", &green).unwrap().unwrap();
    assert_eq!(detail.summary.sources, ["b"]);
    assert_eq!(detail.summary.categories, [Category::Ransomware]);
    let clear = IndicatorFilter { max_tlp: Tlp::Clear, ..everything(&*store) };
    assert!(values(&*store, &clear).is_empty());
    assert!(store.indicator("80.94.95.112", &clear).unwrap().is_none());
    let c2_green = IndicatorFilter { category: Some(Category::C2), ..green };
    assert_eq!(values(&*store, &c2_green), ["45.148.10.1"], "the red C2 sighting must not leak through the filter");
}

pub fn failed_import_leaves_store_unchanged<B: Backend>() {
    let store = fresh::<B>();
    import(&*store, "a", &[record(1, "80.94.95.112", Category::C2, Tlp::Green)]);
    let generation = store.generation().unwrap();
    let meta = ImportMeta::new("b", "bad.txt", "cd", "plain");
    let result = store.import(&meta, &mut |sink| {
        for s in record(1, "45.148.10.1", Category::C2, Tlp::Green).sightings() {
            sink.add(&s)?;
        }
        Err(StoreError::Aborted("line 2: rejected under --strict".into()))
    });
    assert!(result.is_err());
    assert_eq!(values(&*store, &everything(&*store)), ["80.94.95.112"]);
    assert_eq!(store.imports(&hub(&*store)).unwrap().len(), 1);
    assert_eq!(store.sources(&hub(&*store)).unwrap().len(), 1);
    assert_eq!(store.generation().unwrap(), generation);
}

/// Threads share one store: each opens its own connection and writes;
/// nothing is lost and no open fails.
pub fn threads_share_a_store<B: Backend>() {
    let shared = fresh::<B>();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let dir = shared.dir().to_path_buf();
            std::thread::spawn(move || {
                let store = B::open(&dir);
                for round in 0..5 {
                    let meta = ImportMeta::new(&format!("t{t}"), "f", "00", "plain");
                    store
                        .import(&meta, &mut |sink| {
                            let value = format!("45.{t}.{round}.1");
                            let rec = Record::new(1, normalize(&value).unwrap().observables.remove(0));
                            for s in rec.sightings() {
                                sink.add(&s)?;
                            }
                            sink.flush()?;
                            Ok(ImportCounts::default())
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let store = shared.reopen();
    let mut count = 0;
    store.indicators(&everything(&store), &mut |_| count += 1).unwrap();
    assert_eq!(count, 20);
    assert_eq!(store.imports(&hub(&store)).unwrap().len(), 20);
}

/// The neighbourhood reads enrichment after an import uses
/// (`links_touching`, `indicator_refs_of`) are exactly the whole-store
/// reads (`links`, `indicator_refs`) narrowed to the ids asked for, and the
/// pages a whole-store run reads (`indicator_refs_after`) are
/// `indicator_refs` cut in order, as many as `indicator_count` says.
pub fn neighbourhood_reads_are_the_whole_store_reads_narrowed<B: Backend>() {
    use cordon_store::enrichment::{IndicatorRef, Link};
    let store = fresh::<B>();
    let mut url = record(1, "http://evil-shop.com/login", Category::Phishing, Tlp::Amber);
    url.links.push(normalize("80.94.95.112").unwrap().observables.remove(0));
    let mut other = record(2, "http://evil-shop.com/pay", Category::Phishing, Tlp::Green);
    other.links.push(normalize("45.148.10.1").unwrap().observables.remove(0));
    import(&*store, "a", &[url.clone(), other, record(3, "185.220.101.7", Category::C2, Tlp::Clear)]);
    // The same link again at another TLP: one link, the least restrictive.
    url.attributes.tlp = Some(Tlp::Green);
    import(&*store, "b", &[url]);
    let links = store.links().unwrap();
    let mut refs: Vec<IndicatorRef> = Vec::new();
    store.indicator_refs(&mut |r| refs.push(r)).unwrap();
    assert!(links.len() >= 4, "the fixture links: {links:?}");
    assert_eq!(store.indicator_count().unwrap(), refs.len() as u64);
    for limit in [1, 2, refs.len() + 1] {
        let (mut paged, mut after) = (Vec::new(), i64::MIN);
        loop {
            let page = store.indicator_refs_after(after, limit).unwrap();
            assert!(page.len() <= limit, "a page of {limit}: {page:?}");
            let Some(last) = page.last() else { break };
            after = last.id;
            paged.extend(page);
        }
        assert_eq!(paged, refs, "pages of {limit}");
    }
    let all_ids: Vec<i64> = refs.iter().map(|r| r.id).collect();
    let subsets: Vec<Vec<i64>> = vec![
        Vec::new(),
        all_ids.clone(),
        all_ids.iter().copied().step_by(2).collect(),
        vec![all_ids[1], all_ids[1], 999_999],
    ];
    for ids in subsets {
        let mut want: Vec<Link> =
            links.iter().filter(|l| ids.contains(&l.derived) || ids.contains(&l.from)).copied().collect();
        want.sort_by_key(|l| (l.derived, l.from));
        assert_eq!(store.links_touching(&ids).unwrap(), want, "links touching {ids:?}");
        let want: Vec<&IndicatorRef> = refs.iter().filter(|r| ids.contains(&r.id)).collect();
        let mut got = Vec::new();
        store.indicator_refs_of(&ids, &mut |r| got.push(r)).unwrap();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "refs of {ids:?}");
    }
}

/// Stale after an import: what it created, and every indicator never
/// enriched (whatever import made it), each once; none never enriched once
/// every indicator has a row.
pub fn stale_indicators_are_the_created_and_the_never_enriched<B: Backend>() {
    use cordon_store::enrichment::Enrichment;
    let store = fresh::<B>();
    import(&*store, "a", &[record(1, "80.94.95.112", Category::C2, Tlp::Green)]);
    import(&*store, "a", &[record(1, "45.148.10.1", Category::C2, Tlp::Green)]);
    let imports: Vec<i64> = store.imports(&hub(&*store)).unwrap().iter().map(|i| i.id).collect();
    let id = |value: &str| {
        let mut found = None;
        store.indicator_refs(&mut |r| found = found.or((r.value == value).then_some(r.id))).unwrap();
        found.unwrap()
    };
    let (first, second) = (id("80.94.95.112"), id("45.148.10.1"));
    let latest = *imports.iter().max().unwrap();
    let mut both = vec![first, second];
    both.sort_unstable();
    assert_eq!(store.stale_indicators(&[latest]).unwrap(), both, "the first was never enriched");
    let row = Enrichment { hosting: "unknown".into(), ..Enrichment::default() };
    store.write_enrichment(&[(first, row.clone())]).unwrap();
    assert_eq!(store.stale_indicators(&[latest]).unwrap(), [second]);
    store.write_enrichment(&[(second, row)]).unwrap();
    assert_eq!(store.stale_indicators(&[latest]).unwrap(), [second], "created by the import");
    assert!(store.stale_indicators(&[]).unwrap().is_empty(), "every indicator enriched");
}
