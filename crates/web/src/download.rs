//! Files sent as downloads: read on a blocking thread a buffer at a
//! time, so a package file of any size costs a buffer, not its size.

use std::io::Read;

use axum::body::{Body, Bytes};

/// How much is read per chunk of the body.
const CHUNK: usize = 64 << 10;

/// A body that streams `reader` to its end; a read error (a package file
/// changed on disk since it was checked) cuts the body off, never a
/// complete-looking answer.
pub fn streamed(reader: impl Read + Send + 'static) -> Body {
    let stream = futures_util::stream::try_unfold(reader, |mut reader| async move {
        let (reader, chunk) = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0u8; CHUNK];
            let n = reader.read(&mut chunk)?;
            chunk.truncate(n);
            Ok::<_, std::io::Error>((reader, chunk))
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok::<_, std::io::Error>(if chunk.is_empty() { None } else { Some((Bytes::from(chunk), reader)) })
    });
    Body::from_stream(stream)
}
