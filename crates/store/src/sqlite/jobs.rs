//! SQLite implementation of the job queue (see `crate::jobs`): a claim is
//! one `IMMEDIATE` transaction, so claims of every process on the file
//! take turns.

use cordon_model::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::{Conn, SqliteStore};
use crate::jobs::{Job, JobRecord, JobState, JobStore, ABANDONED, MAX_ATTEMPTS};
use crate::StoreError;

impl JobStore for Conn {
    fn enqueue_job(&self, kind: &str, key: &str, subject: i64, now: Timestamp) -> Result<bool, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO jobs (kind, key, subject, state, created) VALUES (?1, ?2, ?3, 'queued', ?4)
             ON CONFLICT (key) DO NOTHING",
            )?
            .execute(params![kind, key, subject, now])?;
        Ok(inserted == 1)
    }

    fn claim_job(&self, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<Job>, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "UPDATE jobs SET state = 'failed', error = ?3, finished = ?1, lease_until = NULL
             WHERE state = 'running' AND lease_until < ?1 AND attempts >= ?2",
        )?
        .execute(params![now, MAX_ATTEMPTS, ABANDONED])?;
        let job = tx
            .prepare_cached(
                "UPDATE jobs SET state = 'running', owner = ?1, lease_until = ?3, attempts = attempts + 1
                 WHERE id = (SELECT id FROM jobs
                             WHERE state = 'queued' OR (state = 'running' AND lease_until < ?2)
                             ORDER BY id LIMIT 1)
                 RETURNING id, kind, subject, attempts, lease_until",
            )?
            .query_row(params![owner, now, lease_until], |r| {
                Ok(Job {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    subject: r.get(2)?,
                    attempts: r.get(3)?,
                    lease_until: r.get(4)?,
                })
            })
            .optional()?;
        tx.commit()?;
        Ok(job)
    }

    fn renew_job(&self, id: i64, owner: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        let renewed = self
            .conn
            .prepare_cached("UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND owner = ?2 AND state = 'running'")?
            .execute(params![id, owner, lease_until])?;
        Ok(renewed == 1)
    }

    fn finish_job(&self, id: i64, owner: &str, error: Option<&str>, now: Timestamp) -> Result<bool, StoreError> {
        let state = if error.is_some() { JobState::Failed } else { JobState::Done };
        let finished = self
            .conn
            .prepare_cached(
                "UPDATE jobs SET state = ?3, error = ?4, finished = ?5, lease_until = NULL
                 WHERE id = ?1 AND owner = ?2 AND state = 'running'",
            )?
            .execute(params![id, owner, state.as_str(), error, now])?;
        Ok(finished == 1)
    }

    fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT id, kind, key, subject, state, owner, attempts, error FROM jobs WHERE id = ?1")?
            .query_row(params![id], |r| {
                Ok((
                    JobRecord {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        key: r.get(2)?,
                        subject: r.get(3)?,
                        state: JobState::Queued,
                        owner: r.get(5)?,
                        attempts: r.get(6)?,
                        error: r.get(7)?,
                    },
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        row.map(|(record, state)| Ok(JobRecord { state: JobState::parse(&state)?, ..record })).transpose()
    }

    fn prune_jobs(&self, before: Timestamp) -> Result<u64, StoreError> {
        let pruned = self
            .conn
            .prepare_cached("DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished < ?1")?
            .execute([before])?;
        Ok(pruned as u64)
    }
}

impl JobStore for SqliteStore {
    fn enqueue_job(&self, kind: &str, key: &str, subject: i64, now: Timestamp) -> Result<bool, StoreError> {
        self.write(|c| c.enqueue_job(kind, key, subject, now))
    }

    fn claim_job(&self, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<Job>, StoreError> {
        self.write(|c| c.claim_job(owner, now, lease_until))
    }

    fn renew_job(&self, id: i64, owner: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        self.write(|c| c.renew_job(id, owner, lease_until))
    }

    fn finish_job(&self, id: i64, owner: &str, error: Option<&str>, now: Timestamp) -> Result<bool, StoreError> {
        self.write(|c| c.finish_job(id, owner, error, now))
    }

    fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        self.read(|c| c.job(id))
    }

    fn prune_jobs(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.write(|c| c.prune_jobs(before))
    }
}
