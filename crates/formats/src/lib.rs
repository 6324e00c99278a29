//! Feed parsers: bytes in, [`Event`]s out.
//!
//! [`detect`] names the [`Format`] of a file from its name and first bytes;
//! [`parse`] streams a file (or [`parse_reader`] a reader) and pushes one
//! [`Event`] per record, rejection, skip or warning to a sink. Parsers never
//! store anything and never panic on input: a bad record is an
//! [`Event::Rejected`] with its line and a reason, and only an unreadable or
//! unrecognisable input is an error ([`FormatError`]).
//!
//! Values are normalized with [`cordon_model::normalize`] here, so every
//! [`cordon_model::Record`] carries a canonical observable. Filtering of
//! never-targetable addresses (bogons) is *not* done here: the ingest pipeline
//! does it once for all formats.
//!
//! # Layout
//!
//! Shared machinery, used by every parser: `lines` (the bounded line reader:
//! BOM, CRLF, lines over 64 KiB), `table` (delimited fields, header lookup,
//! the abuse.ch `#`-header CSV layout, RFC 4180 quotes across lines), `json`
//! (size-bounded documents, JSON lines, lenient field access, and
//! `json::stream`, which reads STIX, MISP, ThreatFox, Feodo and PhishTank
//! documents a record at a time), `emit` (normalization into records, and the
//! attribute readers that turn bad values into warnings). One module per
//! provider: `plain` (plain lists, OpenPhish), `ipsum`, `spamhaus`, `feodo`,
//! `urlhaus`, `threatfox`, `phishtank`, `intelmq`, `delimited` (generic
//! CSV/TSV), `stix`, `misp`. `detect` names formats, `dispatch` routes them.
#![deny(missing_docs)]

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cordon_model::Record;

/// A feed format cordon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One indicator per line, with comments, ranges and defanged values.
    Plain,
    /// IPsum: `IP<TAB>count`. The count (how many blocklists list the
    /// address) becomes the confidence `min(100, 10 × count)`.
    Ipsum,
    /// Spamhaus DROP/EDROP/DROPv6 text: `CIDR ; SBLnnnn`.
    SpamhausDrop,
    /// Spamhaus DROP JSON lines (`{"cidr","sblid","rir"}` + metadata line).
    SpamhausDropJson,
    /// Spamhaus ASN-DROP, JSON lines or the legacy text (`AS64496 ; …`).
    SpamhausAsnDrop,
    /// abuse.ch Feodo Tracker CSV.
    FeodoCsv,
    /// abuse.ch Feodo Tracker JSON (ipblocklist.json).
    FeodoJson,
    /// abuse.ch URLhaus CSV dump.
    UrlhausCsv,
    /// abuse.ch URLhaus JSON API answer.
    UrlhausJson,
    /// abuse.ch ThreatFox JSON export.
    ThreatfoxJson,
    /// abuse.ch ThreatFox CSV export.
    ThreatfoxCsv,
    /// OpenPhish community feed (one URL per line).
    Openphish,
    /// PhishTank `online-valid.json`.
    PhishtankJson,
    /// IntelMQ events, JSON lines.
    Intelmq,
    /// Generic CSV/TSV with a header or a `--column` mapping.
    Csv,
    /// STIX 2.1 bundle.
    Stix,
    /// MISP event JSON (`{"Event":{…}}`).
    Misp,
    /// MISP feed directory (`manifest.json` + `<uuid>.json`).
    MispFeed,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 18] = [
        Format::MispFeed,
        Format::Stix,
        Format::Misp,
        Format::PhishtankJson,
        Format::Intelmq,
        Format::ThreatfoxJson,
        Format::UrlhausJson,
        Format::FeodoJson,
        Format::SpamhausDropJson,
        Format::SpamhausAsnDrop,
        Format::ThreatfoxCsv,
        Format::FeodoCsv,
        Format::UrlhausCsv,
        Format::Ipsum,
        Format::SpamhausDrop,
        Format::Csv,
        Format::Openphish,
        Format::Plain,
    ];

    /// The format's name on the command line (`--format`) and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Ipsum => "ipsum",
            Format::SpamhausDrop => "spamhaus-drop",
            Format::SpamhausDropJson => "spamhaus-drop-json",
            Format::SpamhausAsnDrop => "spamhaus-asndrop",
            Format::FeodoCsv => "feodo-csv",
            Format::FeodoJson => "feodo-json",
            Format::UrlhausCsv => "urlhaus-csv",
            Format::UrlhausJson => "urlhaus-json",
            Format::ThreatfoxJson => "threatfox-json",
            Format::ThreatfoxCsv => "threatfox-csv",
            Format::Openphish => "openphish",
            Format::PhishtankJson => "phishtank-json",
            Format::Intelmq => "intelmq",
            Format::Csv => "csv",
            Format::Stix => "stix",
            Format::Misp => "misp",
            Format::MispFeed => "misp-feed",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| FormatError::UnknownName(s.to_string()))
    }
}

