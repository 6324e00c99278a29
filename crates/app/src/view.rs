//! The shapes the application returns: plain serde data, the same for the
//! command line's `--json` and the server's API. Times are RFC 3339 text.

use cordon_ingest::FileReport;
use cordon_model::format_timestamp;
use cordon_store::ops::{Check, ContactRef, Operation, Outcome, Target, Transition};
use cordon_store::orgs::Organisation;
use cordon_store::{ImportRecord, IndicatorDetail, IndicatorSummary, SightingRow, SourceSummary};
use serde::Serialize;

/// A "do not take down" flag with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagView {
    /// The flag (`cdn`, `allowlisted`, …).
    pub flag: String,
    /// Why, in words.
    pub reason: String,
}

/// Flags as views.
pub fn flags(pairs: &[(String, String)]) -> Vec<FlagView> {
    pairs.iter().map(|(flag, reason)| FlagView { flag: flag.clone(), reason: reason.clone() }).collect()
}

/// An indicator as a viewer sees it (`cordon indicators --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndicatorView {
    /// The canonical value.
    pub value: String,
    /// Its kind.
    pub kind: &'static str,
    /// Categories of the visible sightings.
    pub categories: Vec<&'static str>,
    /// Sources of the visible sightings.
    pub sources: Vec<String>,
    /// The most restrictive TLP among the visible sightings.
    pub tlp: &'static str,
    /// Earliest first seen.
    pub first_seen: String,
    /// Latest last seen.
    pub last_seen: String,
    /// Combined confidence.
    pub confidence: u8,
    /// Enrichment: the AS number.
    pub asn: Option<u32>,
    /// Enrichment: the AS organisation.
    pub as_org: Option<String>,
    /// Enrichment: the country.
    pub country: Option<String>,
    /// Enrichment: the routed network.
    pub network: Option<String>,
    /// Enrichment: the hosting type.
    pub hosting: Option<String>,
    /// Enrichment: the flags.
    pub flags: Vec<FlagView>,
}

impl From<&IndicatorSummary> for IndicatorView {
    fn from(i: &IndicatorSummary) -> IndicatorView {
        let e = i.enrichment.as_ref();
        IndicatorView {
            value: i.value.clone(),
            kind: i.kind.as_str(),
            categories: i.categories.iter().map(|c| c.as_str()).collect(),
            sources: i.sources.clone(),
            tlp: i.tlp.as_str(),
            first_seen: format_timestamp(i.first_seen),
            last_seen: format_timestamp(i.last_seen),
            confidence: i.confidence,
            asn: e.and_then(|e| e.asn),
            as_org: e.and_then(|e| e.as_org.clone()),
            country: e.and_then(|e| e.country.clone()),
            network: e.and_then(|e| e.network.clone()),
            hosting: e.map(|e| e.hosting.clone()),
            flags: e.map(|e| flags(&e.flags)).unwrap_or_default(),
        }
    }
}

/// One visible sighting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SightingView {
    /// The source.
    pub source: String,
    /// cordon's category.
    pub category: &'static str,
    /// The source's label.
    pub label: Option<String>,
    /// The malware family.
    pub malware: Option<String>,
    /// First seen.
    pub first_seen: String,
    /// Last seen.
    pub last_seen: String,
    /// Confidence.
    pub confidence: u8,
    /// TLP.
    pub tlp: &'static str,
    /// Port.
    pub port: Option<u16>,
    /// What it was derived from.
    pub derived_from: Option<String>,
    /// The import's file.
    pub file: String,
    /// The line in it.
    pub line: u64,
}

impl From<&SightingRow> for SightingView {
    fn from(s: &SightingRow) -> SightingView {
        SightingView {
            source: s.source.clone(),
            category: s.category.as_str(),
            label: s.label.clone(),
            malware: s.malware.clone(),
            first_seen: format_timestamp(s.first_seen),
            last_seen: format_timestamp(s.last_seen),
            confidence: s.confidence,
            tlp: s.tlp.as_str(),
            port: s.port,
            derived_from: s.derived_from.clone(),
            file: s.file.clone(),
            line: s.line,
        }
    }
}

/// An indicator with its visible sightings and links (`cordon show --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndicatorDetailView {
    /// The summary.
    #[serde(flatten)]
    pub indicator: IndicatorView,
    /// The visible sightings.
    pub sightings: Vec<SightingView>,
    /// Observables linked by visible sightings.
    pub linked: Vec<String>,
}

