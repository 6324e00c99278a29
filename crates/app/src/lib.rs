//! The application layer: every workflow cordon offers, as one library that
//! the command line and the server both call.
//!
//! An [`App`] owns the store and the configuration. Each call names the
//! [`Viewer`] it answers for and returns plain data (the serde types of
//! [`view`]) or one [`AppError`] whose variants a front end maps to exit
//! codes or HTTP statuses. What a viewer may see is decided by the one rule,
//! [`cordon_model::may_see`], applied by the store in SQL; workflows that
//! coordinate the operation (targets, packages, notifications, the report)
//! are the hub's and refuse other viewers.
//!
//! ```
//! use cordon_app::{App, Config};
//!
//! let dir = tempfile::tempdir()?;
//! let app = App::open(&Config::new(dir.path().join("cordon.db")))?;
//! let hub = app.viewer(None)?;
//! assert!(hub.is_hub());
//! assert_eq!(app.indicators(&app.filter(hub), &mut |_| {})?, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod access;
pub mod admin;
pub mod audit;
pub mod collections;
pub mod dashboard;
pub mod deliveries;
pub mod demo;
pub mod enrichment;
pub mod exports;
pub mod feeds;
pub mod intake;
pub mod jobs;
pub mod operations;
pub mod orgs;
pub mod protect;
pub mod query;
pub mod sessions;
pub mod view;
pub mod warninglists;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cordon_model::Viewer;
use cordon_store::orgs::OrgStore;
use cordon_store::{AnyStore, IndicatorFilter, StoreError};

/// Where the store and the data files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The store: an SQLite file, or a PostgreSQL database named by a
    /// `postgres://user@host:port/db` URL.
    pub db: PathBuf,
    /// Where read-only queries go (listing, lookups, exports: see
    /// [`cordon_store::AnyStore::open_with_reads`]): a streaming replica of
    /// the PostgreSQL `db`; `None` sends them to `db`.
    pub db_read: Option<PathBuf>,
    /// The compiled geo snapshot; enrichment needs it, nothing else does.
    pub geo: PathBuf,
    /// The MISP warninglists directory (`<name>/list.json`, as
    /// scripts/fetch-warninglists.sh writes it); without it only the
    /// built-in rules flag indicators.
    pub warninglists: PathBuf,
    /// How feeds are fetched: where connections may go, timeouts, retries
    /// and size limits (default: public addresses only).
    pub collect: cordon_collect::Settings,
}

impl Config {
    /// The store at `db` with the geo snapshot `cordon-geo.snap` and the
    /// directory `warninglists` beside it (in the current directory for a
    /// PostgreSQL store, which has no directory).
    pub fn new(db: PathBuf) -> Config {
        let beside = |name: &str| {
            if cordon_store::is_postgres_url(&db) {
                PathBuf::from(name)
            } else {
                db.with_file_name(name)
            }
        };
        let (geo, warninglists) = (beside(GEO_SNAPSHOT), beside(WARNINGLISTS_DIR));
        Config { db, db_read: None, geo, warninglists, collect: cordon_collect::Settings::default() }
    }
}

/// The default name of the geo snapshot, beside the store.
pub const GEO_SNAPSHOT: &str = "cordon-geo.snap";

/// The default name of the warninglists directory, beside the store.
pub const WARNINGLISTS_DIR: &str = "warninglists";

/// What to tell someone whose geo data is missing.
pub const GEO_HELP: &str = "fetch the ip-location-db data with scripts/fetch-geodata.sh (in cordon's source tree) \
     and compile it with `cordon geo import data/geo/asn data/geo/asn-country`";

/// Why a call failed. Front ends map the variants: the CLI to exit codes
/// (2 for [`AppError::Invalid`], 1 otherwise), the server to HTTP statuses;
/// the message of [`AppError::Storage`] is for logs, never for a client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// Something named does not exist (or the viewer may not know it does).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The input makes no sense, or a file cannot be read or recognised.
    #[error("{0}")]
    Invalid(String),
    /// The viewer may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The credentials do not authenticate anyone.
    #[error("{0}")]
    Unauthorized(String),
    /// The store is held by another writer; try again.
    #[error("{0}")]
    Busy(String),
    /// Processing failed on the way (the store, a file being written).
    #[error("{0}")]
    Storage(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Busy => AppError::Busy(e.to_string()),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Aborted(m) => AppError::Invalid(m),
            other => AppError::Storage(other.to_string()),
        }
    }
}

impl From<cordon_ops::OpsError> for AppError {
    fn from(e: cordon_ops::OpsError) -> AppError {
        match e {
            cordon_ops::OpsError::Store(e) => e.into(),
            cordon_ops::OpsError::NotFound(m) => AppError::NotFound(m),
            cordon_ops::OpsError::Invalid(m) => AppError::Invalid(m),
            other => AppError::Storage(other.to_string()),
        }
    }
}

/// The application: a store and where its data files are.
pub struct App {
    store: AnyStore,
    config: Config,
    warninglists: warninglists::Cache,
    /// The flagged values of each import this process made without geo
    /// data, until [`App::enrich_imports`] checks them.
    flagged_names: std::sync::Mutex<HashMap<i64, enrichment::Flagged>>,
}

impl App {
    /// Opens (creating if needed) the store of `config`.
    pub fn open(config: &Config) -> Result<App, AppError> {
        let store = AnyStore::open_with_reads(&config.db, config.db_read.as_deref())
            .map_err(|e| AppError::Storage(format!("cannot open the store {}: {e}", config.db.display())))?;
        Ok(App {
            store,
            config: config.clone(),
            warninglists: warninglists::Cache::default(),
            flagged_names: std::sync::Mutex::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The viewer that answers as organisation `org` would see it, or as the
    /// hub's administrator when `None`.
    pub fn viewer(&self, org: Option<&str>) -> Result<Viewer, AppError> {
        match org {
            None => Ok(self.store.hub()?.viewer()),
            Some(name) => match self.store.org(name)? {
                Some(org) => Ok(org.viewer()),
                None => Err(AppError::NotFound(format!(
                    "there is no organisation '{name}' (see `cordon org list`; add one with `cordon org add`)"
                ))),
            },
        }
    }

    /// Every indicator `viewer` may see: the filter to narrow.
    pub fn filter(&self, viewer: Viewer) -> IndicatorFilter {
        IndicatorFilter::new(viewer)
    }

    /// Whether a geo snapshot is there to enrich with.
    pub fn has_geo(&self) -> bool {
        self.config.geo.is_file()
    }

    /// The geo snapshot's path.
    pub fn geo_path(&self) -> &Path {
        &self.config.geo
    }
}

/// Fails with [`AppError::Forbidden`] unless `viewer` is the hub: `what`
/// names the work (for the message).
pub(crate) fn require_hub(viewer: &Viewer, what: &str) -> Result<(), AppError> {
    if viewer.is_hub() {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("{what} is the hub's work: only the hub's analysts may do it")))
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
