//! Export selection: which indicators a blocklist, IDS rule set, DNS zone,
//! STIX bundle or MISP feed carries, as the viewer may see them. The
//! writers are in `cordon-export`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use cordon_enrich::{domain_flags, offline_flags, FlagConfig, FlagKind};
use cordon_export::{Entry, Format, Options, Stream, Summary};
use cordon_model::{Kind, Observable, Timestamp, Tlp};
use cordon_ops::targets::PLATFORM_SERVER;
use cordon_store::enrichment::EnrichmentStore;
use cordon_store::{IndicatorFilter, IndicatorSummary, Store};
use serde::Serialize;

use crate::enrichment::load_allowlist;
use crate::{App, AppError};

/// What an export selects.
#[derive(Clone, Debug)]
pub struct ExportSelection {
    /// The viewer and the store filter (exports default to TLP:GREEN).
    pub filter: IndicatorFilter,
    /// Only indicators of at least this combined confidence.
    pub min_confidence: Option<u8>,
    /// Only indicators last seen at or after this time.
    pub since: Option<Timestamp>,
    /// Also indicators flagged "do not take down".
    pub include_flagged: bool,
}

/// Indicators read but not exported, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Omitted {
    /// Indicators read.
    pub read: u64,
    /// Left out for "do not take down" flags.
    pub flagged: u64,
    /// How often each flag was the reason.
    pub by_flag: BTreeMap<String, u64>,
    /// Below the minimum confidence or older than `since`.
    pub filtered: u64,
}

/// The writers' view of a stored indicator: built from the sightings the
/// viewer may see, marked with the most restrictive TLP among them.
/// `on_platform`: a URL whose host is a shared platform
/// ([`Entry::on_platform`]).
pub fn entry(summary: IndicatorSummary, on_platform: bool) -> Entry {
    Entry {
        on_platform,
        value: summary.value,
        kind: summary.kind,
        categories: summary.categories,
        sources: summary.sources,
        tlp: summary.tlp,
        confidence: summary.confidence,
        first_seen: summary.first_seen,
        last_seen: summary.last_seen,
    }
}

/// Why [`App::write_export`] did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    /// Selecting what it carries failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// Writing it failed (an I/O error of the output among them, kept as
    /// the source: a closed pipe can be told apart).
    #[error("cannot write the export")]
    Write(#[source] cordon_export::Error),
}

impl From<cordon_export::Error> for ExportFailure {
    fn from(e: cordon_export::Error) -> ExportFailure {
        ExportFailure::Write(e)
    }
}

impl From<ExportFailure> for AppError {
    fn from(e: ExportFailure) -> AppError {
        match e {
            ExportFailure::App(e) => e,
            ExportFailure::Write(e) => AppError::Storage(format!("writing the export: {e}")),
        }
    }
}

/// The most restrictive TLP a blocklist carries unless its reader asks
/// for more: the one ceiling of the API's and the dashboard's downloads.
pub const BLOCKLIST_TLP_MAX: Tlp = Tlp::Green;

impl App {
    /// Writes the export `selection` makes in `format` (not the MISP feed
    /// directory) to `out`, and tells what it left out: `cordon export`,
    /// the API's blocklists and the dashboard's downloads. The formats
    /// that keep the entries' order ([`Format::streams`]) are written from
    /// the store's cursor, one entry at a time; the others sort or group,
    /// so they select first.
    pub fn write_export(
        &self,
        selection: &ExportSelection,
        format: Format,
        options: &Options,
        out: &mut dyn Write,
    ) -> Result<(Summary, Omitted), ExportFailure> {
        if !format.streams() {
            let (entries, omitted) = self.export_entries(selection)?;
            return Ok((cordon_export::write(format, &entries, options, out)?, omitted));
        }
        let mut stream = Stream::open(format, options, out)?;
        let mut error = None;
        let omitted = self.export_each(selection, &mut |entry| {
            if error.is_none() {
                error = stream.push(&entry).err();
            }
        })?;
        if let Some(e) = error {
            return Err(e.into());
        }
        Ok((stream.finish()?, omitted))
    }

