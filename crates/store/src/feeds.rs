//! Feeds the hub pulls on a schedule: what each is (its URL, the source its
//! records are recorded under, its defaults, how often it runs), where its
//! last run left it (validators for conditional requests, a cursor), and
//! every run with its provenance (URL, HTTP status, bytes, the import).
//!
//! Secrets are never stored: a feed names the environment variable that
//! holds its basic-auth credentials ([`FeedSpec::basic_auth_env`]).

use cordon_model::{Category, Timestamp, Tlp};

use crate::StoreError;

/// What a feed is, as the hub defined it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSpec {
    /// Its unique name.
    pub name: String,
    /// Where it is pulled from (`https://…`, `taxii2+https://…/collections/ID/`).
    pub url: String,
    /// The source its records are recorded under.
    pub source: String,
    /// The format's name (`cordon_formats::Format::name`), or `None` to
    /// detect it.
    pub format: Option<String>,
    /// The TLP of records that carry none.
    pub tlp: Option<Tlp>,
    /// The category of records the feed does not categorise.
    pub category: Option<Category>,
    /// Seconds between runs (at least 1).
    pub every: i64,
    /// Request headers sent with every request of a run, in order.
    pub headers: Vec<(String, String)>,
    /// The environment variable holding `user:password` for HTTP Basic
    /// authentication; its value is read at each run, never stored.
    pub basic_auth_env: Option<String>,
}

/// Where a feed's last successful run left it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedState {
    /// The `ETag` of the last answer, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last answer, sent back as
    /// `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// What the collector remembers of the content (a TAXII `added_after`,
    /// a MISP feed's event timestamps), opaque to the store.
    pub cursor: Option<String>,
}

/// A feed with its schedule and the outcome of its last runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    /// Its id.
    pub id: i64,
    /// What it is.
    pub spec: FeedSpec,
    /// When it was added.
    pub created: Timestamp,
    /// Where its last successful run left it.
    pub state: FeedState,
    /// When it last ran, successfully or not.
    pub last_run: Option<Timestamp>,
    /// When it last ran successfully.
    pub last_success: Option<Timestamp>,
    /// Why its last run failed; `None` once a run succeeds.
    pub last_error: Option<String>,
    /// When it is next due.
    pub next_run: Timestamp,
}

/// One run of a feed, successful or not: the provenance of its import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedRun {
    /// The feed's name (runs outlive a removed feed).
    pub feed: String,
    /// When it ran.
    pub time: Timestamp,
    /// The URL fetched (the last one, for runs of several requests).
    pub url: String,
    /// The HTTP status of the last answer, if one came.
    pub status: Option<u16>,
    /// The bytes received over the run's requests.
    pub bytes: u64,
    /// The import it made; `None` when nothing changed or it failed.
    pub import_id: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Feeds and their runs, implemented by every backend.
pub trait FeedStore {
    /// Adds a feed, due at once (`now`). A taken name is a
    /// [`StoreError::Conflict`].
    fn add_feed(&self, spec: &FeedSpec, now: Timestamp) -> Result<Feed, StoreError>;

    /// Every feed, by name.
    fn feeds(&self) -> Result<Vec<Feed>, StoreError>;

    /// Removes a feed (its runs stay as provenance); whether it existed.
    fn remove_feed(&self, name: &str) -> Result<bool, StoreError>;

    /// Records a run of feed `feed_id`, all at once: the run row, the
    /// feed's last run and next run, and either its new `state` with the
    /// run as last success (`run.error` is `None`) or the run's error as
    /// last error, the state left as it was.
    fn record_feed_run(
        &self,
        feed_id: i64,
        run: &FeedRun,
        state: &FeedState,
        next_run: Timestamp,
    ) -> Result<(), StoreError>;

    /// The runs of the feed named `name`, newest first, at most `limit`.
    fn feed_runs(&self, name: &str, limit: usize) -> Result<Vec<FeedRun>, StoreError>;
}
