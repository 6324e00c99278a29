//! Building a snapshot from CSV and MaxMind DB files.
//!
//! Inputs are read in the order given, each into per-field layers (see
//! `source`), then resolved (see `resolve` for what wins on overlap) and
//! encoded (see `snapshot/format.rs`). Bad rows never stop an import: each is
//! a [`Diagnostic`] in the [`ImportReport`], and the caller decides.

use std::path::Path;

use crate::resolve::{merge, resolve, Reporter};
use crate::snapshot::format::encode;
use crate::source::{self, diagnostic, Layers};
use crate::{Diagnostic, DiagnosticKind, Location};

/// An import in progress: add files, then [`Import::finish`].
#[derive(Default)]
pub struct Import {
    layers: Layers,
    files: Vec<FileSummary>,
    diagnostics: Vec<Diagnostic>,
}

/// How much of one input file was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The file as the caller named it.
    pub name: String,
    /// `csv` or `mmdb`.
    pub format: &'static str,
    /// Rows (CSV) or networks (MaxMind DB) that contributed data.
    pub used: u64,
}

/// The result of an import.
#[derive(Debug)]
pub struct ImportReport {
    /// The encoded snapshot, ready for [`crate::write_snapshot`] or
    /// [`crate::GeoDb::from_bytes`].
    pub snapshot: Vec<u8>,
    /// One summary per input file, in input order.
    pub files: Vec<FileSummary>,
    /// Every bad row, overlap and unreadable file, in input order (overlaps last).
    pub diagnostics: Vec<Diagnostic>,
    /// IPv4 segments in the snapshot (ranges with data and the gaps between).
    pub v4_segments: usize,
    /// IPv6 segments in the snapshot.
    pub v6_segments: usize,
}

impl Import {
    /// An empty import.
    pub fn new() -> Import {
        Import::default()
    }

    fn next_file(&mut self, name: &str, format: &'static str) -> u32 {
        self.files.push(FileSummary { name: name.to_string(), format, used: 0 });
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    fn set_used(&mut self, index: u32, used: u64) {
        if let Some(file) = self.files.get_mut(index as usize) {
            file.used = used;
        }
    }

    /// Adds a CSV range file's content (see `source/csv.rs` for the layouts);
    /// `name` is used in diagnostics and decides whether `-num` integers are
    /// IPv6 (a name containing `ipv6`). Returns the rows used.
    pub fn add_csv(&mut self, name: &str, bytes: &[u8]) -> u64 {
        let index = self.next_file(name, "csv");
        let used = source::csv::read(name, index, bytes, &mut self.layers, &mut self.diagnostics);
        self.set_used(index, used);
        used
    }

    /// Adds a MaxMind DB file's content (GeoLite2/DB-IP ASN or Country
    /// layouts, or ip-location-db's `country_code`). Returns the networks used.
    pub fn add_mmdb(&mut self, name: &str, bytes: Vec<u8>) -> u64 {
        let index = self.next_file(name, "mmdb");
        let used = source::mmdb::read(name, index, bytes, &mut self.layers, &mut self.diagnostics);
        self.set_used(index, used);
        used
    }

    /// Reads `path` and adds it as a MaxMind DB file when its name ends in
    /// `.mmdb`, as CSV otherwise. A file that cannot be read is reported as
    /// [`DiagnosticKind::Unreadable`].
    pub fn add_path(&mut self, path: &Path) -> u64 {
        let name = path.display().to_string();
        let is_mmdb = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("mmdb"));
        match std::fs::read(path) {
            Ok(bytes) if is_mmdb => self.add_mmdb(&name, bytes),
            Ok(bytes) => self.add_csv(&name, &bytes),
            Err(error) => {
                self.next_file(&name, if is_mmdb { "mmdb" } else { "csv" });
                let message = format!("cannot read: {error}");
                self.diagnostics.push(diagnostic(&name, Location::File, DiagnosticKind::Unreadable, message));
                0
            }
        }
    }

    /// Resolves overlaps and encodes the snapshot.
    pub fn finish(self) -> ImportReport {
        let Import { layers, files, mut diagnostics } = self;
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        let mut v4 = Reporter { files: &names, v6: false, diagnostics: &mut diagnostics };
        let asn_v4 = resolve(layers.asn_v4, &mut v4);
        let country_v4 = resolve(layers.country_v4, &mut v4);
        let mut v6 = Reporter { files: &names, v6: true, diagnostics: &mut diagnostics };
        let asn_v6 = resolve(layers.asn_v6, &mut v6);
        let country_v6 = resolve(layers.country_v6, &mut v6);
        let v4 = merge(&asn_v4, &country_v4, u128::from(u32::MAX));
        let v6 = merge(&asn_v6, &country_v6, u128::MAX);
        let snapshot = encode(&layers.orgs, &v4, &v6);
        ImportReport { snapshot, files, diagnostics, v4_segments: v4.len(), v6_segments: v6.len() }
    }
}