    /// The entries `selection` exports, and what it left out. An indicator
    /// is flagged by its enrichment or, whether or not enrichment ran, by
    /// the allowlist, the warninglists and the rules that need no geo
    /// data. A URL on a shared platform is exported (its host is flagged,
    /// the URL is not), but never its host as a DNS name.
    pub fn export_entries(&self, selection: &ExportSelection) -> Result<(Vec<Entry>, Omitted), AppError> {
        let mut entries = Vec::new();
        let omitted = self.export_each(selection, &mut |entry| entries.push(entry))?;
        Ok((entries, omitted))
    }

    /// Hands each entry `selection` exports to `each` as the store reads it
    /// (by value; nothing is collected), and tells what it left out: what
    /// [`App::export_entries`] returns, for writers that stream.
    pub fn export_each(&self, selection: &ExportSelection, each: &mut dyn FnMut(Entry)) -> Result<Omitted, AppError> {
        let allowlist = load_allowlist(&self.store)?;
        let warninglists = self.warninglists()?;
        let config = FlagConfig { warninglists: warninglists.as_deref(), ..FlagConfig::new(&allowlist) };
        let on_platform = |kind: Kind, value: &str| {
            kind == Kind::Url
                && match Observable::Url(value.to_string()).url_host() {
                    Some(Observable::Domain(host)) => {
                        domain_flags(&host, &config).iter().any(|flag| FlagKind::URL_LEVEL.contains(&flag.kind))
                    }
                    _ => false,
                }
        };
        let servers = match warninglists {
            Some(_) => self.platform_servers(&selection.filter, &on_platform)?,
            None => HashSet::new(),
        };
        let mut omitted = Omitted::default();
        self.store.indicators(&selection.filter, &mut |summary| {
            omitted.read += 1;
            let mut flags = summary.flags.clone();
            if servers.contains(&summary.value) {
                flags.push(PLATFORM_SERVER.to_string());
            }
            if flags.is_empty() {
                flags.extend(
                    offline_flags(summary.kind, &summary.value, &config).iter().map(|f| f.kind.key().to_string()),
                );
            }
            if !selection.include_flagged && !flags.is_empty() {
                omitted.flagged += 1;
                for flag in flags {
                    *omitted.by_flag.entry(flag).or_default() += 1;
                }
                return;
            }
            let recent = selection.since.is_none_or(|since| summary.last_seen >= since);
            let confident = selection.min_confidence.is_none_or(|min| summary.confidence >= min);
            if recent && confident {
                let on_platform = on_platform(summary.kind, &summary.value);
                each(entry(summary, on_platform));
            } else {
                omitted.filtered += 1;
            }
        })?;
        Ok(omitted)
    }

    /// The addresses the feeds tie to a URL on a shared platform: the
    /// platform's servers. Only links the filter's viewer could know count
    /// (all for the hub, CLEAR and GREEN ones for anyone else), so that an
    /// omission never hints at a link the viewer may not see.
    fn platform_servers(
        &self,
        filter: &IndicatorFilter,
        on_platform: &dyn Fn(Kind, &str) -> bool,
    ) -> Result<HashSet<String>, AppError> {
        let mut urls = HashSet::new();
        self.store.indicator_refs(&mut |r| {
            if on_platform(r.kind, &r.value) {
                urls.insert(r.id);
            }
        })?;
        if urls.is_empty() {
            return Ok(HashSet::new());
        }
        let known = |tlp: Tlp| filter.viewer.is_hub() || tlp <= Tlp::Green;
        let mut ids = HashSet::new();
        for link in self.store.links()?.into_iter().filter(|link| known(link.tlp)) {
            if urls.contains(&link.from) {
                ids.insert(link.derived);
            }
            if urls.contains(&link.derived) {
                ids.insert(link.from);
            }
        }
        let mut servers = HashSet::new();
        self.store.indicator_refs(&mut |r| {
            if ids.contains(&r.id) && matches!(r.kind, Kind::Ipv4 | Kind::Ipv6) {
                servers.insert(r.value);
            }
        })?;
        Ok(servers)
    }
}
