//! Diagnostics: bad input rows reported with where they are and why.
//!
//! Bad input is data, not failure: importers return what they could read
//! plus one [`Diagnostic`] per row they rejected or changed, and the caller
//! decides whether that is fatal.

use std::fmt;

/// What kind of problem a [`Diagnostic`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// The row could not be parsed and was skipped.
    Malformed,
    /// The row's country code is not a known code; the row's other data is kept.
    UnknownCountry,
    /// The row starts before the previous row of the same file; it is kept.
    Unsorted,
    /// The row's range overlaps another range with different data; the
    /// narrower range wins (see [`crate::import`]).
    Overlap,
    /// The whole file could not be read (missing, truncated, not a known format).
    Unreadable,
}

impl DiagnosticKind {
    /// A short key for summaries: `malformed`, `unknown-country`, `unsorted`,
    /// `overlap`, `unreadable`.
    pub fn key(self) -> &'static str {
        match self {
            DiagnosticKind::Malformed => "malformed",
            DiagnosticKind::UnknownCountry => "unknown-country",
            DiagnosticKind::Unsorted => "unsorted",
            DiagnosticKind::Overlap => "overlap",
            DiagnosticKind::Unreadable => "unreadable",
        }
    }
}

/// Where in a file a [`Diagnostic`] points.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// The whole file.
    File,
    /// A line of a text file, counting from 1.
    Line(u64),
    /// A network of a MaxMind DB file (its search tree has no lines).
    Network(String),
}

/// One problem found in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the caller named it.
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// What kind of problem.
    pub kind: DiagnosticKind,
    /// Why, in words a person can act on.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `file:line: kind: message`, `file (network n): kind: message` or `file: kind: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}", self.file)?,
            Location::Line(line) => write!(f, "{}:{line}", self.file)?,
            Location::Network(net) => write!(f, "{} (network {net})", self.file)?,
        }
        write!(f, ": {}: {}", self.kind.key(), self.message)
    }
}
