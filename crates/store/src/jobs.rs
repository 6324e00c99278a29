//! Background work that `cordon serve` replicas share (feed runs): a
//! queue of jobs in the store, each claimed by one worker at a time under
//! a lease that the worker renews while it works.
//!
//! * A job is queued once per key ([`JobStore::enqueue_job`]): every
//!   replica may queue what it finds due, and the key (a feed and its due
//!   time) makes the second queueing a no-op.
//! * [`JobStore::claim_job`] hands a job to one worker: on PostgreSQL the
//!   claiming `UPDATE` picks its row with `FOR UPDATE SKIP LOCKED`, so two
//!   replicas claiming at once get different jobs and neither waits; on
//!   SQLite the claim is an `IMMEDIATE` transaction (one writer at a time).
//! * A claim holds until its lease runs out; the worker renews it
//!   ([`JobStore::renew_job`]) while it works. A job whose lease ran out
//!   (its worker died) is claimable again, by anyone, up to
//!   [`MAX_ATTEMPTS`] claims in all: a job that every worker dies on (one
//!   that kills or hangs its process) is then failed, not claimed forever.
//! * Finished jobs are kept for a while (who ran what, and why it failed),
//!   then pruned ([`JobStore::prune_jobs`]), so the queue does not grow
//!   with every run of every feed.
//!
//! Times are the callers' Unix seconds, so replicas need clocks in step
//! (NTP); a lease is only as good as that.

use cordon_model::Timestamp;

use crate::StoreError;

/// Claims of one job before a lease that runs out fails it instead of
/// handing it out again.
pub const MAX_ATTEMPTS: u32 = 3;

/// Why a job that ran out of attempts failed.
pub const ABANDONED: &str = "abandoned: every worker that claimed it stopped before it finished";

/// A job handed to a worker by [`JobStore::claim_job`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// What to do (`feed-run`).
    pub kind: String,
    /// What it is about (a feed's id).
    pub subject: i64,
    /// How many times it was claimed, this claim included (more than 1:
    /// a worker died or lost its lease before finishing it).
    pub attempts: u32,
    /// When the claim runs out unless renewed.
    pub lease_until: Timestamp,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker (whose lease may have run out).
    Running,
    /// Finished.
    Done,
    /// Finished with an error.
    Failed,
}

impl JobState {
    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// The state a stored name names.
    pub(crate) fn parse(name: &str) -> Result<JobState, StoreError> {
        match name {
            "queued" => Ok(JobState::Queued),
            "running" => Ok(JobState::Running),
            "done" => Ok(JobState::Done),
            "failed" => Ok(JobState::Failed),
            other => Err(StoreError::Database(format!("unknown job state '{other}'"))),
        }
    }
}

/// A job as stored, whatever its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// Its id.
    pub id: i64,
    /// What to do.
    pub kind: String,
    /// What makes it unique.
    pub key: String,
    /// What it is about.
    pub subject: i64,
    /// Where it is.
    pub state: JobState,
    /// The worker that claimed it last.
    pub owner: Option<String>,
    /// How many times it was claimed.
    pub attempts: u32,
    /// Why it failed.
    pub error: Option<String>,
}

/// The job queue, implemented by every backend.
pub trait JobStore {
    /// Queues a job of `kind` about `subject` unless one with `key` was
    /// ever queued; whether it was queued now.
    fn enqueue_job(&self, kind: &str, key: &str, subject: i64, now: Timestamp) -> Result<bool, StoreError>;

    /// Claims, for `owner` until `lease_until`, the oldest job that is
    /// queued or whose lease ran out before `now`; `None` when there is
    /// none. Two callers never get the same job while its lease holds. A
    /// job whose lease ran out after [`MAX_ATTEMPTS`] claims is failed
    /// ([`ABANDONED`]) instead.
    fn claim_job(&self, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<Job>, StoreError>;

    /// Extends `owner`'s claim on job `id` to `lease_until`; false when the
    /// job is no longer its (finished, or re-claimed after its lease ran
    /// out).
    fn renew_job(&self, id: i64, owner: &str, lease_until: Timestamp) -> Result<bool, StoreError>;

    /// Finishes `owner`'s job `id` (failed with `error` when given); false
    /// when the job is no longer its.
    fn finish_job(&self, id: i64, owner: &str, error: Option<&str>, now: Timestamp) -> Result<bool, StoreError>;

    /// Job `id` as stored, if there is one.
    fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError>;

    /// Deletes the jobs that finished before `before`; how many. Their
    /// keys may then be queued again, so `before` must lie past any due
    /// time a key could name again.
    fn prune_jobs(&self, before: Timestamp) -> Result<u64, StoreError>;
}
