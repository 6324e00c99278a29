//! Bodies streamed between the async server and the synchronous
//! application layer, so that neither a submission nor a blocklist is ever
//! held whole in memory.
//!
//! * In: [`pump`] forwards a request body chunk by chunk into a bounded
//!   channel that a [`BodyReader`] reads on the blocking pool (a
//!   `std::io::Read` for `Input::Reader`); [`decoded`] undoes gzip (declared
//!   by `Content-Encoding`, or recognised by its magic bytes). Both sides
//!   are bounded: the body as sent by [`pump`]'s limit, what gzip expands
//!   to by [`decoded`]'s ([`Exceeded`] tells the caller a limit stopped it).
//! * Out: a [`ChunkWriter`] is a `std::io::Write` that hands 64 KiB chunks
//!   to a channel the response body drains ([`body`]): the answer goes out
//!   chunked while the writer writes.
//!
//! The channels hold a few chunks each: a slow reader (the import, the
//! client) slows the other side down instead of filling memory.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Chunks in flight per direction.
const IN_FLIGHT: usize = 8;

/// The size of the chunks a [`ChunkWriter`] sends.
pub(crate) const CHUNK: usize = 64 << 10;

/// A chunk, or why the stream broke.
type Chunk = Result<Bytes, io::Error>;

/// Set when a limit stopped a stream, so the caller answers 413 rather
/// than blaming the input.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exceeded(Arc<AtomicBool>);

impl Exceeded {
    /// Whether a limit was hit.
    pub fn hit(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn error(&self, what: &str, limit: u64) -> io::Error {
        self.0.store(true, Ordering::Relaxed);
        io::Error::other(format!("{what} is larger than {limit} bytes"))
    }
}

/// The reading end of a request body, for the blocking pool.
pub(crate) struct BodyReader {
    chunks: mpsc::Receiver<Chunk>,
    current: Bytes,
}

/// A channel for a body: [`pump`] fills the sender, the reader reads.
pub(crate) fn channel() -> (mpsc::Sender<Chunk>, BodyReader) {
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    (tx, BodyReader { chunks: rx, current: Bytes::new() })
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Forwards `body` into `tx` until it ends, the reader stops reading, or
/// it carries more than `limit` bytes (then the reader gets an error and
/// `exceeded` is set).
pub(crate) async fn pump(body: Body, tx: mpsc::Sender<Chunk>, limit: u64, exceeded: Exceeded) {
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let item = match chunk {
            Ok(bytes) => {
                total += bytes.len() as u64;
                if total > limit {
                    let _ = tx.send(Err(exceeded.error("the body", limit))).await;
                    return;
                }
                Ok(bytes)
            }
            Err(e) => Err(io::Error::other(format!("the body broke off: {e}"))),
        };
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `input` as the feed it carries: gunzipped when `declared_gzip` or when
/// it starts with gzip's magic bytes, at most `limit` bytes either way.
/// A body declared gzip that is not is an `InvalidData` error.
pub(crate) fn decoded(
    mut input: impl Read + Send + 'static,
    declared_gzip: bool,
    limit: u64,
    exceeded: Exceeded,
) -> io::Result<Box<dyn Read + Send>> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    let whole = io::Cursor::new(magic[..got].to_vec()).chain(input);
    let gzip = got == 2 && magic == GZIP_MAGIC;
    if declared_gzip && !gzip {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "Content-Encoding says gzip, but the body is not gzip"));
    }
    let reader: Box<dyn Read + Send> =
        if gzip { Box::new(flate2::read::MultiGzDecoder::new(whole)) } else { Box::new(whole) };
    Ok(Box::new(Bounded { inner: reader, left: limit, limit, exceeded }))
}

/// A reader that fails past `limit` bytes.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
    exceeded: Exceeded,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(self.exceeded.error("the decoded submission", self.limit));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A `Write` whose bytes become a response body, [`CHUNK`] at a time.
pub(crate) struct ChunkWriter {
    tx: mpsc::Sender<Chunk>,
    buffer: Vec<u8>,
}

