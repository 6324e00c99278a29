//! Offline enrichment for cordon: what network an address is in, who runs
//! it, what kind of operator that is, what to be careful about, and whom to
//! tell.
//!
//! * [`Import`] compiles CSV range files (ip-location-db, DB-IP Lite) and
//!   MaxMind DB files into one snapshot file, reporting every bad row as a
//!   [`Diagnostic`];
//! * [`GeoDb`] loads a snapshot (checksum-verified) and answers
//!   [`GeoDb::lookup`] with a [`GeoInfo`]: ASN, organisation, country;
//! * [`HostingTable`] classifies an ASN as [`Hosting`] (CDN, cloud, hosting,
//!   ISP) from a curated built-in table plus a user file;
//! * [`ip_flags`] and [`domain_flags`] say what to be careful about, each
//!   [`Flag`] with a reason a person can read;
//! * [`Warninglists`] reads the published MISP warninglists (public
//!   resolvers, CDN and cloud ranges, top sites, URL shorteners, scanners,
//!   ...) and answers [`Warninglists::check`] with one [`Hit`] per list an
//!   observable is in, each with its [`WarningClass`] and the flag it
//!   raises ([`Hit::flag`]); with [`FlagConfig::warninglists`] set, the
//!   flag functions include them;
//! * [`ContactBook::route`] picks the provider's abuse contact and the
//!   national agency for an address.
//!
//! ```
//! use cordon_enrich::{GeoDb, Import};
//!
//! let mut import = Import::new();
//! import.add_csv("asn-ipv4.csv", b"1.1.1.0,1.1.1.255,13335,\"Cloudflare, Inc.\"\n");
//! import.add_csv("asn-country-ipv4.csv", b"1.1.1.0,1.1.1.255,AU\n");
//! let report = import.finish();
//! assert!(report.diagnostics.is_empty());
//! let db = GeoDb::from_bytes(&report.snapshot)?;
//! let info = db.lookup("1.1.1.1".parse().unwrap()).unwrap();
//! assert_eq!((info.asn, info.org), (Some(13335), Some("Cloudflare, Inc.")));
//! assert_eq!(info.country.map(|c| c.to_string()).as_deref(), Some("AU"));
//! # Ok::<(), cordon_enrich::SnapshotError>(())
//! ```
#![deny(missing_docs)]

mod allowlist;
mod contacts;
mod country;
mod diag;
mod flags;
mod hosting;
mod import;
mod resolve;
mod snapshot;
mod source;
mod warninglists;

pub use allowlist::{AllowMatch, Allowlist};
pub use contacts::{Contact, ContactBook, ContactKey, Route};
pub use country::{Country, UnknownCountry};
pub use diag::{Diagnostic, DiagnosticKind, Location};
pub use flags::{
    domain_flags, ip_flags, offline_flags, Flag, FlagConfig, FlagKind, DEFAULT_SHARED_HOSTING_THRESHOLD,
    RESOLVERS_NOT_IN_WARNINGLISTS,
};
pub use hosting::{Hosting, HostingTable, UnknownHosting, BUILTIN as BUILTIN_HOSTING};
pub use import::{FileSummary, Import, ImportReport};
pub use snapshot::{write_snapshot, GeoDb, GeoInfo, SnapshotError, SnapshotStats};
pub use warninglists::{Hit, ListInfo, ListType, Scope, Subject, WarningClass, Warninglists, WarninglistsError};
