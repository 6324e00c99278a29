//! The ingest pipeline: one feed file in, one import in the store.
//!
//! For each input, [`ingest_reader`] (which [`ingest_file`] calls for
//! anything but a MISP feed directory):
//! 1. reads it once, to its end: detects its format on its first
//!    [`cordon_formats::DETECT_LIMIT`] bytes unless one is given, hashes it
//!    (SHA-256, recorded with the import) and keeps a copy (in memory up to
//!    8 MiB, else in an unlinked temporary file), so pipes, FIFOs and stdin
//!    are read as files are. A line-based input with no line end in
//!    [`MAX_BYTES_WITHOUT_LINE_END`] bytes is refused there;
//! 2. streams the copy through the [`cordon_formats`] parser;
//! 3. fills what the record does not say from the import's defaults
//!    (`--category`, `--tlp`), expands it into sightings (a URL's host and
//!    the hosts the feed links are derived sightings, counted apart in
//!    [`FileReport::derived`]), and skips what can never be a takedown
//!    target ([`cordon_model::not_targetable`]), counting each reason; a
//!    record skipped so still gives its targetable links, as sightings of
//!    their own;
//! 4. stores the sightings in one transaction: under `strict`, the first
//!    rejected record aborts the import and nothing is stored.
//!
//! Records without a TLP of their own default to [`DEFAULT_TLP`] (AMBER):
//! sharing wider is a decision the partner or the analyst must make.
#![deny(missing_docs)]

mod hashing;
mod report;

use std::io::{BufReader, Read};
use std::path::Path;

use cordon_formats::{Event, Format, FormatError};
use cordon_model::{not_targetable, Category, Observable, Record, Tlp};
use cordon_store::{ImportMeta, ImportSink, Store, StoreError};

pub use hashing::MAX_BYTES_WITHOUT_LINE_END;
pub use report::{FileReport, Rejection, MAX_LISTED_ERRORS};

/// The TLP of records that carry none and come without `--tlp`.
pub const DEFAULT_TLP: Tlp = Tlp::Amber;

/// How files are ingested.
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    /// The partner or feed name the sightings are recorded under.
    pub source: String,
    /// The format, or `None` to detect it.
    pub format: Option<Format>,
    /// The TLP of records that carry none ([`DEFAULT_TLP`] when `None`).
    pub tlp: Option<Tlp>,
    /// The category of records the parser could not categorise
    /// (`other` when `None`).
    pub category: Option<Category>,
    /// Fail the whole file, storing nothing, at the first rejected record.
    pub strict: bool,
    /// Parser options (CSV column mapping, delimiter).
    pub parse: cordon_formats::Options,
}

/// Why a file could not be ingested at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be read, or its format is unknown or broken.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record was rejected under `--strict`; nothing was stored.
    #[error("{path}:{line}: {reason} (--strict: nothing from this file was stored)")]
    Strict {
        /// The file.
        path: String,
        /// The line.
        line: u64,
        /// Why.
        reason: String,
    },
}

