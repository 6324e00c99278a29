//! Helpers: the only code that calls the parsers.

use std::path::{Path, PathBuf};

use cordon_formats::{parse, parse_reader, Event, Format, FormatError, Options};
use cordon_model::Record;

/// Everything a parse produced, sorted by kind.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    pub rejected: Vec<(u64, String)>,
    pub skipped: Vec<(u64, String)>,
    pub warnings: Vec<(u64, String)>,
}

impl Parsed {
    /// The records' observables as text.
    pub fn observables(&self) -> Vec<String> {
        self.records.iter().map(|r| r.observable.to_string()).collect()
    }

    /// The record of `observable`.
    pub fn record(&self, observable: &str) -> &Record {
        self.records
            .iter()
            .find(|r| r.observable.to_string() == observable)
            .unwrap_or_else(|| panic!("no record of {observable} in {:?}", self.observables()))
    }

    fn push(&mut self, event: Event) {
        match event {
            Event::Record(record) => self.records.push(record),
            Event::Rejected { line, reason } => self.rejected.push((line, reason)),
            Event::Skipped { line, reason } => self.skipped.push((line, reason)),
            Event::Warning { line, message } => self.warnings.push((line, message)),
        }
    }
}

/// The path of fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Parses fixture `name` as `format`.
pub fn try_parse_fixture(format: Format, name: &str, options: &Options) -> Result<Parsed, FormatError> {
    let mut parsed = Parsed::default();
    parse(format, &fixture(name), options, &mut |event| parsed.push(event))?;
    Ok(parsed)
}

/// Parses fixture `name` as `format`, which must succeed.
pub fn parse_fixture(format: Format, name: &str) -> Parsed {
    try_parse_fixture(format, name, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Parses `input` as `format`.
pub fn parse_bytes(format: Format, input: &[u8], options: &Options) -> Result<Parsed, FormatError> {
    let mut parsed = Parsed::default();
    let mut reader = input;
    parse_reader(format, Path::new("<test>"), &mut reader, options, &mut |event| parsed.push(event))?;
    Ok(parsed)
}
