//! Ingest: feed files into the store, one import per file, then the
//! operation attach and the enrichment of what the imports changed.

use std::path::Path;

use cordon_ingest::{FileReport, IngestError, IngestOptions};
use cordon_model::{Observable, Viewer};
use cordon_store::enrichment::EnrichmentStore;
use cordon_store::ops::OpsStore;
use cordon_store::orgs::OrgStore;

use crate::enrichment::{EnrichSummary, Flagged, FlaggedNames, Scope};
use crate::{require_hub, App, AppError};

/// How many imports' flagged values [`App::import_input`] keeps at most.
const KEPT_IMPORTS: usize = 1024;

/// One input of an ingest.
pub enum Input<'a> {
    /// A file or MISP feed directory.
    Path(&'a Path),
    /// A stream (standard input, a request body), read once, with the name
    /// to record (`-` for standard input).
    Reader {
        /// The name the import records.
        name: &'a str,
        /// The content.
        reader: &'a mut dyn std::io::Read,
    },
    /// Bytes in memory, with the name to record.
    Bytes {
        /// The name the import records.
        name: &'a str,
        /// The content.
        bytes: &'a [u8],
    },
}

/// Why one input was not imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input cannot be read or its format is unknown or broken
    /// (nothing stored).
    #[error("{0}")]
    Unreadable(String),
    /// A record was rejected under `--strict` (nothing stored).
    #[error("{0}")]
    Strict(String),
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

impl From<IngestError> for InputError {
    fn from(e: IngestError) -> InputError {
        match &e {
            IngestError::Format(_) => InputError::Unreadable(e.to_string()),
            IngestError::Strict { .. } => InputError::Strict(e.to_string()),
            IngestError::Store(_) => InputError::Store(e.to_string()),
        }
    }
}

impl App {
    /// Checks, before any input is read, that an ingest by `viewer` into
    /// `operation` can go ahead. Ingesting under any source name is the
    /// hub's (partners submit through the server, as their organisation).
    pub fn check_ingest(&self, viewer: &Viewer, operation: Option<&str>) -> Result<(), AppError> {
        require_hub(viewer, "ingesting under a chosen source name")?;
        if let Some(name) = operation {
            if self.store.operation(name)?.is_none() {
                return Err(AppError::NotFound(format!(
                    "no operation named '{name}' (create it with `cordon operation create`)"
                )));
            }
        }
        Ok(())
    }

