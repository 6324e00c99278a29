//! Opening what to scan: a regular file memory-mapped, anything else read
//! once as a stream.
//!
//! Only a regular file with a size is mapped. Pipes (`<(cat log)`,
//! `/dev/stdin` on a pipe), named FIFOs, character devices and regular files
//! that report a size of 0 (`/proc` files) are streams: their size says
//! nothing about their content, and they can be read only once, so they are
//! opened once and read to their end on one thread. `.gz` files are streams
//! through a decompressor.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use memmap2::Mmap;

use crate::ScanError;

/// An opened input.
pub enum Input {
    /// A regular file, mapped into memory (can be scanned on several threads).
    Mapped(Mmap),
    /// A stream read once, on one thread (stdin, pipes, FIFOs, devices, gzip).
    Stream(Box<dyn Read + Send>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Mapped(map) => write!(f, "Input::Mapped({} bytes)", map.len()),
            Input::Stream(_) => f.write_str("Input::Stream"),
        }
    }
}

impl Input {
    /// Opens `path` once: `-` is stdin, a name ending in `.gz` is
    /// decompressed (multi-member gzip, as `zcat` reads), a regular file with
    /// a size is mapped, and anything else that is not a directory is a
    /// stream.
    pub fn open(path: &str) -> Result<Input, ScanError> {
        if path == "-" {
            return Ok(Input::Stream(Box::new(std::io::stdin())));
        }
        let open_error = |source| ScanError::Open { path: path.to_string(), source };
        // Opening a FIFO waits for its writer, as `cat` does.
        let file = File::open(Path::new(path)).map_err(open_error)?;
        let metadata = file.metadata().map_err(open_error)?;
        if metadata.is_dir() {
            return Err(open_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, "is a directory")));
        }
        if path.ends_with(".gz") {
            let reader = std::io::BufReader::with_capacity(1 << 16, file);
            return Ok(Input::Stream(Box::new(flate2::read::MultiGzDecoder::new(reader))));
        }
        if !metadata.is_file() || metadata.len() == 0 {
            return Ok(Input::Stream(Box::new(file)));
        }
        // SAFETY: the map is read-only and lives as long as `Input`. If
        // another process truncates the file meanwhile, reads may fault
        // (SIGBUS); this is the usual trade-off of mapping logs, accepted
        // here as ripgrep does for plain files.
        let map = unsafe { Mmap::map(&file) }.map_err(open_error)?;
        Ok(Input::Mapped(map))
    }

    /// The whole input as bytes, if it is mapped.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Input::Mapped(map) => Some(&map[..]),
            Input::Stream(_) => None,
        }
    }
}
