//! The indicator model of cordon: pure types and rules, no I/O.
//!
//! Everything that two partners may spell differently is brought to one
//! canonical form here, so that the rest of cordon can compare strings:
//!
//! * [`normalize`] turns a raw value (defanged or not) into [`Observable`]s in
//!   canonical form, or a [`Rejection`] a person can read;
//! * [`not_targetable`] tells which observables can never be a takedown target
//!   (private, documentation, multicast, … space) and why: those are skipped,
//!   not stored;
//! * [`Tlp`] and [`Category`] are the sharing level and cordon's operational
//!   taxonomy, with [`Category::from_label`] mapping partners' labels and
//!   malware families onto it;
//! * a [`Record`] is what a feed parser produces for one observable of one
//!   line; [`Record::sightings`] expands it into [`Sighting`]s, including the
//!   derived ones for linked hosts (a URL's server);
//! * [`combined_confidence`] is how corroboration raises an indicator's
//!   confidence;
//! * [`may_see`] is the one visibility rule (TLP 2.0, the submitting
//!   organisation and its consents) every read path applies, and
//!   [`most_restrictive`] the TLP of anything built from several sightings.
//!
//! ```
//! use cordon_model::{normalize, Observable};
//!
//! let n = normalize("hxxps://Phish[.]Example.COM:443/login#x")?;
//! assert_eq!(n.observables[0].to_string(), "https://phish.example.com/login");
//! assert_eq!(
//!     n.observables[0].url_host(),
//!     Some(Observable::Domain("phish.example.com".into()))
//! );
//! # Ok::<(), cordon_model::Rejection>(())
//! ```
#![deny(missing_docs)]

mod bogon;
mod category;
mod confidence;
mod normalize;
mod observable;
mod record;
mod timestamp;
mod tlp;
mod visibility;

pub use bogon::{ip_not_targetable, not_targetable, refusal, Destinations, SkipReason};
pub use category::{Category, UnknownCategory};
pub use confidence::{combined_confidence, DEFAULT_CONFIDENCE};
pub use normalize::{normalize, refang, Normalized, Rejection};
pub use observable::{Kind, Observable, UnknownKind};
pub use record::{Attributes, Record, Sighting};
pub use timestamp::{format_timestamp, parse_timestamp, Timestamp};
pub use tlp::{Tlp, UnknownTlp};
pub use visibility::{may_see, most_restrictive, Consent, OrgKind, SightingAccess, UnknownOrgKind, Viewer};
