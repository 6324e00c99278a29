//! TAXII 2.1 (OASIS, 10 June 2021) as plain data: the resources a server
//! answers with ([`resources`]), the query parameters of its object
//! endpoints ([`query`]), its microsecond timestamps ([`Micros`]) and an
//! opaque `next` cursor ([`cursor`]) that a caller cannot forge or reuse
//! for another query or another caller.
//!
//! The crate does no I/O: a server parses a request's query with
//! [`query::Query::parse`], orders its objects by ([`Micros`] date added,
//! id) and cuts a page with [`paging::page`], which never loses objects that
//! share a timestamp because the cursor is a keyset position, not an
//! offset.
//!
//! ```
//! use cordon_taxii::cursor::{CursorKey, Position};
//! use cordon_taxii::query::{Endpoint, Query};
//!
//! let query = Query::parse("added_after=2026-01-01T00:00:00Z&match[type]=indicator&limit=2", Endpoint::Objects)?;
//! assert_eq!(query.limit, Some(2));
//! let key = CursorKey::new([7; 32]);
//! let binding = query.binding("analyst@soc-a.example", "collection-1/objects");
//! let position = Position { date_added: "2026-01-02T00:00:00.5Z".parse()?, id: "indicator--1".into() };
//! let next = key.seal(&binding, &position);
//! assert_eq!(key.open(&binding, &next)?, position);
//! // The same cursor under another caller's binding is refused.
//! assert!(key.open(&query.binding("someone@else.example", "collection-1/objects"), &next).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod cursor;
mod id;
pub mod paging;
pub mod query;
pub mod resources;
mod timestamp;

pub use id::StixId;
pub use timestamp::{Micros, TimestampError};

/// The media type of every TAXII 2.1 answer (and of the requests it takes).
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// The media type of the STIX 2.1 objects a collection holds.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// The one STIX version a cordon collection holds.
pub const SPEC_VERSION: &str = "2.1";
