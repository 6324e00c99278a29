//! Collections through `CollectionStore`: what a collection holds for
//! each reader, and the versions it had, rebuilt from the sightings that
//! reader may see.

use cordon_model::{normalize, Attributes, Category, OrgKind, Record, Tlp};
use cordon_store::collections::{Collection, CollectionObject, CollectionSpec, CollectionStore, Deletion, Readers};
use cordon_store::orgs::NewOrganisation;
use cordon_store::{ImportCounts, ImportMeta, Store};

use super::{fresh, hub, Backend};

/// Imports one sighting of `value` from `source`.
fn import(store: &impl Store, source: &str, value: &str, tlp: Tlp, malware: &str, confidence: u8) {
    let mut record = Record::new(1, normalize(value).unwrap().observables.remove(0));
    record.attributes = Attributes {
        category: Some(Category::C2),
        tlp: Some(tlp),
        confidence: Some(confidence),
        malware: Some(malware.to_string()),
        ..Attributes::default()
    };
    let meta = ImportMeta::new(source, "feed.txt", "ab", "plain");
    store
        .import(&meta, &mut |sink| {
            for s in record.sightings() {
                sink.add(&s)?;
            }
            sink.flush()?;
            Ok(ImportCounts::default())
        })
        .unwrap();
}

fn spec(name: &str, min_confidence: Option<u8>) -> CollectionSpec {
    CollectionSpec {
        name: name.into(),
        title: name.into(),
        description: String::new(),
        categories: vec![],
        kinds: vec![],
        min_confidence,
        tlp_max: Tlp::Red,
        operation: None,
        readers: Readers::Community,
        writers: vec![],
    }
}

fn objects(
    store: &impl CollectionStore,
    collection: &Collection,
    viewer: cordon_model::Viewer,
) -> Vec<CollectionObject> {
    let mut out = Vec::new();
    store.collection_objects(collection, &viewer, None, &mut |o| out.push(o)).unwrap();
    out
}

pub fn versions_follow_the_sightings_each_reader_may_see<B: Backend>() {
    let store = fresh::<B>();
    import(&*store, "a", "45.9.20.31", Tlp::Green, "emotet", 50);
    import(&*store, "b", "45.9.20.31", Tlp::Amber, "emotet", 90);
    let soc = NewOrganisation { name: "soc".into(), kind: OrgKind::Defender, country: None, asns: vec![] };
    let soc = store.add_org(&soc).unwrap().viewer();
    let all = store.add_collection(&spec("all", None)).unwrap();
    let held = objects(&*store, &all, hub(&*store));
    assert_eq!(held.len(), 1);
    let object = &held[0];
    let versions = object.versions();
    assert_eq!(versions.len(), 2, "a's import, then b's");
    assert_eq!((object.created_us, object.modified_us), (versions[0], versions[1]));
    let (first, last) = (object.as_of(versions[0]), object.as_of(versions[1]));
    assert_eq!((first.sources, first.tlp, first.confidence), (vec!["a".to_string()], Tlp::Green, 50));
    assert_eq!(
        (&last.sources[..], last.tlp, last.confidence),
        (&["a".to_string(), "b".to_string()][..], Tlp::Amber, 95)
    );
    assert_eq!(last, object.summary);
    assert_eq!(object.families().into_iter().collect::<Vec<_>>(), ["emotet"]);
    assert_eq!(object.marking_versions(Some("emotet")), [(versions[0], Tlp::Green), (versions[1], Tlp::Amber)]);
    assert!(object.marking_versions(Some("qakbot")).is_empty());
    // A defender may not see b's AMBER sighting: it holds a's version only.
    let seen = objects(&*store, &all, soc);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].versions(), versions[..1]);
    assert_eq!((seen[0].summary.sources.clone(), seen[0].summary.tlp), (vec!["a".to_string()], Tlp::Green));
    // At 60, the object enters the collection with b's sighting, built from
    // both; for the defender it never does.
    let strict = store.add_collection(&spec("strict", Some(60))).unwrap();
    let held = objects(&*store, &strict, hub(&*store));
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].versions(), held[0].created_us), (versions[1..].to_vec(), versions[1]));
    assert_eq!(held[0].as_of(versions[1]).sources, ["a", "b"]);
    assert!(objects(&*store, &strict, soc).is_empty());
    // Deleting the sightings of one family deletes no other; deleting a
    // version deletes the sightings that made it, and a version no
    // sighting made deletes nothing.
    let id = object.indicator_id;
    let deletion = |malware, versions| Deletion { indicator_id: id, malware, org_id: None, versions };
    assert_eq!(store.delete_collection_sightings(&all, &deletion(Some("qakbot"), None)).unwrap(), 0);
    assert_eq!(store.delete_collection_sightings(&all, &deletion(None, Some(&versions[1..]))).unwrap(), 1);
    let left = objects(&*store, &all, hub(&*store));
    assert_eq!((left[0].versions(), left[0].summary.sources.clone()), (versions[..1].to_vec(), vec!["a".to_string()]));
    let never = [versions[0] + 1];
    assert_eq!(store.delete_collection_sightings(&all, &deletion(None, Some(&never))).unwrap(), 0);
    assert_eq!(store.delete_collection_sightings(&all, &deletion(Some("emotet"), None)).unwrap(), 1);
    assert!(objects(&*store, &all, hub(&*store)).is_empty());
}
