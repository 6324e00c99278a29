//! Plain data crossing the [`crate::Store`] boundary.

use cordon_model::{Category, Kind, Timestamp, Tlp, Viewer};

/// What an import is, recorded with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportMeta {
    /// The partner or feed name (`--source`).
    pub source: String,
    /// The file it came from, as given.
    pub path: String,
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The format it was read as.
    pub format: String,
    /// When the import ran; also the default first/last seen of sightings
    /// whose source gives none.
    pub time: Timestamp,
}

impl ImportMeta {
    /// An import of `path` from `source` now.
    pub fn new(source: &str, path: &str, sha256: &str, format: &str) -> ImportMeta {
        let time =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as Timestamp);
        ImportMeta { source: source.into(), path: path.into(), sha256: sha256.into(), format: format.into(), time }
    }
}

/// The counts an import records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Records read.
    pub read: u64,
    /// Sightings stored (new + updated).
    pub accepted: u64,
    /// Sightings that were new.
    pub new: u64,
    /// Sightings that refreshed an existing one.
    pub updated: u64,
    /// Records rejected as unreadable.
    pub rejected: u64,
    /// Records skipped (not targetable, not network indicators).
    pub skipped: u64,
}

/// What the sightings added to an import did: the first add of a sighting
/// the store did not have is new, every other add refreshes one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    /// Adds that created a sighting.
    pub new: u64,
    /// Adds that refreshed an existing sighting (last seen, confidence, TLP,
    /// label).
    pub updated: u64,
}

/// Which indicators a read returns, and who is reading.
///
/// There is deliberately no `Default`: every read names its [`Viewer`], and
/// what the viewer may see ([`cordon_model::may_see`]) is applied before
/// any other filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorFilter {
    /// Who reads: sightings the viewer may not see do not exist for it.
    pub viewer: Viewer,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only indicators with a visible sighting of this category.
    pub category: Option<Category>,
    /// Only indicators with a visible sighting from this source.
    pub source: Option<String>,
    /// A further narrowing: sightings above this TLP are left out too (an
    /// export for a community of defenders stops at GREEN even for the hub).
    pub max_tlp: Tlp,
    /// Only indicators enriched to this country (ISO alpha-2, uppercase).
    pub country: Option<String>,
    /// Only indicators enriched to this AS number.
    pub asn: Option<u32>,
    /// Only flagged (`Some(true)`) or unflagged (`Some(false)`) indicators.
    pub flagged: Option<bool>,
    /// Only indicators whose value sorts after this one (keyset
    /// pagination: a page starts where the last one ended, at the cost of
    /// page 1).
    pub after: Option<String>,
    /// At most this many indicators.
    pub limit: Option<u64>,
}

impl IndicatorFilter {
    /// Everything `viewer` may see.
    pub fn new(viewer: Viewer) -> IndicatorFilter {
        IndicatorFilter {
            viewer,
            kind: None,
            category: None,
            source: None,
            max_tlp: Tlp::Red,
            country: None,
            asn: None,
            flagged: None,
            after: None,
            limit: None,
        }
    }
}

/// An indicator with its visible sightings summarised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorSummary {
    /// The canonical value.
    pub value: String,
    /// Its kind.
    pub kind: Kind,
    /// Distinct categories, sorted.
    pub categories: Vec<Category>,
    /// Distinct sources, sorted.
    pub sources: Vec<String>,
    /// The most restrictive TLP among its visible sightings: the summary
    /// is built from all of them, so it is as sensitive as the most
    /// sensitive one.
    pub tlp: Tlp,
    /// The earliest first-seen.
    pub first_seen: Timestamp,
    /// The latest last-seen.
    pub last_seen: Timestamp,
    /// Combined confidence over its sources
    /// ([`cordon_model::combined_confidence`]).
    pub confidence: u8,
    /// What enrichment knows, once `cordon enrich` (or an ingest with a
    /// geo snapshot) has run, when the viewer may see it (enrichment derived
    /// through a link is as sensitive as the link).
    pub enrichment: Option<crate::enrichment::Enrichment>,
    /// The "do not take down" flags of the indicator, whether or not the
    /// viewer may see the enrichment they come from: outputs leave flagged
    /// indicators out by these, and a hidden enrichment must not make a CDN
    /// a blocklist entry.
    pub flags: Vec<String>,
}

/// One stored sighting, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SightingRow {
    /// The source that reported it.
    pub source: String,
    /// cordon's category.
    pub category: Category,
    /// The source's own label.
    pub label: Option<String>,
    /// The malware family.
    pub malware: Option<String>,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Confidence, 0–100.
    pub confidence: u8,
    /// Sharing level.
    pub tlp: Tlp,
    /// Port, when the source gave one.
    pub port: Option<u16>,
    /// The observable this sighting was derived from (a URL's host comes
    /// from the URL).
    pub derived_from: Option<String>,
    /// The import's file and line.
    pub file: String,
    /// The line in that file.
    pub line: u64,
}

/// An indicator with all its visible sightings and links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorDetail {
    /// The summary.
    pub summary: IndicatorSummary,
    /// Every visible sighting.
    pub sightings: Vec<SightingRow>,
    /// Observables linked to it either way (a URL's host, the URLs on a
    /// host), sorted.
    pub linked: Vec<String>,
}

/// A source and what came from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSummary {
    /// The name.
    pub name: String,
    /// The organisation it belongs to.
    pub org: String,
    /// Imports from it; shown (`Some`) to the hub and the owning
    /// organisation only.
    pub imports: Option<u64>,
    /// Indicators it reported that the viewer may see.
    pub indicators: u64,
    /// Its sightings that the viewer may see.
    pub sightings: u64,
    /// Its latest import (hub and owner only).
    pub last_import: Option<Timestamp>,
}

/// One recorded import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRecord {
    /// Its id.
    pub id: i64,
    /// The source.
    pub source: String,
    /// The file.
    pub path: String,
    /// The file's SHA-256.
    pub sha256: String,
    /// The format.
    pub format: String,
    /// When.
    pub time: Timestamp,
    /// The counts.
    pub counts: ImportCounts,
}
