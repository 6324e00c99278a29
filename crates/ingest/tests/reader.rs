//! `ingest_reader`: one read of a stream gives the import a file would
//! (issue 10, defects 1, 4 and 10).

use std::io::Read;

use cordon_formats::{Format, FormatError};
use cordon_ingest::{ingest_file, ingest_reader, IngestError, IngestOptions, MAX_BYTES_WITHOUT_LINE_END};
use cordon_store::orgs::OrgStore;
use cordon_store::{SqliteStore, Store};
use sha2::{Digest, Sha256};

/// A stream that can be read once, a few bytes at a time, like a pipe.
struct Pipe<'a> {
    data: &'a [u8],
    reads: usize,
}

impl Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads += 1;
        let n = buf.len().min(self.data.len()).min(4093);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Endless bytes without a line end, like `/dev/zero`.
struct Zeros {
    read: u64,
}

impl Read for Zeros {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(0);
        self.read += buf.len() as u64;
        Ok(buf.len())
    }
}

fn options() -> IngestOptions {
    IngestOptions { source: "t".into(), ..IngestOptions::default() }
}

/// An IPsum feed (detected from content) larger than the in-memory spool.
fn feed() -> Vec<u8> {
    let mut text = String::from("# IPsum Threat Intelligence Feed\n");
    for i in 0..700_000u32 {
        let [_, b, c, d] = (0x2d00_0000 + i).to_be_bytes();
        text.push_str(&format!("45.{b}.{c}.{d}\t{}\n", 1 + i % 9));
    }
    text.into_bytes()
}

#[test]
fn a_stream_is_detected_hashed_and_parsed_as_the_same_file_is() {
    let bytes = feed();
    assert!(bytes.len() > 8 << 20, "larger than the in-memory spool");
    let dir = std::env::temp_dir().join(format!("cordon-ingest-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ipsum.txt");
    std::fs::write(&path, &bytes).unwrap();

    let from_file = SqliteStore::open_in_memory().unwrap();
    let file_report = ingest_file(&from_file, &path, &options(), &mut |_| {}, &mut |_| {}).unwrap();
    let from_stream = SqliteStore::open_in_memory().unwrap();
    let mut pipe = Pipe { data: &bytes, reads: 0 };
    let mut parsed = 0;
    let stream_report =
        ingest_reader(&from_stream, "-", &mut pipe, &options(), &mut |n| parsed = n, &mut |_| {}).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(stream_report.format, Format::Ipsum);
    assert_eq!((stream_report.counts, stream_report.errors.len()), (file_report.counts, 0));
    assert_eq!(stream_report.counts.accepted, 700_000);
    assert_eq!(parsed, bytes.len() as u64, "progress counts the bytes parsed");
    let hash = hex::encode(Sha256::digest(&bytes));
    for store in [&from_file, &from_stream] {
        let imports = store.imports(&store.hub().unwrap().viewer()).unwrap();
        assert_eq!((imports.len(), imports[0].sha256.as_str()), (1, hash.as_str()));
    }
}

/// Regression (issue 10, defect 10): `--format plain /dev/zero` was hashed
/// for ever; it is refused once [`MAX_BYTES_WITHOUT_LINE_END`] bytes pass
/// without a line end, and nothing is stored.
#[test]
fn a_line_based_input_without_line_ends_is_refused() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut zeros = Zeros { read: 0 };
    let plain = IngestOptions { format: Some(Format::Plain), ..options() };
    let result = ingest_reader(&store, "/dev/zero", &mut zeros, &plain, &mut |_| {}, &mut |_| {});
    match result {
        Err(IngestError::Format(FormatError::Layout { reason, .. })) => {
            assert!(reason.contains("16 MiB without a line end"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(zeros.read <= MAX_BYTES_WITHOUT_LINE_END + (1 << 17), "read {} bytes", zeros.read);
    assert!(store.imports(&store.hub().unwrap().viewer()).unwrap().is_empty());
    // Undeclared, it is not recognised at all (NUL bytes).
    let mut zeros = Zeros { read: 0 };
    let result = ingest_reader(&store, "/dev/zero", &mut zeros, &options(), &mut |_| {}, &mut |_| {});
    assert!(matches!(result, Err(IngestError::Format(FormatError::Unrecognized { .. }))), "{result:?}");
    // A JSON document has no line cap: it is left to the parser's bound.
    let mut document = &b"{\"type\": \"bundle\", \"objects\": []}"[..];
    let stix = IngestOptions { format: Some(Format::Stix), ..options() };
    let report = ingest_reader(&store, "bundle.json", &mut document, &stix, &mut |_| {}, &mut |_| {}).unwrap();
    assert_eq!(report.counts.read, 0);
}

/// Regression (issue 10, defect 10): `ingest DIR --format plain` said "No
/// such file or directory".
#[test]
fn a_directory_that_is_not_a_misp_feed_is_named_as_such() {
    let dir = std::env::temp_dir().join(format!("cordon-ingest-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open_in_memory().unwrap();
    for format in [Some(Format::Plain), None] {
        let result = ingest_file(&store, &dir, &IngestOptions { format, ..options() }, &mut |_| {}, &mut |_| {});
        let message = result.map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("is a directory; only MISP feed directories"), "{message}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A parser that fails after many records (more than one of the chunks the
/// parsing thread hands the importing one) leaves nothing stored: the
/// records already sent are undone with the import.
#[test]
fn a_parser_failing_after_records_leaves_nothing_stored() {
    let mut bytes = Vec::new();
    for i in 0..10_000u32 {
        let [_, b, c, d] = (0x2d00_0000 + i).to_be_bytes();
        bytes.extend_from_slice(format!("45.{b}.{c}.{d}\n").as_bytes());
    }
    bytes.resize(bytes.len() + MAX_BYTES_WITHOUT_LINE_END as usize + 1, b'x');
    let store = SqliteStore::open_in_memory().unwrap();
    let plain = IngestOptions { format: Some(Format::Plain), ..options() };
    let result = ingest_reader(&store, "feed.txt", &mut &bytes[..], &plain, &mut |_| {}, &mut |_| {});
    assert!(matches!(result, Err(IngestError::Format(FormatError::Layout { .. }))), "{result:?}");
    let hub = store.hub().unwrap().viewer();
    assert!(store.imports(&hub).unwrap().is_empty());
    let mut indicators = 0;
    store.indicators(&cordon_store::IndicatorFilter::new(hub), &mut |_| indicators += 1).unwrap();
    assert_eq!(indicators, 0);
}