impl From<&IndicatorDetail> for IndicatorDetailView {
    fn from(d: &IndicatorDetail) -> IndicatorDetailView {
        IndicatorDetailView {
            indicator: (&d.summary).into(),
            sightings: d.sightings.iter().map(Into::into).collect(),
            linked: d.linked.clone(),
        }
    }
}

/// A source (`cordon sources --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceView {
    /// The name.
    pub name: String,
    /// Its organisation.
    pub org: String,
    /// Its imports (hub and owner only).
    pub imports: Option<u64>,
    /// Indicators the viewer may see.
    pub indicators: u64,
    /// Sightings the viewer may see.
    pub sightings: u64,
    /// Its latest import (hub and owner only).
    pub last_import: Option<String>,
}

impl From<&SourceSummary> for SourceView {
    fn from(s: &SourceSummary) -> SourceView {
        SourceView {
            name: s.name.clone(),
            org: s.org.clone(),
            imports: s.imports,
            indicators: s.indicators,
            sightings: s.sightings,
            last_import: s.last_import.map(format_timestamp),
        }
    }
}

/// An import (`cordon imports --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportView {
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
    pub time: String,
    /// Records read.
    pub read: u64,
    /// Sightings stored.
    pub accepted: u64,
    /// New sightings.
    pub new: u64,
    /// Refreshed sightings.
    pub updated: u64,
    /// Rejected records.
    pub rejected: u64,
    /// Skipped records.
    pub skipped: u64,
}

impl From<&ImportRecord> for ImportView {
    fn from(i: &ImportRecord) -> ImportView {
        let c = i.counts;
        ImportView {
            id: i.id,
            source: i.source.clone(),
            path: i.path.clone(),
            sha256: i.sha256.clone(),
            format: i.format.clone(),
            time: format_timestamp(i.time),
            read: c.read,
            accepted: c.accepted,
            new: c.new,
            updated: c.updated,
            rejected: c.rejected,
            skipped: c.skipped,
        }
    }
}

/// A line and a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineMessage {
    /// The line.
    pub line: u64,
    /// What was wrong, or corrected.
    pub reason: String,
}

/// What ingesting one file did (`cordon ingest --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileReportView {
    /// The file.
    pub path: String,
    /// The format read.
    pub format: &'static str,
    /// Records read.
    pub read: u64,
    /// Sightings stored.
    pub accepted: u64,
    /// Of `accepted`, the sightings derived from a record (a URL's host, a
    /// linked address).
    pub derived: u64,
    /// New sightings.
    pub new: u64,
    /// Refreshed sightings.
    pub updated: u64,
    /// Rejected records.
    pub rejected: u64,
    /// Skipped records.
    pub skipped: u64,
    /// The rejections (the first thousand).
    pub errors: Vec<LineMessage>,
    /// The warnings (the first thousand).
    pub warnings: Vec<WarningView>,
    /// Skips by reason.
    pub skip_reasons: std::collections::BTreeMap<String, u64>,
    /// The import's id.
    pub import: Option<i64>,
}

/// A warning on a line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WarningView {
    /// The line.
    pub line: u64,
    /// What was corrected.
    pub message: String,
}

impl From<&FileReport> for FileReportView {
    fn from(r: &FileReport) -> FileReportView {
        let c = r.counts;
        FileReportView {
            path: r.path.clone(),
            format: r.format.name(),
            read: c.read,
            accepted: c.accepted,
            derived: r.derived,
            new: c.new,
            updated: c.updated,
            rejected: c.rejected,
            skipped: c.skipped,
            errors: r.errors.iter().map(|e| LineMessage { line: e.line, reason: e.reason.clone() }).collect(),
            warnings: r.warnings.iter().map(|w| WarningView { line: w.line, message: w.reason.clone() }).collect(),
            skip_reasons: r.skip_reasons.clone(),
            import: r.import_id,
        }
    }
}

/// An organisation (`cordon org list --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
    /// An agency's country.
    pub country: Option<String>,
    /// A provider's AS numbers.
    pub asns: Vec<u32>,
    /// When it was created.
    pub created: String,
}

impl From<&Organisation> for OrgView {
    fn from(o: &Organisation) -> OrgView {
        OrgView {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind.as_str(),
            country: o.country.clone(),
            asns: o.asns.clone(),
            created: format_timestamp(o.created),
        }
    }
}

