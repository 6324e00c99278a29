//! Background work through the store's job queue
//! ([`cordon_store::jobs::JobStore`]), so that several `cordon serve`
//! replicas over one database never run one job twice.
//!
//! Each scheduler tick queues a run of every feed that is due, keyed by the
//! feed and its due time (every replica may queue it; the key makes it one
//! job), then claims jobs and runs them, [`PARALLEL_JOBS`] at a time, until
//! none is left. A worker renews its lease every third of it while it
//! works; a replica that dies leaves its job to whoever claims it once the
//! lease ran out, and the run starts over (the feed's state is only
//! recorded by a run that finished, and an import is all or nothing).
//!
//! The other thing replicas share is the store's generation, which each
//! one's caches follow: [`App::watch_generation`] hears another replica's
//! commit as it happens (PostgreSQL's `LISTEN/NOTIFY`).

use std::sync::mpsc;
use std::time::Duration;

use cordon_model::Timestamp;
use cordon_store::feeds::FeedStore;
use cordon_store::jobs::{Job, JobStore};

use crate::feeds::FeedRunView;
use crate::{App, AppError};

/// The kind of a feed's run.
pub const FEED_RUN: &str = "feed-run";

/// Jobs run at once by one worker process: a slow feed holds one of them,
/// never the others.
pub const PARALLEL_JOBS: usize = 4;

/// The default lease of a claimed job: long enough that a renewal every
/// third of it survives a slow database, short enough that a dead
/// replica's job waits little.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How long finished jobs are kept (who ran what, and why it failed)
/// before [`App::enqueue_due_feeds`] prunes them: a week. A job's key names
/// a feed's due time, which only moves forward, so a pruned key is never
/// queued again.
pub const JOB_RETENTION: Timestamp = 7 * 24 * 3600;

/// Who claims jobs, and for how long at a time.
#[derive(Clone, Debug)]
pub struct Worker {
    /// The name its claims are recorded under, unique among the replicas
    /// (see [`Worker::new`]).
    pub owner: String,
    /// How long a claim holds unless renewed (whole seconds, at least 1).
    pub lease: Duration,
}

impl Worker {
    /// A worker of this process with `lease`: its owner name is the
    /// host's, the process id and the start time, unique among replicas.
    pub fn new(lease: Duration) -> Worker {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Worker { owner: format!("{host}:{}:{started}", std::process::id()), lease }
    }

    /// The lease in whole seconds (at least 1).
    fn lease_seconds(&self) -> i64 {
        i64::try_from(self.lease.as_secs()).unwrap_or(i64::MAX).max(1)
    }
}

/// What became of one job (or of a claim that failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOutcome {
    /// The job; `None` when the claim itself failed.
    pub job: Option<i64>,
    /// The feed run it made, if it got that far.
    pub run: Option<FeedRunView>,
    /// Why it failed, or went wrong on the way (a lost lease).
    pub error: Option<String>,
}

impl App {
    /// Queues a run of every feed due at `now`, once per feed and due time,
    /// and prunes the jobs that finished [`JOB_RETENTION`] before it; how
    /// many were queued by this call.
    pub fn enqueue_due_feeds(&self, now: Timestamp) -> Result<usize, AppError> {
        let mut queued = 0;
        for feed in self.store.feeds()?.iter().filter(|f| f.next_run <= now) {
            let key = format!("{FEED_RUN}:{}:{}", feed.id, feed.next_run);
            queued += usize::from(self.store.enqueue_job(FEED_RUN, &key, feed.id, now)?);
        }
        self.store.prune_jobs(now - JOB_RETENTION)?;
        Ok(queued)
    }

    /// Watches the store's generation (see
    /// [`cordon_store::AnyStore::watch_generation`]): `on_change` gets
    /// each new generation as a commit moves it, and `None` after every
    /// idle second, until it returns false; then true. False at once when
    /// the store notifies no one (SQLite: poll [`App::generation`]).
    pub fn watch_generation(&self, on_change: &mut dyn FnMut(Option<i64>) -> bool) -> Result<bool, AppError> {
        Ok(self.store.watch_generation(on_change)?)
    }

    /// Claims and runs jobs as `worker`, [`PARALLEL_JOBS`] at a time, until
    /// none is left or `go_on` says stop (checked before each claim: a job
    /// under way completes); one outcome per job, in the order they
    /// finished. A job that fails is an outcome, never a failure of the
    /// call; a claim the store refuses is an outcome too, and ends that
    /// thread's turn.
    pub fn run_jobs(&self, worker: &Worker, go_on: &(dyn Fn() -> bool + Sync)) -> Vec<JobOutcome> {
        let outcomes = std::sync::Mutex::new(Vec::new());
        let push = |outcome| {
            if let Ok(mut all) = outcomes.lock() {
                all.push(outcome);
            }
        };
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL_JOBS {
                scope.spawn(|| {
                    while go_on() {
                        let now = crate::now();
                        match self.store.claim_job(&worker.owner, now, now + worker.lease_seconds()) {
                            Ok(Some(job)) => push(self.run_claimed(worker, &job)),
                            Ok(None) => break,
                            Err(e) => {
                                push(JobOutcome {
                                    job: None,
                                    run: None,
                                    error: Some(format!("cannot claim a job: {e}")),
                                });
                                break;
                            }
                        }
                    }
                });
            }
        });
        outcomes.into_inner().unwrap_or_default()
    }

    /// What job `job` is for, done: the feed run it names, or why there is
    /// none.
    fn run_job(&self, job: &Job) -> Result<FeedRunView, String> {
        if job.kind != FEED_RUN {
            return Err(format!("unknown job kind '{}'", job.kind));
        }
        let feeds = self.store.feeds().map_err(|e| format!("cannot read the feeds: {e}"))?;
        let feed = feeds.iter().find(|f| f.id == job.subject).ok_or_else(|| "the feed was removed".to_string())?;
        Ok(self.run_one(feed))
    }

    /// Runs a claimed job while a thread beside it renews its lease every
    /// third of it (until the job ends or the lease is lost), then
    /// finishes it.
    fn run_claimed(&self, worker: &Worker, job: &Job) -> JobOutcome {
        let (done, stopped) = mpsc::channel::<()>();
        // A third of the lease as claimed (whole seconds, at least 1).
        let every = Duration::from_secs(worker.lease_seconds().unsigned_abs()) / 3;
        std::thread::scope(|scope| {
            scope.spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let until = crate::now() + worker.lease_seconds();
                    // A renewal that fails is tried again next time; a lost
                    // lease shows when the job is finished.
                    if let Ok(false) = self.store.renew_job(job.id, &worker.owner, until) {
                        return;
                    }
                }
            });
            let (run, error) = match self.run_job(job) {
                Ok(run) => {
                    let error = run.error.clone();
                    (Some(run), error)
                }
                Err(why) => (None, Some(why)),
            };
            drop(done);
            let mut outcome = JobOutcome { job: Some(job.id), run, error };
            match self.store.finish_job(job.id, &worker.owner, outcome.error.as_deref(), crate::now()) {
                Ok(true) => {}
                Ok(false) => {
                    outcome.error.get_or_insert_with(|| "the job's lease ran out before it finished".to_string());
                }
                Err(e) => {
                    outcome.error.get_or_insert_with(|| format!("the job could not be finished: {e}"));
                }
            }
            outcome
        })
    }
}
