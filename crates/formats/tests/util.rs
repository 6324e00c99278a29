//! Helpers: the only code that calls the parsers.

use std::path::{Path, PathBuf};

use cordon_formats::{parse, parse_reader, Event, Format, FormatError, Options};
use cordon_model::{normalize, parse_timestamp, Attributes, Observable, Record};

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

/// Every event of parsing the file (or directory) at `path` as `format`.
pub fn events(format: Format, path: &Path) -> Result<Vec<Event>, FormatError> {
    let mut events = Vec::new();
    parse(format, path, &Options::default(), &mut |event| events.push(event))?;
    Ok(events)
}

/// Every event of parsing `text` as `format`.
pub fn events_of_text(format: Format, text: &str) -> Result<Vec<Event>, FormatError> {
    let mut events = Vec::new();
    let mut reader = text.as_bytes();
    parse_reader(format, Path::new("inline.json"), &mut reader, &Options::default(), &mut |event| events.push(event))?;
    Ok(events)
}

/// The canonical observable of `raw`, which must be valid.
pub fn obs(raw: &str) -> Observable {
    match normalize(raw) {
        Ok(mut normalized) => normalized.observables.remove(0),
        Err(rejection) => panic!("{raw}: {rejection}"),
    }
}

/// The timestamp of `raw`, which must be valid.
pub fn time(raw: &str) -> Option<i64> {
    let parsed = parse_timestamp(raw);
    assert!(parsed.is_some(), "{raw}");
    parsed
}

/// The record event expected at `line`.
pub fn record(line: u64, observable: &str, links: &[&str], attributes: &Attributes) -> Event {
    Event::Record(Record {
        line,
        observable: obs(observable),
        links: links.iter().map(|l| obs(l)).collect(),
        attributes: attributes.clone(),
    })
}

/// The skip event expected at `line`.
pub fn skipped(line: u64, reason: &str) -> Event {
    Event::Skipped { line, reason: reason.to_string() }
}
