//! Feeds the hub pulls: defining them, and running them now or when due.
//!
//! A run fetches through [`cordon_collect::pull`] (guarded connections,
//! conditional requests, retries), imports what came through the same
//! pipeline as `cordon ingest` (one import, recorded under the feed's
//! source, its name the URL), enriches what the import changed, and records
//! the run with its provenance ([`cordon_store::feeds::FeedRun`]: URL, HTTP
//! status, bytes, the import). A run that fails records its error and
//! leaves the feed's state as the last success left it; the others go on.
//! Credentials come from the environment variable a feed names, read at
//! each run and never stored.

use std::sync::Mutex;

use cordon_collect::{CollectError, Kind};
use cordon_formats::Format;
use cordon_ingest::IngestOptions;
use cordon_model::{format_timestamp, Category, Timestamp, Tlp, Viewer};
use cordon_store::feeds::{Feed, FeedRun, FeedSpec, FeedStore};
use serde::Serialize;

use crate::intake::{Input, InputError};
use crate::view::FileReportView;
use crate::{require_hub, App, AppError};

/// The shortest interval between two runs of a feed.
pub const MIN_EVERY: i64 = 60;

/// Feeds run at once by [`App::run_feeds`]: a
/// slow feed holds one of them, never the others.
const PARALLEL_RUNS: usize = 4;

/// A feed to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFeed {
    /// Its unique name (letters, digits, '-', '_', '.').
    pub name: String,
    /// Where to pull it from.
    pub url: String,
    /// The source its records are recorded under.
    pub source: String,
    /// The format (default: detected; `misp-feed` for a MISP directory).
    pub format: Option<Format>,
    /// The TLP of records that carry none.
    pub tlp: Option<Tlp>,
    /// The category of records the feed does not categorise.
    pub category: Option<Category>,
    /// Seconds between runs (at least [`MIN_EVERY`]).
    pub every: i64,
    /// `Name: value` headers sent with each request.
    pub headers: Vec<(String, String)>,
    /// The environment variable that holds `user:password`.
    pub basic_auth_env: Option<String>,
}

/// A feed as `cordon feed list` shows it. Header values are not shown
/// (they may be keys); their names are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedView {
    /// Its name.
    pub name: String,
    /// `file`, `taxii` or `misp-feed`.
    pub kind: &'static str,
    /// Its URL.
    pub url: String,
    /// The source of its records.
    pub source: String,
    /// The format, if set.
    pub format: Option<String>,
    /// The default TLP, if set.
    pub tlp: Option<&'static str>,
    /// The default category, if set.
    pub category: Option<&'static str>,
    /// Seconds between runs.
    pub every: i64,
    /// The names of the headers it sends.
    pub headers: Vec<String>,
    /// The environment variable of its credentials.
    pub basic_auth_env: Option<String>,
    /// When it last ran (RFC 3339).
    pub last_run: Option<String>,
    /// When it last ran successfully.
    pub last_success: Option<String>,
    /// Why its last run failed.
    pub last_error: Option<String>,
    /// When it is next due.
    pub next_run: String,
}

/// What one run of one feed did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedRunView {
    /// The feed.
    pub feed: String,
    /// The URL of the run's last request.
    pub url: String,
    /// The HTTP status of its last answer.
    pub status: Option<u16>,
    /// Bytes received.
    pub bytes: u64,
    /// Nothing changed: no import.
    pub unchanged: bool,
    /// The import, when something came.
    pub import: Option<FileReportView>,
    /// Why it failed.
    pub error: Option<String>,
}

impl FeedView {
    fn new(feed: &Feed) -> FeedView {
        let spec = &feed.spec;
        let format = spec.format.as_deref().and_then(|f| f.parse::<Format>().ok());
        let kind = match Kind::of(&spec.url, format) {
            Ok(Kind::Taxii) => "taxii",
            Ok(Kind::MispFeed) => "misp-feed",
            _ => "file",
        };
        FeedView {
            name: spec.name.clone(),
            kind,
            url: spec.url.clone(),
            source: spec.source.clone(),
            format: spec.format.clone(),
            tlp: spec.tlp.map(Tlp::as_str),
            category: spec.category.map(Category::as_str),
            every: spec.every,
            headers: spec.headers.iter().map(|(name, _)| name.clone()).collect(),
            basic_auth_env: spec.basic_auth_env.clone(),
            last_run: feed.last_run.map(format_timestamp),
            last_success: feed.last_success.map(format_timestamp),
            last_error: feed.last_error.clone(),
            next_run: format_timestamp(feed.next_run),
        }
    }
}