    /// Imports one input as one transaction and attaches the import to
    /// `operation`. `progress` is told the bytes read so far.
    pub fn ingest(
        &self,
        viewer: &Viewer,
        input: Input<'_>,
        options: &IngestOptions,
        operation: Option<&str>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<FileReport, InputError> {
        require_hub(viewer, "ingesting under a chosen source name").map_err(|e| InputError::Store(e.to_string()))?;
        let report = self.import_input(input, options, progress)?;
        if let (Some(name), Some(id)) = (operation, report.import_id) {
            self.store.attach_import(name, id).map_err(|e| InputError::Store(e.to_string()))?;
        }
        Ok(report)
    }

    /// A submission by a partner's member (or the hub's): the same import
    /// as [`App::ingest`], recorded under the caller's own organisation as
    /// the source (the hub may name another source). A source of that
    /// name that belongs to another organisation is refused. Enrichment of
    /// what changed follows when there is geo data.
    pub fn submit(
        &self,
        viewer: &Viewer,
        source: Option<&str>,
        input: Input<'_>,
        options: &IngestOptions,
    ) -> Result<FileReport, AppError> {
        let Some(org_id) = viewer.org_id() else {
            return Err(AppError::Forbidden("the public cannot submit".into()));
        };
        let Some(org) = self.store.orgs()?.into_iter().find(|o| o.id == org_id) else {
            return Err(AppError::Forbidden("the caller's organisation is gone".into()));
        };
        let source = match source {
            Some(name) if viewer.is_hub() => name.to_string(),
            Some(_) => return Err(AppError::Forbidden("only the hub names the source of a submission".into())),
            None => org.name.clone(),
        };
        if let Some(owner) = self.store.source_owners()?.into_iter().find(|s| s.source == source) {
            if owner.org != org.name && !viewer.is_hub() {
                return Err(AppError::Conflict(format!("the source '{source}' belongs to another organisation")));
            }
        }
        let options = IngestOptions { source, ..options.clone() };
        let report = self.import_input(input, &options, &mut |_| {}).map_err(|e| match InputError::from(e) {
            InputError::Unreadable(m) | InputError::Strict(m) => AppError::Invalid(m),
            InputError::Store(m) => AppError::Storage(m),
        })?;
        if let Some(id) = report.import_id {
            // The import is stored; enrichment can be re-run if it fails.
            let _ = self.enrich_imports(vec![id], &mut |_, _| {});
        }
        Ok(report)
    }

    /// One input as one import. Without geo data, whose absence makes
    /// [`App::enrich_imports`] a flag check, the values that flag are
    /// gathered as the input is parsed and kept for that check.
    pub(crate) fn import_input(
        &self,
        input: Input<'_>,
        options: &IngestOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<FileReport, IngestError> {
        let mut names = self.flagged_names_gatherer();
        let mut named = |observable: &Observable| {
            if let Some(names) = names.as_mut() {
                names.see(observable);
            }
        };
        let store = &self.store;
        let report = match input {
            Input::Path(path) => cordon_ingest::ingest_file(store, path, options, progress, &mut named),
            Input::Reader { name, reader } => {
                cordon_ingest::ingest_reader(store, name, reader, options, progress, &mut named)
            }
            Input::Bytes { name, mut bytes } => {
                cordon_ingest::ingest_reader(store, name, &mut bytes, options, progress, &mut named)
            }
        }?;
        if let (Some(id), Some(flagged)) = (report.import_id, names.and_then(FlaggedNames::finish)) {
            let mut kept = self.flagged_names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Imports nobody checked (a caller that never enriches) are
            // forgotten rather than kept for the process's life.
            if kept.len() >= KEPT_IMPORTS {
                kept.clear();
            }
            kept.insert(id, flagged);
        }
        Ok(report)
    }

    /// What gathers an input's flagged values, when [`App::enrich_imports`]
    /// will be a flag check (there is no geo data) and the lists load
    /// (lists that cannot be loaded now fail the check later, as before).
    fn flagged_names_gatherer(&self) -> Option<FlaggedNames<'_>> {
        if self.has_geo() {
            return None;
        }
        let allowed = self.store.allowlist().ok()?;
        Some(FlaggedNames::new(self.offline_flags_over(&allowed).ok()?, allowed))
    }

    /// The flagged values [`App::import_input`] kept for every one of
    /// `imports`, merged; `None` when one has none kept (made by another
    /// process, or with too many flagged) or the allowlist changed since
    /// one was parsed (another process may have added an entry that names
    /// a value of it), so the check reads all back.
    pub(crate) fn flagged_names(&self, imports: &[i64]) -> Option<Vec<String>> {
        let taken: Vec<Option<Flagged>> = {
            let mut kept = self.flagged_names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            imports.iter().map(|id| kept.remove(id)).collect()
        };
        // Every entry is taken out first, so none is left behind.
        let taken: Vec<Flagged> = taken.into_iter().collect::<Option<_>>()?;
        let allowlist = self.store.allowlist().ok()?;
        if taken.iter().any(|flagged| flagged.allowlist != allowlist) {
            return None;
        }
        let mut names: Vec<String> = taken.into_iter().flat_map(|flagged| flagged.values).collect();
        names.sort_unstable();
        names.dedup();
        Some(names)
    }

    /// Enriches what `imports` changed; without a geo snapshot, records
    /// the flags that need none (allowlist, bogons, warninglists). `None`
    /// when there were no imports.
    pub fn enrich_imports(
        &self,
        imports: Vec<i64>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Option<EnrichSummary>, AppError> {
        if imports.is_empty() {
            return Ok(None);
        }
        let flagged = self.flagged_names(&imports);
        self.enrich_scope(&Scope::Imports(imports), flagged.as_deref(), progress).map(Some)
    }
}
