//! Readers for the import formats: CSV range files and MaxMind DB files.
//!
//! Each reader turns one file's bytes into [`Piece`]s (a range of addresses
//! with an ASN or a country) pushed into [`Layers`], plus diagnostics. They
//! do no I/O: [`crate::import`] reads the files.

pub(crate) mod csv;
pub(crate) mod mmdb;

use crate::{Country, Diagnostic, DiagnosticKind, Location};

/// "No organisation" in an [`AsnValue`].
pub(crate) const NO_ORG: u32 = u32::MAX;

/// The longest organisation name kept, in bytes (real names are under 200).
pub(crate) const MAX_ORG_LEN: usize = 1024;

/// An autonomous system number and its organisation (an index into the
/// interned string table, or [`NO_ORG`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct AsnValue {
    pub asn: u32,
    pub org: u32,
}

/// Where a piece came from: the input file's index and its line (0 for a
/// MaxMind DB file, whose pieces are named by their network instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Origin {
    pub file: u32,
    pub line: u64,
}

/// An inclusive range of addresses (IPv4 as the low 32 bits) with one value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece<T> {
    pub start: u128,
    pub end: u128,
    pub value: T,
    pub origin: Origin,
}

/// Everything read so far, split by address family and by field: ASN and
/// country data are resolved separately and merged at the end, so a file with
/// only countries and a file with only ASNs combine.
#[derive(Default)]
pub(crate) struct Layers {
    pub asn_v4: Vec<Piece<AsnValue>>,
    pub asn_v6: Vec<Piece<AsnValue>>,
    pub country_v4: Vec<Piece<Country>>,
    pub country_v6: Vec<Piece<Country>>,
    /// Interned organisation names, in first-seen order.
    pub orgs: Vec<String>,
    org_ids: std::collections::HashMap<String, u32>,
}

impl Layers {
    /// The index of `org` in [`Layers::orgs`], adding it when new.
    /// Names longer than [`MAX_ORG_LEN`] bytes are cut at a character boundary.
    pub fn intern(&mut self, org: &str) -> u32 {
        let mut cut = org.len().min(MAX_ORG_LEN);
        while !org.is_char_boundary(cut) {
            cut -= 1;
        }
        let org = &org[..cut];
        if org.is_empty() {
            return NO_ORG;
        }
        if let Some(id) = self.org_ids.get(org) {
            return *id;
        }
        // More than u32::MAX - 1 names cannot occur in real data; the last
        // index stays reserved for NO_ORG.
        let id = u32::try_from(self.orgs.len()).unwrap_or(NO_ORG - 1).min(NO_ORG - 1);
        self.orgs.push(org.to_string());
        self.org_ids.insert(org.to_string(), id);
        id
    }

    /// Adds one range with an ASN and/or a country.
    pub fn push(&mut self, range: ParsedRange, asn: Option<AsnValue>, country: Option<Country>, origin: Origin) {
        if let Some(value) = asn {
            let piece = Piece { start: range.start, end: range.end, value, origin };
            if range.v6 {
                self.asn_v6.push(piece)
            } else {
                self.asn_v4.push(piece)
            }
        }
        if let Some(value) = country {
            let piece = Piece { start: range.start, end: range.end, value, origin };
            if range.v6 {
                self.country_v6.push(piece)
            } else {
                self.country_v4.push(piece)
            }
        }
    }
}

/// An inclusive address range of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParsedRange {
    pub start: u128,
    pub end: u128,
    pub v6: bool,
}

/// A reader of a small user table (allowlist, contacts): no header handling
/// (callers skip a header row themselves), rows of any width, `#` comment
/// lines.
pub(crate) fn table_reader(text: &str) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new().has_headers(false).flexible(true).comment(Some(b'#')).from_reader(text.as_bytes())
}

/// Builds a diagnostic for `file`.
pub(crate) fn diagnostic(file: &str, location: Location, kind: DiagnosticKind, message: String) -> Diagnostic {
    Diagnostic { file: file.to_string(), location, kind, message }
}