impl App {
    /// Adds a feed, due at once. The hub's work.
    pub fn add_feed(&self, viewer: &Viewer, feed: &NewFeed) -> Result<FeedView, AppError> {
        require_hub(viewer, "adding a feed")?;
        let valid_name = |s: &str| {
            !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !valid_name(&feed.name) {
            return Err(AppError::Invalid(format!(
                "'{}' is not a feed name (letters, digits, '-', '_', '.')",
                feed.name
            )));
        }
        if feed.source.trim().is_empty() {
            return Err(AppError::Invalid("a feed needs a source".into()));
        }
        if feed.every < MIN_EVERY {
            return Err(AppError::Invalid(format!("a feed runs at most every {MIN_EVERY} seconds")));
        }
        Kind::of(&feed.url, feed.format).map_err(|e| AppError::Invalid(e.to_string()))?;
        for (name, value) in &feed.headers {
            cordon_collect::check_header(name, value).map_err(|e| AppError::Invalid(e.to_string()))?;
        }
        if let Some(var) = &feed.basic_auth_env {
            if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(AppError::Invalid(format!("'{var}' is not an environment variable's name")));
            }
        }
        let spec = FeedSpec {
            name: feed.name.clone(),
            url: feed.url.clone(),
            source: feed.source.clone(),
            format: feed.format.map(|f| f.name().to_string()),
            tlp: feed.tlp,
            category: feed.category,
            every: feed.every,
            headers: feed.headers.clone(),
            basic_auth_env: feed.basic_auth_env.clone(),
        };
        Ok(FeedView::new(&self.store.add_feed(&spec, crate::now())?))
    }

    /// Every feed with its last runs. The hub's.
    pub fn feeds(&self, viewer: &Viewer) -> Result<Vec<FeedView>, AppError> {
        require_hub(viewer, "listing feeds")?;
        Ok(self.store.feeds()?.iter().map(FeedView::new).collect())
    }

    /// Removes a feed (its imports and runs stay). The hub's work.
    pub fn remove_feed(&self, viewer: &Viewer, name: &str) -> Result<(), AppError> {
        require_hub(viewer, "removing a feed")?;
        if !self.store.remove_feed(name)? {
            return Err(AppError::NotFound(format!("there is no feed named '{name}'")));
        }
        Ok(())
    }

    /// Runs the feeds named (every feed when `names` is empty) now, whether
    /// due or not; one outcome per feed, in name order. A feed that fails
    /// is an outcome with its error, never a failure of the call.
    pub fn run_feeds(&self, viewer: &Viewer, names: &[String]) -> Result<Vec<FeedRunView>, AppError> {
        require_hub(viewer, "running feeds")?;
        let feeds = self.store.feeds()?;
        if let Some(unknown) = names.iter().find(|n| !feeds.iter().any(|f| &f.spec.name == *n)) {
            return Err(AppError::NotFound(format!("there is no feed named '{unknown}'")));
        }
        let chosen: Vec<Feed> =
            feeds.into_iter().filter(|f| names.is_empty() || names.contains(&f.spec.name)).collect();
        Ok(self.run_all(&chosen))
    }

    /// Runs the feeds due at `now` through the job queue, as one
    /// [`Worker`](crate::jobs::Worker) of this process with the default
    /// lease (one tick of `cordon serve`'s scheduler, which runs its own
    /// worker): one outcome per run, in feed name order. A run that
    /// another replica holds is left to it.
    pub fn run_due_feeds(&self, now: Timestamp) -> Result<Vec<FeedRunView>, AppError> {
        self.enqueue_due_feeds(now)?;
        let worker = crate::jobs::Worker::new(crate::jobs::DEFAULT_LEASE);
        let mut runs = Vec::new();
        for outcome in self.run_jobs(&worker, &|| true) {
            match (outcome.job, outcome.run, outcome.error) {
                (None, _, error) => return Err(AppError::Storage(error.unwrap_or_default())),
                (Some(_), Some(run), _) => runs.push(run),
                (Some(_), None, _) => {}
            }
        }
        runs.sort_by(|a, b| a.feed.cmp(&b.feed));
        Ok(runs)
    }

    /// When the next feed is due, if there is a feed.
    pub fn next_feed_due(&self) -> Result<Option<Timestamp>, AppError> {
        Ok(self.store.feeds()?.iter().map(|f| f.next_run).min())
    }

