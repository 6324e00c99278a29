//! What both backends share: the summary of an indicator's visible
//! sightings, built as their rows are read, and TLP as stored.

use std::collections::{BTreeMap, BTreeSet};

use cordon_model::{combined_confidence, Category, Kind, Tlp, Viewer};

use crate::enrichment::Enrichment;
use crate::IndicatorSummary;

/// How reads order one indicator's sightings from one source (`s` is
/// `sightings`): as they were first stored, by import and line, then by
/// their key so that the order is total.
pub(crate) const SIGHTING_ORDER: &str = "s.created_import, s.line, s.category, s.malware, s.port, s.derived_from";

/// Accumulates one indicator's sighting rows into its summary.
pub(crate) struct Summarizer {
    value: String,
    kind: Kind,
    categories: BTreeSet<Category>,
    per_source: BTreeMap<String, u8>,
    tlp: Tlp,
    first_seen: i64,
    last_seen: i64,
    enrichment: Option<Enrichment>,
    flags: Vec<String>,
}

impl Summarizer {
    pub(crate) fn new(value: String, kind: Kind, enrichment: Option<Enrichment>, flags: Vec<String>) -> Summarizer {
        Summarizer {
            value,
            kind,
            enrichment,
            flags,
            categories: BTreeSet::new(),
            per_source: BTreeMap::new(),
            tlp: Tlp::Clear,
            first_seen: i64::MAX,
            last_seen: i64::MIN,
        }
    }

    pub(crate) fn add(&mut self, source: &str, category: Category, tlp: Tlp, first: i64, last: i64, confidence: u8) {
        self.categories.insert(category);
        let best = self.per_source.entry(source.to_string()).or_insert(0);
        *best = (*best).max(confidence);
        // Aggregates never downgrade: the summary names every visible
        // sighting's source and category, so it is as sensitive as the most
        // sensitive of them.
        self.tlp = self.tlp.max(tlp);
        self.first_seen = self.first_seen.min(first);
        self.last_seen = self.last_seen.max(last);
    }

    pub(crate) fn finish(self) -> IndicatorSummary {
        IndicatorSummary {
            confidence: combined_confidence(self.per_source.values().copied()),
            value: self.value,
            kind: self.kind,
            categories: self.categories.into_iter().collect(),
            sources: self.per_source.into_keys().collect(),
            tlp: self.tlp,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            enrichment: self.enrichment,
            flags: self.flags,
        }
    }
}

/// TLP as stored: its rank, least restrictive 0.
pub(crate) fn tlp_code(tlp: Tlp) -> i64 {
    Tlp::ALL.iter().position(|t| *t == tlp).unwrap_or(Tlp::ALL.len() - 1) as i64
}

/// The TLP of a stored rank; unknown ranks read as the most restrictive.
pub(crate) fn tlp_from_code(code: i64) -> Tlp {
    usize::try_from(code).ok().and_then(|i| Tlp::ALL.get(i).copied()).unwrap_or(Tlp::Red)
}

/// Whether enrichment derived through a link of TLP `via` may be shown
/// (the SQL `ENRICHMENT_VISIBLE` of either backend) in Rust, for the rows a query already read (a test
/// checks the two agree): `via` is the enrichment's `via_tlp`.
pub(crate) fn enrichment_visible(viewer: &Viewer, via: Option<Tlp>, max_tlp: Tlp) -> bool {
    match via {
        None => true,
        Some(tlp) => {
            tlp <= max_tlp && (viewer.is_hub() || tlp == Tlp::Clear || (tlp == Tlp::Green && viewer.org_id().is_some()))
        }
    }
}
