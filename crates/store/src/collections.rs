//! TAXII collections: views of the indicators that the hub defines (which
//! categories, kinds, confidence, TLP ceiling, operation), who may read
//! and write each, and what a view holds for a reader: one
//! [`CollectionObject`] per indicator, built only from the sightings the
//! reader may see that the view selects, with the versions it had.
//!
//! Versions are reconstructed from those sightings, so they are exact per
//! reader: an object has a version at each date one of its sightings was
//! stored or last written (its imports' `added_us`), and the version of
//! date `T` is built from the sightings stored by `T`, as they are now (a
//! sighting rewritten later shows its current values in earlier versions;
//! cordon keeps no history of a sighting's values). A reader who may not
//! see a sighting sees neither it nor the version it made.

use cordon_model::{Category, Kind, Timestamp, Tlp, Viewer};

use crate::shared::Summarizer;
use crate::{IndicatorSummary, StoreError};

/// An organisation named by a collection (a reader or a writer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// Who may read a collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Every organisation of the community (and the hub).
    Community,
    /// These organisations (and the hub).
    Orgs(Vec<Member>),
    /// Anyone, who reads only TLP:CLEAR, as the public would.
    PublicClear,
}

/// What a collection selects, and who reads and writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionSpec {
    /// Its unique name (`cordon collection add NAME`), also its TAXII alias.
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// Only sightings of these categories (empty: any).
    pub categories: Vec<Category>,
    /// Only indicators of these kinds (empty: any).
    pub kinds: Vec<Kind>,
    /// Only indicators whose combined confidence (over the sightings
    /// selected) is at least this.
    pub min_confidence: Option<u8>,
    /// Only sightings up to this TLP.
    pub tlp_max: Tlp,
    /// Only sightings from imports attached to this operation.
    pub operation: Option<String>,
    /// Who reads it.
    pub readers: Readers,
    /// The organisations that may add objects to it (and delete their own).
    pub writers: Vec<Member>,
}

/// A stored collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    /// Its id in the store.
    pub id: i64,
    /// Its TAXII id (a UUID).
    pub uuid: String,
    /// When it was created.
    pub created: i64,
    /// What it is.
    pub spec: CollectionSpec,
}

/// One sighting a collection object is built from (selected by the
/// collection, visible to the reader).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionSighting {
    /// The source that reported it.
    pub source: String,
    /// Its category.
    pub category: Category,
    /// The malware family it names, if any.
    pub malware: Option<String>,
    /// Its TLP.
    pub tlp: Tlp,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Its confidence.
    pub confidence: u8,
    /// When it entered the collection (microseconds): when it was stored,
    /// or when the indicator first reached the collection's minimum
    /// confidence, whichever is later.
    pub created_us: i64,
    /// When it was last written (microseconds), never before `created_us`.
    pub modified_us: i64,
}

/// One indicator as a collection holds it for one reader: its summary
/// built from the sightings the reader may see that the collection
/// selects (so as sensitive as the most sensitive of them), those
/// sightings, and when they were stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionObject {
    /// The indicator's id in the store.
    pub indicator_id: i64,
    /// What those sightings say now (no enrichment, no flags): the
    /// latest version.
    pub summary: IndicatorSummary,
    /// The sightings, by `created_us` (never empty).
    pub sightings: Vec<CollectionSighting>,
    /// When the object entered the collection (microseconds): its first
    /// version.
    pub created_us: i64,
    /// When the latest of its sightings was last written (microseconds):
    /// its latest version and the date it was added in that version.
    pub modified_us: i64,
}