    /// Runs `feeds`, [`PARALLEL_RUNS`] at a time.
    fn run_all(&self, feeds: &[Feed]) -> Vec<FeedRunView> {
        let next = Mutex::new(feeds.iter().enumerate());
        let outcomes = Mutex::new(Vec::with_capacity(feeds.len()));
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL_RUNS.min(feeds.len()) {
                scope.spawn(|| {
                    while let Some((i, feed)) = next.lock().ok().and_then(|mut it| it.next()) {
                        let outcome = self.run_one(feed);
                        if let Ok(mut all) = outcomes.lock() {
                            all.push((i, outcome));
                        }
                    }
                });
            }
        });
        let mut outcomes = outcomes.into_inner().unwrap_or_default();
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, outcome)| outcome).collect()
    }

    /// One run of one feed, recorded.
    pub(crate) fn run_one(&self, feed: &Feed) -> FeedRunView {
        let started = crate::now();
        let spec = &feed.spec;
        let mut view = FeedRunView {
            feed: spec.name.clone(),
            url: spec.url.clone(),
            status: None,
            bytes: 0,
            unchanged: false,
            import: None,
            error: None,
        };
        let mut state = feed.state.clone();
        let mut import_id = None;
        match self.pull_and_import(feed) {
            Ok((pull, report)) => {
                view.url = pull.url;
                view.status = Some(pull.status);
                view.bytes = pull.bytes;
                view.unchanged = report.is_none();
                import_id = report.as_ref().and_then(|r| r.import_id);
                view.import = report.as_ref().map(FileReportView::from);
                state = pull.state;
            }
            Err(Failure { error, status, bytes }) => {
                view.status = status;
                view.bytes = bytes;
                view.error = Some(error);
            }
        }
        let run = FeedRun {
            feed: spec.name.clone(),
            time: started,
            url: view.url.clone(),
            status: view.status,
            bytes: view.bytes,
            import_id,
            error: view.error.clone(),
        };
        let next_run = started.saturating_add(spec.every.max(MIN_EVERY));
        if let Err(e) = self.store.record_feed_run(feed.id, &run, &state, next_run) {
            view.error.get_or_insert_with(|| format!("the run could not be recorded: {e}"));
        }
        if let Some(id) = import_id {
            // The import is stored; enrichment can be re-run if it fails.
            let _ = self.enrich_imports(vec![id], &mut |_, _| {});
        }
        view
    }

    /// Fetches a feed and imports what came; `None` when nothing changed.
    fn pull_and_import(
        &self,
        feed: &Feed,
    ) -> Result<(cordon_collect::Pull, Option<cordon_ingest::FileReport>), Failure> {
        let spec = &feed.spec;
        let format = match spec.format.as_deref().map(str::parse::<Format>).transpose() {
            Ok(format) => format,
            Err(e) => return Err(Failure::before_any_answer(format!("the feed's format: {e}"))),
        };
        let credentials = match &spec.basic_auth_env {
            Some(var) => match std::env::var(var) {
                Ok(value) => Some(value),
                Err(_) => return Err(Failure::before_any_answer(format!("the environment variable {var} is not set"))),
            },
            None => None,
        };
        let request =
            cordon_collect::Feed { url: &spec.url, format, headers: &spec.headers, basic_auth: credentials.as_deref() };
        let mut pull = cordon_collect::pull(&request, &feed.state, &self.config.collect).map_err(Failure::from)?;
        let (status, bytes) = (pull.status, pull.bytes);
        let Some(content) = pull.content.as_mut() else { return Ok((pull, None)) };
        let options = IngestOptions {
            source: spec.source.clone(),
            format: content.format().or(format),
            tlp: spec.tlp,
            category: spec.category,
            ..IngestOptions::default()
        };
        let name = content.name().to_string();
        let report = content.reader().map_err(|e| e.to_string()).and_then(|mut reader| {
            let input = Input::Reader { name: &name, reader: &mut reader };
            self.import_input(input, &options, &mut |_| {})
                .map_err(|e| format!("the import failed: {}", InputError::from(e)))
        });
        match report {
            Ok(report) => Ok((pull, Some(report))),
            Err(error) => Err(Failure { error, status: Some(status), bytes }),
        }
    }
}

/// Why a run failed, with what it had received.
struct Failure {
    error: String,
    status: Option<u16>,
    bytes: u64,
}

impl Failure {
    fn before_any_answer(error: String) -> Failure {
        Failure { error, status: None, bytes: 0 }
    }
}

impl From<CollectError> for Failure {
    fn from(e: CollectError) -> Failure {
        Failure { status: e.status(), error: e.to_string(), bytes: 0 }
    }
}
