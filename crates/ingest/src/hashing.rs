//! Reading an input once: hashing, format detection on its first bytes, the
//! line-end guard, a spool the parser reads back, and byte counting for
//! progress.
//!
//! Why a spool: an import records the input's SHA-256 when it begins
//! (`ImportMeta`), and a stream (a pipe, a FIFO, stdin) can be read only
//! once. So the one read of the input hashes it, detects its format and
//! copies it; the parser then reads the copy inside the import. The copy
//! is held in memory up to [`SPOOL_IN_MEMORY`] bytes and in an unlinked
//! temporary file beyond, so memory stays flat whatever the input's size.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::Path;

use cordon_formats::{Format, FormatError, DETECT_LIMIT, MAX_LINE};
use sha2::{Digest, Sha256};

/// A spool stays in memory up to this many bytes (8 MiB).
pub(crate) const SPOOL_IN_MEMORY: usize = 8 << 20;

/// A line-based input in which this many bytes (16 MiB, 256 times the
/// longest line a parser accepts) pass without a line end is not a file of
/// its format. See [`LineEndGuard`].
pub const MAX_BYTES_WITHOUT_LINE_END: u64 = 256 * MAX_LINE as u64;

/// The SHA-256 of a MISP feed directory's `manifest.json`, lowercase hex.
pub(crate) fn sha256_of_manifest(dir: &Path) -> io::Result<String> {
    sha256_of_reader(File::open(dir.join("manifest.json"))?)
}

/// The SHA-256 of everything `reader` yields, lowercase hex.
pub(crate) fn sha256_of_reader(mut reader: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// What the one read of an input found.
pub(crate) struct ReadOnce {
    /// The format given or detected.
    pub(crate) format: Format,
    /// The SHA-256 of every byte read, lowercase hex.
    pub(crate) sha256: String,
    /// The bytes, to parse.
    pub(crate) spool: Spool,
}

/// Reads `reader` to its end once: detects its format on the first
/// [`DETECT_LIMIT`] bytes unless `format` is given, hashes it, applies the
/// [`LineEndGuard`] to line-based formats, and spools it.
pub(crate) fn read_once(name: &str, reader: &mut dyn Read, format: Option<Format>) -> Result<ReadOnce, FormatError> {
    let io = |source| FormatError::Io { path: name.into(), source };
    let mut head = Vec::with_capacity(DETECT_LIMIT);
    reader.take(DETECT_LIMIT as u64).read_to_end(&mut head).map_err(io)?;
    let format = match format {
        Some(format) => format,
        None => cordon_formats::detect_bytes(Path::new(name), &head)?,
    };
    let mut guard = line_based(format).then(LineEndGuard::default);
    let mut hasher = Sha256::new();
    let mut spool = Spool::default();
    let mut take = |bytes: &[u8]| -> Result<(), FormatError> {
        if let Some(guard) = &mut guard {
            guard.check(bytes).map_err(|reason| FormatError::Layout { path: name.into(), format, reason })?;
        }
        hasher.update(bytes);
        spool.write_all(bytes).map_err(io)
    };
    take(&head)?;
    let mut buf = head;
    buf.resize(1 << 16, 0);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        take(&buf[..n])?;
    }
    Ok(ReadOnce { format, sha256: hex::encode(hasher.finalize()), spool })
}

/// Whether `format` is read line by line (and so has a line cap). JSON
/// documents are read whole, with the parser's size bound.
fn line_based(format: Format) -> bool {
    match format {
        Format::Plain
        | Format::Openphish
        | Format::Ipsum
        | Format::SpamhausDrop
        | Format::SpamhausDropJson
        | Format::SpamhausAsnDrop
        | Format::FeodoCsv
        | Format::UrlhausCsv
        | Format::ThreatfoxCsv
        | Format::Intelmq
        | Format::Csv => true,
        Format::FeodoJson
        | Format::UrlhausJson
        | Format::ThreatfoxJson
        | Format::PhishtankJson
        | Format::Stix
        | Format::Misp
        | Format::MispFeed => false,
    }
}