/// Options that change how a file is read.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Column mapping for CSV input: `(field, 1-based column)`, as given with
    /// `--column ip=2`. Fields: `ip`, `url`, `domain`, `host`, `indicator`,
    /// `type`, `category`, `malware`, `first_seen`, `last_seen`,
    /// `confidence`, `tlp`, `port` (header spellings such as `dst_ip` are
    /// accepted too). When empty, columns are found from the header; when
    /// given, they override it.
    pub columns: Vec<(String, usize)>,
    /// CSV delimiter; guessed from the first lines when `None`.
    pub delimiter: Option<u8>,
}

/// One thing a parser has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An observable read, with what the source says about it.
    Record(Record),
    /// A record that could not be read, and why.
    Rejected {
        /// 1-based line (or object index in a JSON document).
        line: u64,
        /// Why, in words a person understands.
        reason: String,
    },
    /// A well-formed record that is not a network indicator (a file hash, an
    /// ASN listing, a complex STIX pattern, a MISP attribute with
    /// `to_ids: false`), counted but not stored.
    Skipped {
        /// 1-based line (or object index).
        line: u64,
        /// A short key for summaries, e.g. `not-network:sha256_hash`.
        reason: String,
    },
    /// Something corrected or worth knowing that did not stop the record.
    Warning {
        /// 1-based line (or object index); 0 for the input as a whole (a
        /// STIX 2.0 bundle).
        line: u64,
        /// What happened.
        message: String,
    },
}

/// Why an input as a whole could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No format matched the input.
    #[error("{}: unrecognised format (tried: {})", path.display(), tried.join(", "))]
    Unrecognized {
        /// The file.
        path: PathBuf,
        /// The formats that were tried.
        tried: Vec<&'static str>,
    },
    /// The input does not have the layout of the named format at all (a JSON
    /// document that does not parse, a CSV without the required columns).
    #[error("{}: not a valid {format} file: {reason}", path.display())]
    Layout {
        /// The file.
        path: PathBuf,
        /// The format it was read as.
        format: Format,
        /// What is wrong.
        reason: String,
    },
    /// A `--format` name that is not a format.
    #[error("unknown format '{0}'")]
    UnknownName(String),
}

/// Detects the format of the file (or MISP feed directory) at `path` from
/// its name and its first [`DETECT_LIMIT`] bytes. The rules are listed in
/// `detect.rs`; an input no rule matches is [`FormatError::Unrecognized`].
pub fn detect(path: &Path) -> Result<Format, FormatError> {
    detect::detect(path)
}

/// Detects the format of an input from its first bytes (at most
/// [`DETECT_LIMIT`] are looked at; give that many when the input has them),
/// for input that is not a file, such as stdin. `name` is used in errors and
/// for the few name-based rules (OpenPhish, `.csv`).
///
/// ```
/// use std::io::{BufReader, Cursor, Read};
/// use std::path::Path;
/// use cordon_formats::{detect_bytes, parse_reader, Event, Format, Options, DETECT_LIMIT};
///
/// let mut input: &[u8] = b"# IPsum Threat Intelligence Feed\n80.94.95.112\t10\n";
/// let mut head = Vec::new();
/// (&mut input).take(DETECT_LIMIT as u64).read_to_end(&mut head)?;
/// let name = Path::new("<stdin>");
/// let format = detect_bytes(name, &head)?;
/// assert_eq!(format, Format::Ipsum);
/// let mut reader = BufReader::new(Cursor::new(head).chain(input));
/// let mut records = 0;
/// parse_reader(format, name, &mut reader, &Options::default(), &mut |event| {
///     records += matches!(event, Event::Record(_)) as usize;
/// })?;
/// assert_eq!(records, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn detect_bytes(name: &Path, head: &[u8]) -> Result<Format, FormatError> {
    detect::detect_bytes(name, head)
}

/// Parses the file (or MISP feed directory) at `path` as `format`, pushing
/// events to `sink` as they are read. Line-based formats stream in constant
/// memory; STIX bundles, MISP events, ThreatFox exports and the Feodo and
/// PhishTank arrays are read a record at a time, keeping only compact
/// summaries; other JSON documents are read whole, with a size bound.
pub fn parse(format: Format, path: &Path, options: &Options, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    dispatch::parse_path(format, path, options, sink)
}

/// Parses `reader` as `format` (every format but [`Format::MispFeed`]);
/// `name` is used in error messages.
pub fn parse_reader(
    format: Format,
    name: &Path,
    reader: &mut dyn BufRead,
    options: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    dispatch::parse_reader(format, name, reader, options, sink)
}

pub use detect::DETECT_LIMIT;
pub use lines::MAX_LINE;

mod delimited;
mod detect;
mod dispatch;
mod emit;
mod feodo;
mod intelmq;
mod ipsum;
mod json;
mod lines;
mod misp;
mod phishtank;
mod plain;
mod spamhaus;
mod stix;
mod table;
mod threatfox;
mod urlhaus;
