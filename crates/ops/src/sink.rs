//! Package files written as they are read: each hashed as its bytes reach
//! the disk (after compression, so the manifest's SHA-256 is the file's),
//! optionally gzip-compressed; and pretty-printed JSON written one array
//! item at a time, byte for byte what `serde_json::to_string_pretty` would
//! print for the whole document.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A writer that hashes and counts what passes through it (to the file it wraps).
pub struct Hashed<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Hashed<W> {
    /// Flushes and returns the lowercase hex SHA-256 and length of what was written.
    fn finish(mut self) -> io::Result<Written> {
        self.inner.flush()?;
        Ok(Written { sha256: hex::encode(self.hasher.finalize()), bytes: self.bytes })
    }
}

/// What a finished [`Output`] wrote to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The file's length.
    pub bytes: u64,
}

/// A package file being written: plain or gzip-compressed.
pub enum Output {
    /// Written as is.
    Plain(Hashed<BufWriter<File>>),
    /// Written gzip-compressed (boxed: the encoder's state is large).
    Gzip(Box<GzEncoder<Hashed<BufWriter<File>>>>),
}

impl Output {
    /// Creates `path`, compressed when `gzip`.
    pub fn create(path: &Path, gzip: bool) -> io::Result<Output> {
        let file = Hashed { inner: BufWriter::new(File::create(path)?), hasher: Sha256::new(), bytes: 0 };
        Ok(if gzip {
            Output::Gzip(Box::new(GzEncoder::new(file, Compression::default())))
        } else {
            Output::Plain(file)
        })
    }

    /// Finishes the file (the gzip trailer too) and says what is on disk.
    pub fn finish(self) -> io::Result<Written> {
        match self {
            Output::Plain(file) => file.finish(),
            Output::Gzip(encoder) => encoder.finish()?.finish(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Plain(file) => file.write(buf),
            Output::Gzip(encoder) => encoder.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(file) => file.flush(),
            Output::Gzip(encoder) => encoder.flush(),
        }
    }
}

/// `value` pretty-printed, every line after the first indented by `indent`
/// (pretty JSON never has a raw newline inside a string, so the lines are
/// the document's).
pub fn pretty_at(value: &Value, indent: &str) -> io::Result<String> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    Ok(text.replace('\n', &format!("\n{indent}")))
}

/// A pretty-printed document split around one of its empty arrays, for the
/// array's items to be written between the halves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Around {
    /// The document up to and including the array's `[`.
    pub head: String,
    /// The indentation of the array's items.
    pub indent: String,
    /// The indentation of the array's `]`.
    close: String,
    /// The document from the array's `]` on.
    pub tail: String,
}

impl Around {
    /// `text` (pretty-printed JSON) split around the empty array of its
    /// first `"key": []`; `None` when it has none.
    pub fn split(text: &str, key: &str) -> Option<Around> {
        let marker = format!("\"{key}\": []");
        let at = text.find(&marker)?;
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let close = text[line_start..at].to_string();
        let bracket = at + marker.len() - 1;
        Some(Around {
            head: text[..bracket].to_string(),
            indent: format!("{close}  "),
            close,
            tail: text[bracket..].to_string(),
        })
    }

    /// Writes the array's items, each from `items`, then the tail; the head
    /// must have been written already.
    pub fn write_items<W: Write>(
        &self,
        out: &mut W,
        items: impl IntoIterator<Item = io::Result<String>>,
    ) -> io::Result<()> {
        let mut array = self.array();
        for item in items {
            array.item(out, &item?)?;
        }
        array.close(out, &self.tail)
    }

    /// The array, to be written an item at a time.
    pub fn array(&self) -> ArrayWriter {
        ArrayWriter { indent: self.indent.clone(), close: self.close.clone(), first: true }
    }
}

/// The items of a pretty-printed array being written one by one.
#[derive(Clone, Debug)]
pub struct ArrayWriter {
    indent: String,
    close: String,
    first: bool,
}

impl ArrayWriter {
    /// The indentation of the array's items ([`pretty_at`] takes it).
    pub fn indent(&self) -> &str {
        &self.indent
    }

    /// Writes one item, already printed at [`ArrayWriter::indent`].
    pub fn item<W: Write>(&mut self, out: &mut W, item: &str) -> io::Result<()> {
        out.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        out.write_all(self.indent.as_bytes())?;
        out.write_all(item.as_bytes())
    }

    /// Closes the array (an empty one stays `[]`) and writes `tail`, which
    /// starts with its `]`.
    pub fn close<W: Write>(self, out: &mut W, tail: &str) -> io::Result<()> {
        if !self.first {
            out.write_all(b"\n")?;
            out.write_all(self.close.as_bytes())?;
        }
        out.write_all(tail.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_written_one_by_one_print_as_the_whole_document_does() {
        let items = [json!({"a": [1, {"b": "x\ny"}]}), json!("s"), json!([])];
        for n in 0..=items.len() {
            let whole = json!({"first": 1, "list": items[..n], "z": {"k": []}});
            let expected = serde_json::to_string_pretty(&whole).unwrap();
            let empty = json!({"first": 1, "list": [], "z": {"k": []}});
            let around = Around::split(&serde_json::to_string_pretty(&empty).unwrap(), "list").unwrap();
            let mut out = around.head.clone().into_bytes();
            let printed = items[..n].iter().map(|item| pretty_at(item, &around.indent));
            around.write_items(&mut out, printed).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{n} items");
        }
        assert_eq!(Around::split("{}", "list"), None);
    }

    #[test]
    fn the_hash_is_of_the_bytes_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        for gzip in [false, true] {
            let path = dir.path().join(format!("f{gzip}"));
            let mut out = Output::create(&path, gzip).unwrap();
            out.write_all(b"hello, hello, hello").unwrap();
            let written = out.finish().unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(written, Written { sha256: crate::package::sha256(&bytes), bytes: bytes.len() as u64 });
            let mut text = String::new();
            if gzip {
                io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text).unwrap();
            } else {
                text = String::from_utf8(bytes).unwrap();
            }
            assert_eq!(text, "hello, hello, hello");
        }
    }
}
