//! The crate's error type.

/// Errors while opening or reading input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The input could not be opened or mapped.
    #[error("cannot open {path}")]
    Open {
        /// The path given.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Reading (or decompressing) a stream failed.
    #[error("cannot read input")]
    Read(#[source] std::io::Error),
}
