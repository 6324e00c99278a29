//! Takedown operations: what makes cordon a coordination platform.
//!
//! An operation ([`cordon_store::ops::Operation`]) scopes the indicators
//! seen inside its window. From them:
//!
//! * [`targets::Planner`] groups indicators into takedown targets
//!   (one per server address, CIDR listing, or domain not tied to an
//!   address), leaving out flagged ones, and [`workflow::build_targets`]
//!   stores them idempotently;
//! * [`lifecycle`] is the pure state machine every target follows, and
//!   [`workflow::transition`] applies it with an append-only history;
//! * [`tlp::may_pass_on`] asks the one visibility rule
//!   ([`cordon_model::may_see`]) which sightings may leave the hub, for
//!   [`package`] (per-country action packages, to agencies) and [`notify`]
//!   (provider abuse notifications); [`csvcell`] keeps feed strings in
//!   their CSV files from running as spreadsheet formulas;
//!   ([`mime`] writes the RFC 5322 messages, [`smtp`] optionally sends them);
//! * [`verify`] probes taken-down targets; [`report`] computes the
//!   operation's figures and renders them as JSON or self-contained HTML
//!   ([`html`]: inline SVG charts);
//! * [`demo`] generates the demo's four partner feeds from real addresses.
//!
//! The crate never talks SQL (it goes through [`cordon_store::ops::OpsStore`])
//! and opens network connections only in [`verify`] (probes) and [`smtp`]
//! (the relay it is given).
//!
//! ```
//! use cordon_ops::lifecycle::{allowed, check};
//! use cordon_store::ops::TargetState;
//!
//! assert!(check(TargetState::Identified, TargetState::Triaged, None).is_ok());
//! assert_eq!(allowed(TargetState::TakenDown), [TargetState::Verified, TargetState::Reemerged]);
//! ```
#![deny(missing_docs)]

pub mod csvcell;
pub mod demo;
pub mod html;
pub mod lifecycle;
pub mod mime;
pub mod notify;
pub mod package;
pub mod report;
mod sink;
pub mod smtp;
pub mod stix;
pub mod targets;
pub mod tlp;
pub mod verify;
pub mod workflow;
pub mod xarf;

use cordon_store::StoreError;

/// Why an operations step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input makes no sense.
    #[error("{0}")]
    Invalid(String),
}

impl OpsError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> OpsError {
        OpsError::Io { path: path.display().to_string(), source }
    }
}