/// An operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OperationView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its window's start.
    pub start: String,
    /// Its window's end.
    pub end: String,
    /// What it is about.
    pub description: String,
}

impl From<&Operation> for OperationView {
    fn from(op: &Operation) -> OperationView {
        OperationView {
            id: op.id,
            name: op.name.clone(),
            start: format_timestamp(op.start),
            end: format_timestamp(op.end),
            description: op.description.clone(),
        }
    }
}

/// A contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContactView {
    /// Who.
    pub name: String,
    /// Where to write.
    pub email: String,
}

fn contact(c: &Option<ContactRef>) -> Option<ContactView> {
    c.as_ref().map(|c| ContactView { name: c.name.clone(), email: c.email.clone() })
}

/// A takedown target (`cordon targets list --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetView {
    /// Its id.
    pub id: i64,
    /// Its key: the address, network or domain.
    pub key: String,
    /// What it acts on.
    pub kind: &'static str,
    /// Its lifecycle state.
    pub state: &'static str,
    /// Country.
    pub country: Option<String>,
    /// ASN.
    pub asn: Option<u32>,
    /// AS organisation.
    pub as_org: Option<String>,
    /// Hosting type.
    pub hosting: Option<String>,
    /// The provider's abuse contact.
    pub provider: Option<ContactView>,
    /// The national agency.
    pub agency: Option<ContactView>,
    /// Categories.
    pub categories: Vec<&'static str>,
    /// Malware families.
    pub malware: Vec<String>,
    /// Partners that reported it.
    pub partners: Vec<String>,
    /// Ports.
    pub ports: Vec<u16>,
    /// First seen.
    pub first_seen: String,
    /// Last seen.
    pub last_seen: String,
}

impl From<&Target> for TargetView {
    fn from(t: &Target) -> TargetView {
        let s = &t.spec;
        TargetView {
            id: t.id,
            key: s.key.clone(),
            kind: s.kind.as_str(),
            state: t.state.as_str(),
            country: s.country.clone(),
            asn: s.asn,
            as_org: s.as_org.clone(),
            hosting: s.hosting.clone(),
            provider: contact(&s.provider),
            agency: contact(&s.agency),
            categories: s.categories.iter().map(|c| c.as_str()).collect(),
            malware: s.malware.clone(),
            partners: s.partners.clone(),
            ports: s.ports.clone(),
            first_seen: format_timestamp(s.first_seen),
            last_seen: format_timestamp(s.last_seen),
        }
    }
}

/// One lifecycle step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransitionView {
    /// When.
    pub time: String,
    /// The state before.
    pub from: Option<&'static str>,
    /// The state after.
    pub to: &'static str,
    /// For rejections, why.
    pub reason: Option<String>,
    /// Who.
    pub actor: String,
    /// A note.
    pub note: String,
}

impl From<&Transition> for TransitionView {
    fn from(h: &Transition) -> TransitionView {
        TransitionView {
            time: format_timestamp(h.time),
            from: h.from.map(|s| s.as_str()),
            to: h.to.as_str(),
            reason: h.reason.clone(),
            actor: h.actor.clone(),
            note: h.note.clone(),
        }
    }
}

/// One verification check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckView {
    /// When.
    pub time: String,
    /// Whether anything answered.
    pub up: bool,
    /// What was probed.
    pub detail: String,
}

impl From<&Check> for CheckView {
    fn from(c: &Check) -> CheckView {
        CheckView { time: format_timestamp(c.time), up: c.up, detail: c.detail.clone() }
    }
}

/// A target with its members, history and checks (`cordon target show --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetDetailView {
    /// The target.
    #[serde(flatten)]
    pub target: TargetView,
    /// Its members' values.
    pub members: Vec<String>,
    /// Its history, oldest first.
    pub history: Vec<TransitionView>,
    /// Its checks, oldest first.
    pub checks: Vec<CheckView>,
}

/// An outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomeView {
    /// The reporting country.
    pub country: String,
    /// What.
    pub kind: String,
    /// How many.
    pub count: u64,
    /// When.
    pub date: String,
    /// A note.
    pub note: String,
}

impl From<&Outcome> for OutcomeView {
    fn from(o: &Outcome) -> OutcomeView {
        OutcomeView {
            country: o.country.clone(),
            kind: o.kind.clone(),
            count: o.count,
            date: format_timestamp(o.date),
            note: o.note.clone(),
        }
    }
}