/// Ingests the file (or MISP feed directory) at `path` into `store` as one
/// import. `progress` is called with the number of bytes parsed so far,
/// `named` with each observable a record names (see [`ingest_reader`]).
///
/// Anything but a directory (a regular file, a pipe, a FIFO, a device) is
/// opened once and read by [`ingest_reader`]. A directory must be a MISP
/// feed (holding `manifest.json`); its import's hash is the manifest's.
pub fn ingest_file(
    store: &(dyn Store + Sync),
    path: &Path,
    options: &IngestOptions,
    progress: &mut dyn FnMut(u64),
    named: &mut dyn FnMut(&Observable),
) -> Result<FileReport, IngestError> {
    let io = |source| FormatError::Io { path: path.into(), source };
    let display = path.display().to_string();
    if path.is_dir() {
        let is_feed = path.join("manifest.json").is_file();
        if !is_feed || options.format.is_some_and(|f| f != Format::MispFeed) {
            let reason = "is a directory; only MISP feed directories (holding a manifest.json) can be ingested as \
                          directories";
            return Err(io(std::io::Error::new(std::io::ErrorKind::InvalidInput, reason)).into());
        }
        let format = Format::MispFeed;
        let sha256 = hashing::sha256_of_manifest(path).map_err(io)?;
        let mut run =
            |sink_events: &mut dyn FnMut(Event)| cordon_formats::parse(format, path, &options.parse, sink_events);
        return ingest_events(store, &display, format, &sha256, options, &mut run, named);
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    ingest_reader(store, &display, &mut file, options, progress, named)
}

/// Ingests everything `reader` yields (a file, a pipe, stdin), named
/// `display_name` in the import and in errors, as one import. `progress` is
/// called with the number of bytes parsed so far; `named`, on the calling
/// thread while the import runs on another, with each observable a parsed
/// record names (its own, its URL's host, its links): every value the
/// import may store, and some it skips, so a caller can check each value
/// once without reading the import back.
///
/// `reader` is read exactly once, to its end, before the import begins
/// (the import records the input's hash, which only the end of the input
/// settles); the parser then reads the copy kept on the way (see the crate
/// docs). Memory stays bounded whatever the input's size.
pub fn ingest_reader(
    store: &(dyn Store + Sync),
    display_name: &str,
    reader: &mut dyn Read,
    options: &IngestOptions,
    progress: &mut dyn FnMut(u64),
    named: &mut dyn FnMut(&Observable),
) -> Result<FileReport, IngestError> {
    let io = |source| FormatError::Io { path: display_name.into(), source };
    let read = hashing::read_once(display_name, reader, options.format)?;
    let format = read.format;
    let mut spool = Some(read.spool);
    let mut run = |sink_events: &mut dyn FnMut(Event)| -> Result<(), FormatError> {
        let spooled = spool.take().ok_or_else(|| io(std::io::ErrorKind::UnexpectedEof.into()))?;
        let counting = hashing::Counting::new(spooled.into_reader().map_err(io)?, progress);
        let mut reader = BufReader::with_capacity(1 << 16, counting);
        cordon_formats::parse_reader(format, Path::new(display_name), &mut reader, &options.parse, sink_events)
    };
    ingest_events(store, display_name, format, &read.sha256, options, &mut run, named)
}

/// Runs a parser, pushing its events to the given sink.
type ParseRun<'a> = dyn FnMut(&mut dyn FnMut(Event)) -> Result<(), FormatError> + 'a;

/// The parser's events travel to the importing thread this many at a time.
const CHUNK_EVENTS: usize = 4096;

/// ... with at most this many chunks on the way, which bounds the memory
/// between the two threads whatever the input's size. (24 chunks, a whole
/// PostgreSQL batch read ahead, measured no faster.)
const CHUNKS_IN_FLIGHT: usize = 4;

/// What the parsing thread tells the importing one.
enum Chunk {
    /// The next events, in the input's order.
    Events(Vec<Event>),
    /// The input ended and every event was sent.
    End,
    /// The parser failed (after sending the events it had read): the
    /// import is undone, and the parser's error is what the caller sees.
    Failed,
}

/// The part of an import shared by files and standard input: the parser
/// runs on the calling thread (where `progress` lives) while a scoped
/// thread stores its events inside one store transaction and accounts for
/// every one, so that parsing the next lines overlaps the store's writing
/// of the last batch (a PostgreSQL server's work, or SQLite's).
fn ingest_events(
    store: &(dyn Store + Sync),
    display: &str,
    format: Format,
    sha256: &str,
    options: &IngestOptions,
    run: &mut ParseRun<'_>,
    named: &mut dyn FnMut(&Observable),
) -> Result<FileReport, IngestError> {
    let meta = ImportMeta::new(&options.source, display, sha256, format.name());
    let mut report = FileReport::new(display, format);
    let (send, chunks) = std::sync::mpsc::sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let (parsed, (result, strict_failure)) = std::thread::scope(|scope| {
        let report = &mut report;
        let meta = &meta;
        let importer = scope.spawn(move || import_events(store, meta, options, &chunks, report));
        // A closed channel means the importer stopped (a store error, a
        // rejection under --strict): the rest of the input is read but
        // not sent.
        let mut open = true;
        let mut chunk = Vec::with_capacity(CHUNK_EVENTS);
        let parsed = run(&mut |event| {
            if !open {
                return;
            }
            if let Event::Record(record) = &event {
                named(&record.observable);
                if let Some(host) = record.observable.url_host() {
                    named(&host);
                }
                record.links.iter().for_each(&mut *named);
            }
            chunk.push(event);
            if chunk.len() == CHUNK_EVENTS {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_EVENTS));
                open = send.send(Chunk::Events(full)).is_ok();
            }
        });
        if open {
            let end = if parsed.is_ok() { Chunk::End } else { Chunk::Failed };
            // A failed send means the importer stopped: its result says why.
            let _ = send.send(Chunk::Events(chunk)).and_then(|()| send.send(end));
        }
        drop(send);
        let imported = importer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (parsed, imported)
    });
    parsed?;
    if let Some((line, reason)) = strict_failure {
        return Err(IngestError::Strict { path: display.to_string(), line, reason });
    }
    report.import_id = Some(result?);
    Ok(report)
}

