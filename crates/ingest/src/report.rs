//! What one file's import did, for people and scripts.

use std::collections::BTreeMap;

use cordon_formats::Format;
use cordon_store::ImportCounts;

/// At most this many rejections are listed one by one; the count covers all.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// A rejected record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The line (or object index) in the file.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// The outcome of ingesting one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The file, as given.
    pub path: String,
    /// The format it was read as.
    pub format: Format,
    /// The counts recorded with the import. `counts.accepted` counts every
    /// sighting stored, those of records and those derived from them.
    pub counts: ImportCounts,
    /// How many of the sightings stored were derived from a record (a URL's
    /// host, a linked address) rather than read as one.
    pub derived: u64,
    /// The first [`MAX_LISTED_ERRORS`] rejections.
    pub errors: Vec<Rejection>,
    /// Warnings (corrected values), the first [`MAX_LISTED_ERRORS`].
    pub warnings: Vec<Rejection>,
    /// How many records were skipped for each reason; derived observables
    /// (a URL's host, a linked IP) skipped on their own are keyed
    /// `derived:<reason>`.
    pub skip_reasons: BTreeMap<String, u64>,
    /// The import's id in the store, once committed.
    pub import_id: Option<i64>,
}

impl FileReport {
    pub(crate) fn new(path: &str, format: Format) -> FileReport {
        FileReport {
            path: path.to_string(),
            format,
            counts: ImportCounts::default(),
            derived: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            skip_reasons: BTreeMap::new(),
            import_id: None,
        }
    }

    pub(crate) fn reject(&mut self, line: u64, reason: String) {
        self.counts.read += 1;
        self.counts.rejected += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(Rejection { line, reason });
        }
    }

    pub(crate) fn warn(&mut self, line: u64, reason: String) {
        if self.warnings.len() < MAX_LISTED_ERRORS {
            self.warnings.push(Rejection { line, reason });
        }
    }

    /// Counts a skipped record (read, not stored).
    pub(crate) fn skip(&mut self, reason: &str) {
        self.counts.read += 1;
        self.counts.skipped += 1;
        *self.skip_reasons.entry(reason.to_string()).or_default() += 1;
    }

    /// Counts a derived observable left out; its record was still stored.
    pub(crate) fn skip_derived(&mut self, reason: &str) {
        *self.skip_reasons.entry(format!("derived:{reason}")).or_default() += 1;
    }
}
