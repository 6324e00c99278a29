//! Opening what to scan: a memory-mapped file, a `.gz` file streamed
//! through a decompressor, or stdin.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use memmap2::Mmap;

use crate::ScanError;

/// An opened input.
pub enum Input {
    /// A plain file, mapped into memory (can be scanned on several threads).
    Mapped(Mmap),
    /// Bytes already in memory (an empty file).
    Bytes(Vec<u8>),
    /// A stream read once, on one thread (stdin, gzip).
    Stream(Box<dyn Read + Send>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Mapped(map) => write!(f, "Input::Mapped({} bytes)", map.len()),
            Input::Bytes(bytes) => write!(f, "Input::Bytes({} bytes)", bytes.len()),
            Input::Stream(_) => f.write_str("Input::Stream"),
        }
    }
}

impl Input {
    /// Opens `path`: `-` is stdin, a name ending in `.gz` is decompressed
    /// (multi-member gzip, as `zcat` reads), anything else is mapped.
    pub fn open(path: &str) -> Result<Input, ScanError> {
        if path == "-" {
            return Ok(Input::Stream(Box::new(std::io::stdin())));
        }
        let open_error = |source| ScanError::Open { path: path.to_string(), source };
        let file = File::open(Path::new(path)).map_err(open_error)?;
        if path.ends_with(".gz") {
            let reader = std::io::BufReader::with_capacity(1 << 16, file);
            return Ok(Input::Stream(Box::new(flate2::read::MultiGzDecoder::new(reader))));
        }
        let len = file.metadata().map_err(open_error)?.len();
        if len == 0 {
            return Ok(Input::Bytes(Vec::new()));
        }
        // SAFETY: the map is read-only and lives as long as `Input`. If
        // another process truncates the file meanwhile, reads may fault
        // (SIGBUS); this is the usual trade-off of mapping logs, accepted
        // here as ripgrep does for plain files.
        let map = unsafe { Mmap::map(&file) }.map_err(open_error)?;
        Ok(Input::Mapped(map))
    }

    /// The whole input as bytes, if it is in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Input::Mapped(map) => Some(&map[..]),
            Input::Bytes(bytes) => Some(bytes),
            Input::Stream(_) => None,
        }
    }
}
