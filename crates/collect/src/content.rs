//! What a run brought, unpacked on the way out: gzip by its magic bytes, a
//! zip archive of one file, else the bytes as they came; what an archive
//! unpacks to is bounded.

use std::io::{self, Cursor, Read};

use cordon_formats::Format;

use crate::CollectError;

/// The content of one run, ready to import.
pub struct Content {
    /// The name to record and to detect the format by: the URL, with the
    /// archive member's name after `#` for a zip.
    name: String,
    /// The format, when the feed names one (else detected on import).
    format: Option<Format>,
    packing: Packing,
    max_unpacked: u64,
}

enum Packing {
    Plain(Vec<u8>),
    Gzip(Vec<u8>),
    /// The archive and the index of its one file.
    Zip(Box<zip::ZipArchive<Cursor<Vec<u8>>>>, usize),
}

/// A reader that fails once more than `left` bytes came through: an
/// archive that unpacks past the limit is an error, not a truncated import.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let packing = match &self.packing {
            Packing::Plain(b) => format!("plain, {} bytes", b.len()),
            Packing::Gzip(b) => format!("gzip, {} bytes", b.len()),
            Packing::Zip(_, index) => format!("zip member {index}"),
        };
        f.debug_struct("Content")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("packing", &packing)
            .finish()
    }
}

impl Content {
    /// The content of `bytes` fetched from `url`: gzip and zip are
    /// recognised by their first bytes.
    pub(crate) fn unpack(
        url: &str,
        bytes: Vec<u8>,
        format: Option<Format>,
        max_unpacked: u64,
    ) -> Result<Content, CollectError> {
        let name = url.to_string();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let name = name.strip_suffix(".gz").unwrap_or(&name).to_string();
            return Ok(Content { name, format, packing: Packing::Gzip(bytes), max_unpacked });
        }
        if !bytes.starts_with(b"PK\x03\x04") {
            return Ok(Content { name, format, packing: Packing::Plain(bytes), max_unpacked });
        }
        let unreadable = |e: zip::result::ZipError| CollectError::Protocol(format!("{url}: not a readable zip: {e}"));
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
        let mut files = Vec::new();
        for index in 0..archive.len() {
            let entry = archive.by_index_raw(index).map_err(unreadable)?;
            let member = entry.name().map_err(unreadable)?.to_string();
            if !entry.is_dir() && !member.starts_with("__MACOSX/") {
                files.push((index, member));
            }
        }
        let [(index, member)] = files.as_slice() else {
            return Err(CollectError::Protocol(format!(
                "{url}: the zip holds {} files; a feed must hold one",
                files.len()
            )));
        };
        let name = format!("{name}#{}", member.rsplit('/').next().unwrap_or(member));
        Ok(Content { name, format, packing: Packing::Zip(Box::new(archive), *index), max_unpacked })
    }

    /// The content from the inline bytes of a TAXII or MISP run.
    pub(crate) fn generated(name: &str, bytes: Vec<u8>, format: Format) -> Content {
        Content { name: name.to_string(), format: Some(format), packing: Packing::Plain(bytes), max_unpacked: 0 }
    }

    /// The name to record the import under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The format to read it as, if known before detection.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// The unpacked content, once. An archive that unpacks past
    /// [`crate::Settings::max_unpacked`] makes the reader fail there.
    pub fn reader(&mut self) -> Result<Box<dyn Read + '_>, CollectError> {
        let limit = self.max_unpacked;
        Ok(match &mut self.packing {
            Packing::Plain(bytes) => Box::new(bytes.as_slice()),
            Packing::Gzip(bytes) => {
                Box::new(Bounded { inner: flate2::read::MultiGzDecoder::new(bytes.as_slice()), left: limit, limit })
            }
            Packing::Zip(archive, index) => {
                let file = archive
                    .by_index(*index)
                    .map_err(|e| CollectError::Protocol(format!("{}: not a readable zip: {e}", self.name)))?;
                Box::new(Bounded { inner: file, left: limit, limit })
            }
        })
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("the archive unpacks to over {} bytes", self.limit))
        })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.add_directory("dir/", zip::write::SimpleFileOptions::default()).unwrap();
        for (name, data) in files {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn read(content: &mut Content) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        content.reader().unwrap().read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn gzip_and_zip_are_unpacked_within_bounds() {
        let list = b"80.94.95.112\n45.9.20.31\n".repeat(100);
        let mut plain = Content::unpack("https://f.example/l.txt", list.clone(), None, 10).unwrap();
        assert_eq!(read(&mut plain).unwrap(), list, "plain content is not bounded by the archive limit");
        let mut gz = Content::unpack("https://f.example/l.txt.gz", gzip(&list), None, 1 << 20).unwrap();
        assert_eq!(gz.name(), "https://f.example/l.txt");
        assert_eq!(read(&mut gz).unwrap(), list);
        let mut zipped =
            Content::unpack("https://f.example/a.zip", zip(&[("dir/feed.csv", &list)]), None, 1 << 20).unwrap();
        assert_eq!(zipped.name(), "https://f.example/a.zip#feed.csv");
        assert_eq!(read(&mut zipped).unwrap(), list);

        let mut bomb = Content::unpack("https://f.example/l.gz", gzip(&vec![b'1'; 1 << 20]), None, 4096).unwrap();
        assert!(read(&mut bomb).unwrap_err().to_string().contains("over 4096 bytes"));
        let mut zip_bomb =
            Content::unpack("https://f.example/a.zip", zip(&[("x", &[b'1'; 8192])]), None, 4096).unwrap();
        assert!(read(&mut zip_bomb).is_err());
        let two = Content::unpack("https://f.example/a.zip", zip(&[("a", b"1"), ("b", b"2")]), None, 4096);
        assert!(two.unwrap_err().to_string().contains("holds 2 files"));
    }
}