/// Stops a line-based input that has no line ends.
///
/// A line-based parser rejects each line over `MAX_LINE` (64 KiB) and reads
/// on to the next line end, so a long line costs one rejection. An input
/// with no line end at all (`/dev/zero`, a binary given `--format plain`)
/// would be read for ever, or to its end, for that one rejection. The rule:
/// once [`MAX_BYTES_WITHOUT_LINE_END`] bytes (256 of the longest lines a
/// parser accepts) pass without a line end, the input is not a file of its
/// format and the import fails as unrecognised input. No text feed has a
/// run that long; anything shorter is left to the parser's per-line
/// rejection.
#[derive(Default)]
pub(crate) struct LineEndGuard {
    /// Bytes since the last line end.
    run: u64,
}

impl LineEndGuard {
    /// Takes the next bytes of the input; `Err` with the reason once the
    /// run without a line end is too long.
    pub(crate) fn check(&mut self, bytes: &[u8]) -> Result<(), String> {
        let first = memchr::memchr(b'\n', bytes);
        let before = first.unwrap_or(bytes.len()) as u64;
        if self.run + before > MAX_BYTES_WITHOUT_LINE_END {
            return Err(format!(
                "{} MiB without a line end (a line is at most {} KiB): not a line-based file",
                MAX_BYTES_WITHOUT_LINE_END >> 20,
                MAX_LINE >> 10
            ));
        }
        self.run = match memchr::memrchr(b'\n', bytes) {
            Some(last) => (bytes.len() - last - 1) as u64,
            None => self.run + before,
        };
        Ok(())
    }
}

/// A copy of an input: in memory while small, then in an unlinked
/// temporary file (`$TMPDIR`).
#[derive(Default)]
pub(crate) struct Spool {
    memory: Vec<u8>,
    file: Option<io::BufWriter<File>>,
}

impl Write for Spool {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && self.memory.len() + bytes.len() > SPOOL_IN_MEMORY {
            let mut file = io::BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(bytes)?,
            None => self.memory.extend_from_slice(bytes),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Spool {
    /// The spooled bytes, from the start.
    pub(crate) fn into_reader(self) -> io::Result<Box<dyn BufRead>> {
        match self.file {
            None => Ok(Box::new(io::Cursor::new(self.memory))),
            Some(writer) => {
                let mut file = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.rewind()?;
                Ok(Box::new(BufReader::with_capacity(MAX_LINE, file)))
            }
        }
    }
}

/// A reader that reports how many bytes have gone through it.
pub(crate) struct Counting<'p, R> {
    inner: R,
    total: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<'p, R> Counting<'p, R> {
    pub(crate) fn new(inner: R, progress: &'p mut dyn FnMut(u64)) -> Self {
        Counting { inner, total: 0, progress }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        (self.progress)(self.total);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_counts_runs_across_chunks() {
        let mut guard = LineEndGuard::default();
        let chunk = vec![b'a'; 1 << 16];
        for _ in 0..256 {
            guard.check(&chunk).unwrap();
        }
        assert!(guard.check(b"x").is_err(), "one byte past the limit");
        let mut guard = LineEndGuard::default();
        for _ in 0..1024 {
            guard.check(&chunk).unwrap();
            guard.check(b"\n").unwrap();
        }
        guard.check(b"ab\ncd").unwrap();
        assert_eq!(guard.run, 2);
    }

    #[test]
    fn spool_spills_to_a_file_and_reads_back() {
        let mut spool = Spool::default();
        let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        for _ in 0..10 {
            spool.write_all(&block).unwrap();
        }
        assert!(spool.file.is_some());
        let mut back = Vec::new();
        spool.into_reader().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), 10 << 20);
        assert!(back.chunks(1 << 20).all(|c| c == block.as_slice()));
    }
}
