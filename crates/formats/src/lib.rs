//! Feed parsers: bytes in, [`Event`]s out.
//!
//! [`detect`] names the [`Format`] of a file from its name and first bytes;
//! [`parse`] streams a file (or [`parse_reader`] a reader) and pushes one
//! [`Event`] per record, rejection, skip or warning to a sink. Parsers never
//! store anything and never panic on input: a bad record is an
//! [`Event::Rejected`] with its line and a reason, and only an unreadable or
//! unrecognisable input is an error ([`FormatError`]).
//!
//! Values are normalized with [`cordon_model::normalize`] here, so every
//! [`cordon_model::Record`] carries a canonical observable. Filtering of
//! never-targetable addresses (bogons) is *not* done here: the ingest pipeline
//! does it once for all formats.
#![deny(missing_docs)]