impl CollectionObject {
    /// Builds the object of indicator `indicator_id` (`value` of `kind`)
    /// from `sightings` (any order, dated as stored), or `None` when none
    /// of its versions reaches `min_confidence`. Sightings stored before
    /// the first version that does are dated at that version.
    pub(crate) fn build(
        indicator_id: i64,
        value: String,
        kind: Kind,
        mut sightings: Vec<CollectionSighting>,
        min_confidence: u8,
    ) -> Option<CollectionObject> {
        sightings.sort_by_key(|s| s.created_us);
        let summarize = |upto: &[CollectionSighting]| summarize(&value, kind, upto);
        // Combined confidence only grows as sightings are added: the
        // first version that reaches the minimum is found by bisection
        // over the prefixes of sightings sorted by date.
        let passes = |n: usize| summarize(&sightings[..n]).confidence >= min_confidence;
        if sightings.is_empty() || !passes(sightings.len()) {
            return None;
        }
        let (mut low, mut high) = (1, sightings.len());
        while low < high {
            let mid = (low + high) / 2;
            if passes(mid) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        let entered = sightings[low - 1].created_us;
        for s in &mut sightings {
            s.created_us = s.created_us.max(entered);
            s.modified_us = s.modified_us.max(s.created_us);
        }
        let summary = summarize(&sightings);
        let modified_us = sightings.iter().map(|s| s.modified_us).max().unwrap_or(entered);
        Some(CollectionObject { indicator_id, summary, sightings, created_us: entered, modified_us })
    }

    /// The dates of its versions (microseconds), ascending: every date one
    /// of its sightings entered the collection or was last written.
    pub fn versions(&self) -> Vec<i64> {
        let mut dates: Vec<i64> = self.sightings.iter().flat_map(|s| [s.created_us, s.modified_us]).collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }

    /// Its version of date `at_us`: built from the sightings that had
    /// entered the collection by then.
    pub fn as_of(&self, at_us: i64) -> IndicatorSummary {
        let entered = self.sightings.partition_point(|s| s.created_us <= at_us);
        summarize(&self.summary.value, self.summary.kind, &self.sightings[..entered])
    }

    /// The malware families its sightings name, sorted.
    pub fn families(&self) -> std::collections::BTreeSet<&str> {
        self.sightings.iter().filter_map(|s| s.malware.as_deref()).collect()
    }

    /// When the markings of an object built from its sightings of
    /// `family` (all of them when `None`) change: see [`marking_versions`].
    pub fn marking_versions(&self, family: Option<&str>) -> Vec<(i64, Tlp)> {
        let of_family = self.sightings.iter().filter(|s| family.is_none() || s.malware.as_deref() == family);
        marking_versions(of_family.map(|s| (s.created_us, s.tlp)))
    }
}

/// The summary of `sightings` of indicator `value`.
fn summarize(value: &str, kind: Kind, sightings: &[CollectionSighting]) -> IndicatorSummary {
    let mut summary = Summarizer::new(value.to_string(), kind, None, Vec::new());
    for s in sightings {
        summary.add(&s.source, s.category, s.tlp, s.first_seen, s.last_seen, s.confidence);
    }
    summary.finish()
}

/// The versions of an object whose only changing content is its marking,
/// built from sightings entering at the given dates with the given TLPs:
/// its first date, then every date where the most restrictive TLP among
/// the sightings entered so far becomes more restrictive, each with that
/// TLP. Ascending; empty without sightings.
pub fn marking_versions(sightings: impl IntoIterator<Item = (i64, Tlp)>) -> Vec<(i64, Tlp)> {
    let mut sightings: Vec<(i64, Tlp)> = sightings.into_iter().collect();
    sightings.sort_unstable();
    let mut out: Vec<(i64, Tlp)> = Vec::new();
    for (date, tlp) in sightings {
        match out.last_mut() {
            Some((_, current)) if *current >= tlp => {}
            Some((last_date, current)) if *last_date == date => *current = tlp,
            _ => out.push((date, tlp)),
        }
    }
    out
}

/// Which sightings of one indicator a deletion from a collection removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deletion<'a> {
    /// The indicator.
    pub indicator_id: i64,
    /// Only the sightings naming this malware family, when given.
    pub malware: Option<&'a str>,
    /// Only the sightings this organisation submitted; every one when
    /// `None` (the hub).
    pub org_id: Option<i64>,
    /// Only the sightings that entered or were last written at one of
    /// these dates (microseconds: the dates added of their imports, which
    /// are an object's versions); every one when `None`.
    pub versions: Option<&'a [i64]>,
}

/// Storage of collections, what they hold, and the status of objects
/// posted to them.
pub trait CollectionStore {
    /// Adds a collection; [`StoreError::Conflict`] when the name is taken
    /// or a named operation does not exist.
    fn add_collection(&self, spec: &CollectionSpec) -> Result<Collection, StoreError>;

    /// Every collection, by name.
    fn collections(&self) -> Result<Vec<Collection>, StoreError>;

    /// Removes the collection `name` (and its statuses); false when there is
    /// none.
    fn remove_collection(&self, name: &str) -> Result<bool, StoreError>;

    /// Streams what `collection` holds for `viewer`, by indicator id; only
    /// the indicators of `only` when given.
    fn collection_objects(
        &self,
        collection: &Collection,
        viewer: &Viewer,
        only: Option<&[i64]>,
        each: &mut dyn FnMut(CollectionObject),
    ) -> Result<(), StoreError>;

    /// Deletes the sightings `deletion` names among those `collection`
    /// selects; returns how many.
    fn delete_collection_sightings(&self, collection: &Collection, deletion: &Deletion<'_>) -> Result<u64, StoreError>;

    /// Keeps the status `body` of a POST (opaque to the store) under `id`,
    /// for organisation `org_id`.
    fn put_status(&self, id: &str, collection: &Collection, org_id: i64, body: &str) -> Result<(), StoreError>;

    /// The status `id` of organisation `org_id`'s POST to `collection`.
    fn status(&self, id: &str, org_id: i64) -> Result<Option<String>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markings_change_only_to_a_more_restrictive_tlp() {
        let versions =
            marking_versions([(5, Tlp::Green), (3, Tlp::Clear), (5, Tlp::Amber), (7, Tlp::Green), (9, Tlp::Red)]);
        assert_eq!(versions, [(3, Tlp::Clear), (5, Tlp::Amber), (9, Tlp::Red)]);
        assert!(marking_versions([]).is_empty());
    }

    #[test]
    fn an_object_enters_at_its_first_version_of_enough_confidence() {
        let sighting = |source: &str, confidence, created_us| CollectionSighting {
            source: source.into(),
            category: Category::C2,
            malware: None,
            tlp: Tlp::Green,
            first_seen: 0,
            last_seen: 0,
            confidence,
            created_us,
            modified_us: created_us,
        };
        let sightings = vec![sighting("c", 50, 30), sighting("a", 50, 10), sighting("b", 50, 20)];
        let object = CollectionObject::build(1, "45.9.20.31".into(), Kind::Ipv4, sightings.clone(), 70).unwrap();
        // 50 alone, 75 with two sources: it enters with b's sighting.
        assert_eq!((object.created_us, object.versions()), (20, vec![20, 30]));
        assert_eq!(object.as_of(20).sources, ["a", "b"]);
        assert_eq!(object.as_of(30), object.summary);
        assert!(CollectionObject::build(1, "45.9.20.31".into(), Kind::Ipv4, sightings, 90).is_none());
    }
}
