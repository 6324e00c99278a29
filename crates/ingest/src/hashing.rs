//! File hashing and byte counting for progress.

use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// The SHA-256 of a file's bytes, or of a MISP feed directory's
/// `manifest.json`, lowercase hex.
pub(crate) fn sha256_of(path: &Path) -> io::Result<String> {
    let target = if path.is_dir() { path.join("manifest.json") } else { path.to_path_buf() };
    sha256_of_reader(std::fs::File::open(target)?)
}

/// The SHA-256 of everything `reader` yields, lowercase hex.
pub(crate) fn sha256_of_reader(mut reader: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
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
