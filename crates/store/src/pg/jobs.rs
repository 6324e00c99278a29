//! PostgreSQL implementation of the job queue (see `crate::jobs`): the
//! claiming `UPDATE` picks its row with `FOR UPDATE SKIP LOCKED`, so
//! replicas claiming at once each get another job, and none waits for
//! another's claim.

use cordon_model::Timestamp;
use postgres::Row;

use super::{get, Conn};
use crate::jobs::{Job, JobRecord, JobState, JobStore, ABANDONED, MAX_ATTEMPTS};
use crate::StoreError;

fn job_from_row(row: &Row) -> Result<Job, StoreError> {
    Ok(Job {
        id: get(row, 0)?,
        kind: get(row, 1)?,
        subject: get(row, 2)?,
        attempts: u32::try_from(get::<i32>(row, 3)?).unwrap_or(0),
        lease_until: get(row, 4)?,
    })
}

impl JobStore for Conn {
    fn enqueue_job(&self, kind: &str, key: &str, subject: i64, now: Timestamp) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO jobs (kind, key, subject, state, created) VALUES ($1, $2, $3, 'queued', ts($4))
             ON CONFLICT (key) DO NOTHING",
            &[&kind, &key, &subject, &now],
        )?;
        Ok(inserted == 1)
    }

    fn claim_job(&self, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<Job>, StoreError> {
        // Replicas failing the same job at once agree: the condition is
        // checked again under the row's lock.
        let attempts = i32::try_from(MAX_ATTEMPTS).unwrap_or(i32::MAX);
        self.execute(
            "UPDATE jobs SET state = 'failed', error = $3, finished = ts($1), lease_until = NULL
             WHERE state = 'running' AND lease_until < ts($1) AND attempts >= $2",
            &[&now, &attempts, &ABANDONED],
        )?;
        let row = self.query_opt(
            "UPDATE jobs SET state = 'running', owner = $1, lease_until = ts($3), attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE state = 'queued' OR (state = 'running' AND lease_until < ts($2))
                         ORDER BY id LIMIT 1
                         FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, subject, attempts, unix(lease_until)",
            &[&owner, &now, &lease_until],
        )?;
        row.as_ref().map(job_from_row).transpose()
    }

    fn renew_job(&self, id: i64, owner: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        let renewed = self.execute(
            "UPDATE jobs SET lease_until = ts($3) WHERE id = $1 AND owner = $2 AND state = 'running'",
            &[&id, &owner, &lease_until],
        )?;
        Ok(renewed == 1)
    }

    fn finish_job(&self, id: i64, owner: &str, error: Option<&str>, now: Timestamp) -> Result<bool, StoreError> {
        let state = if error.is_some() { JobState::Failed } else { JobState::Done };
        let finished = self.execute(
            "UPDATE jobs SET state = $3, error = $4, finished = ts($5), lease_until = NULL
             WHERE id = $1 AND owner = $2 AND state = 'running'",
            &[&id, &owner, &state.as_str(), &error, &now],
        )?;
        Ok(finished == 1)
    }

    fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let Some(row) = self.query_opt(
            "SELECT id, kind, key, subject, state, owner, attempts, error FROM jobs WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(JobRecord {
            id: get(&row, 0)?,
            kind: get(&row, 1)?,
            key: get(&row, 2)?,
            subject: get(&row, 3)?,
            state: JobState::parse(get(&row, 4)?)?,
            owner: get(&row, 5)?,
            attempts: u32::try_from(get::<i32>(&row, 6)?).unwrap_or(0),
            error: get(&row, 7)?,
        }))
    }

    fn prune_jobs(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.execute("DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished < ts($1)", &[&before])
    }
}