/// The importing half of [`ingest_events`]: stores the events of `chunks`
/// as one import, accounting for each in `report`. Returns the import's
/// result and, when a record was rejected under `strict`, its line and why.
fn import_events(
    store: &dyn Store,
    meta: &ImportMeta,
    options: &IngestOptions,
    chunks: &std::sync::mpsc::Receiver<Chunk>,
    report: &mut FileReport,
) -> (Result<i64, StoreError>, Option<(u64, String)>) {
    let mut strict_failure: Option<(u64, String)> = None;
    let result = store.import(meta, &mut |sink| {
        loop {
            let events = match chunks.recv() {
                Ok(Chunk::Events(events)) => events,
                Ok(Chunk::End) => break,
                Ok(Chunk::Failed) => return Err(StoreError::Aborted("the input could not be parsed".into())),
                Err(_) => return Err(StoreError::Aborted("the parser stopped before the input's end".into())),
            };
            for event in events {
                match event {
                    Event::Record(record) => store_record(sink, record, options, report)?,
                    Event::Rejected { line, reason } => {
                        if options.strict {
                            let aborted = StoreError::Aborted(format!("line {line}: {reason}"));
                            strict_failure = Some((line, reason));
                            return Err(aborted);
                        }
                        report.reject(line, reason);
                    }
                    Event::Skipped { reason, .. } => report.skip(&reason),
                    Event::Warning { line, message } => report.warn(line, message),
                }
            }
        }
        let stored = sink.flush()?;
        report.counts.new = stored.new;
        report.counts.updated = stored.updated;
        Ok(report.counts)
    });
    (result, strict_failure)
}

/// Applies the import's defaults to `record`, drops what is not targetable
/// and stores the rest.
fn store_record(
    sink: &mut dyn ImportSink,
    mut record: Record,
    options: &IngestOptions,
    report: &mut FileReport,
) -> Result<(), StoreError> {
    let untargetable = not_targetable(&record.observable);
    match untargetable {
        Some(reason) => report.skip(reason.key()),
        None => report.counts.read += 1,
    }
    let attributes = &mut record.attributes;
    attributes.category = attributes.category.or(options.category).or(Some(Category::Other));
    attributes.tlp = attributes.tlp.or(options.tlp).or(Some(DEFAULT_TLP));
    // A record that is no target itself (a URL on a reserved host) still
    // gives the targetable values the feed linked to it, each standing on
    // its own: one bad field never loses the record's good ones.
    for mut sighting in record.into_sightings().skip(usize::from(untargetable.is_some())) {
        if sighting.derived_from.is_some() {
            if let Some(reason) = not_targetable(&sighting.observable) {
                report.skip_derived(reason.key());
                continue;
            }
            if untargetable.is_some() {
                sighting.derived_from = None;
            }
            report.derived += 1;
        }
        sink.add(&sighting)?;
        report.counts.accepted += 1;
    }
    Ok(())
}