/// A writer and the body it feeds.
pub(crate) fn body() -> (ChunkWriter, Body) {
    let (tx, rx) = mpsc::channel::<Chunk>(IN_FLIGHT);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    (ChunkWriter { tx, buffer: Vec::with_capacity(CHUNK) }, Body::from_stream(stream))
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client left"))
    }

    /// Ends the body with an error: the client sees it cut off (no final
    /// chunk), never a complete-looking answer.
    pub fn fail(self, why: String) {
        let _ = self.tx.blocking_send(Err(io::Error::other(why)));
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(mut reader: impl Read) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn gzip_is_undone_when_declared_or_recognised() {
        let feed = b"45.9.20.31\n45.9.20.32\n".repeat(100);
        for declared in [true, false] {
            let reader = decoded(io::Cursor::new(gzip(&feed)), declared, 1 << 20, Exceeded::default()).unwrap();
            assert_eq!(read_all(reader).unwrap(), feed);
        }
        let plain = decoded(io::Cursor::new(feed.clone()), false, 1 << 20, Exceeded::default()).unwrap();
        assert_eq!(read_all(plain).unwrap(), feed);
        let lie = decoded(io::Cursor::new(feed.clone()), true, 1 << 20, Exceeded::default());
        assert_eq!(lie.err().map(|e| e.kind()), Some(io::ErrorKind::InvalidData));
        let one = decoded(io::Cursor::new(b"x".to_vec()), false, 1 << 20, Exceeded::default()).unwrap();
        assert_eq!(read_all(one).unwrap(), b"x");
    }

    #[test]
    fn a_bomb_stops_at_the_expanded_limit() {
        let bomb = gzip(&vec![b'0'; 4 << 20]);
        let exceeded = Exceeded::default();
        let reader = decoded(io::Cursor::new(bomb), false, 1 << 20, exceeded.clone()).unwrap();
        assert!(read_all(reader).is_err());
        assert!(exceeded.hit());
    }

    #[test]
    fn the_reader_reads_while_the_body_is_still_arriving() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (client, body_rx) = mpsc::channel::<Result<Bytes, io::Error>>(1);
        let body = Body::from_stream(futures_util::stream::unfold(body_rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        }));
        let (tx, mut reader) = channel();
        let exceeded = Exceeded::default();
        let pumping = runtime.spawn(pump(body, tx, 1 << 20, exceeded.clone()));
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let import = std::thread::spawn(move || {
            let mut first = [0u8; 5];
            reader.read_exact(&mut first).unwrap();
            seen_tx.send(first).unwrap();
            read_all(reader).unwrap()
        });
        runtime.block_on(async {
            client.send(Ok(Bytes::from_static(b"first"))).await.unwrap();
            // The import has the first chunk before the second is sent.
            let first = tokio::task::spawn_blocking(move || seen_rx.recv().unwrap()).await.unwrap();
            assert_eq!(&first, b"first");
            client.send(Ok(Bytes::from_static(b" second"))).await.unwrap();
            drop(client);
            pumping.await.unwrap();
        });
        assert_eq!(import.join().unwrap(), b" second");
        assert!(!exceeded.hit());
    }

    #[test]
    fn a_body_over_its_limit_fails_the_reader() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (tx, reader) = channel();
        let exceeded = Exceeded::default();
        let reading = std::thread::spawn(move || read_all(reader));
        runtime.block_on(pump(Body::from(vec![b'1'; 100]), tx, 10, exceeded.clone()));
        assert!(reading.join().unwrap().is_err());
        assert!(exceeded.hit());
    }

    #[test]
    fn writes_go_out_in_chunks_as_they_are_written() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (mut writer, body) = body();
        let writing = std::thread::spawn(move || {
            for _ in 0..3 {
                writer.write_all(&vec![b'a'; CHUNK]).unwrap();
            }
            writer.write_all(b"tail").unwrap();
            writer.flush().unwrap();
        });
        let sizes: Vec<usize> = runtime.block_on(async {
            let mut stream = body.into_data_stream();
            let mut sizes = Vec::new();
            while let Some(chunk) = stream.next().await {
                sizes.push(chunk.unwrap().len());
            }
            sizes
        });
        writing.join().unwrap();
        assert_eq!(sizes, [CHUNK, CHUNK, CHUNK, 4]);
    }

    #[test]
    fn a_failed_writer_cuts_the_body_off() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (mut writer, body) = body();
        std::thread::spawn(move || {
            writer.write_all(b"partial").unwrap();
            writer.flush().unwrap();
            writer.fail("the store failed".into());
        });
        let results: Vec<bool> = runtime.block_on(async {
            let mut stream = body.into_data_stream();
            let mut results = Vec::new();
            while let Some(chunk) = stream.next().await {
                results.push(chunk.is_ok());
            }
            results
        });
        assert_eq!(results, [true, false]);
    }
}
