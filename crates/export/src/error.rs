//! The crate's error type.

use std::path::PathBuf;

use crate::Format;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing the output failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// Writing one file of a directory export failed.
    #[error("cannot write {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The format writes a directory, not a stream.
    #[error("the {0} format writes a directory")]
    NeedsDirectory(Format),
    /// The format sorts or groups its entries, so it cannot be written
    /// entry by entry (see [`crate::Stream`]).
    #[error("the {0} format cannot be written entry by entry")]
    NotStreamed(Format),
    /// The export exceeds a limit of the format (Suricata sid range, MaxMind
    /// pointer size).
    #[error("the export is too large for the {format} format: {reason}")]
    TooLarge {
        /// The format.
        format: Format,
        /// The limit.
        reason: &'static str,
    },
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Error {
        Error::Io(err.into())
    }
}

impl From<csv::Error> for Error {
    fn from(err: csv::Error) -> Error {
        match err.into_kind() {
            csv::ErrorKind::Io(io) => Error::Io(io),
            other => Error::Io(std::io::Error::other(format!("{other:?}"))),
        }
    }
}
