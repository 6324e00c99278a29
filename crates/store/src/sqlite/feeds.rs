//! SQLite implementation of the feeds (see `crate::feeds`).

use rusqlite::{params, OptionalExtension};

use super::collections::parse;
use super::{Conn, SqliteStore};
use crate::feeds::{Feed, FeedRun, FeedSpec, FeedState, FeedStore};
use crate::StoreError;
use cordon_model::Timestamp;

/// The columns [`feed_from_row`] reads, in its order.
const FEED_COLUMNS: &str = "id, name, url, source, format, tlp, category, every, basic_auth_env, created,
                            etag, last_modified, cursor, last_run, last_success, last_error, next_run";

fn feed_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Feed> {
    let optional = |i: usize| -> rusqlite::Result<Option<String>> { row.get(i) };
    Ok(Feed {
        id: row.get(0)?,
        spec: FeedSpec {
            name: row.get(1)?,
            url: row.get(2)?,
            source: row.get(3)?,
            format: optional(4)?,
            tlp: optional(5)?.map(|t| parse(&t)).transpose()?,
            category: optional(6)?.map(|c| parse(&c)).transpose()?,
            every: row.get(7)?,
            headers: Vec::new(),
            basic_auth_env: optional(8)?,
        },
        created: row.get(9)?,
        state: FeedState { etag: optional(10)?, last_modified: optional(11)?, cursor: optional(12)? },
        last_run: row.get(13)?,
        last_success: row.get(14)?,
        last_error: optional(15)?,
        next_run: row.get(16)?,
    })
}

impl Conn {
    fn feed_headers(&self, feed_id: i64) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT name, value FROM feed_headers WHERE feed_id = ?1 ORDER BY position")?;
        let rows = stmt.query_map(params![feed_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl FeedStore for Conn {
    fn add_feed(&self, spec: &FeedSpec, now: Timestamp) -> Result<Feed, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let inserted = tx.execute(
            "INSERT INTO feeds (name, url, source, format, tlp, category, every, basic_auth_env, created, next_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (name) DO NOTHING",
            params![
                spec.name,
                spec.url,
                spec.source,
                spec.format,
                spec.tlp.map(|t| t.as_str()),
                spec.category.map(|c| c.as_str()),
                spec.every,
                spec.basic_auth_env,
                now,
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("there is already a feed named '{}'", spec.name)));
        }
        let id = tx.last_insert_rowid();
        for (position, (name, value)) in spec.headers.iter().enumerate() {
            tx.execute(
                "INSERT INTO feed_headers (feed_id, position, name, value) VALUES (?1, ?2, ?3, ?4)",
                params![id, position as i64, name, value],
            )?;
        }
        tx.commit()?;
        self.feeds()?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or_else(|| StoreError::Database("the new feed vanished".to_string()))
    }

    fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY name"))?;
        let mut feeds: Vec<Feed> = stmt.query_map([], feed_from_row)?.collect::<Result<_, _>>()?;
        for feed in &mut feeds {
            feed.spec.headers = self.feed_headers(feed.id)?;
        }
        Ok(feeds)
    }

    fn remove_feed(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM feeds WHERE name = ?1", params![name])? > 0)
    }

    fn record_feed_run(
        &self,
        feed_id: i64,
        run: &FeedRun,
        state: &FeedState,
        next_run: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM feeds WHERE id = ?1", params![feed_id], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(StoreError::Conflict(format!("the feed '{}' was removed meanwhile", run.feed)));
        }
        tx.execute(
            "INSERT INTO feed_runs (feed, time, url, status, bytes, import_id, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run.feed,
                run.time,
                run.url,
                run.status,
                i64::try_from(run.bytes).unwrap_or(i64::MAX),
                run.import_id,
                run.error
            ],
        )?;
        match &run.error {
            None => tx.execute(
                "UPDATE feeds SET etag = ?2, last_modified = ?3, cursor = ?4, last_run = ?5, last_success = ?5,
                                  last_error = NULL, next_run = ?6
                 WHERE id = ?1",
                params![feed_id, state.etag, state.last_modified, state.cursor, run.time, next_run],
            )?,
            Some(error) => tx.execute(
                "UPDATE feeds SET last_run = ?2, last_error = ?3, next_run = ?4 WHERE id = ?1",
                params![feed_id, run.time, error, next_run],
            )?,
        };
        tx.commit()?;
        Ok(())
    }

    fn feed_runs(&self, name: &str, limit: usize) -> Result<Vec<FeedRun>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT feed, time, url, status, bytes, import_id, error FROM feed_runs
             WHERE feed = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![name, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(FeedRun {
                feed: r.get(0)?,
                time: r.get(1)?,
                url: r.get(2)?,
                status: r.get(3)?,
                bytes: r.get::<_, i64>(4)?.max(0) as u64,
                import_id: r.get(5)?,
                error: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl FeedStore for SqliteStore {
    fn add_feed(&self, spec: &FeedSpec, now: Timestamp) -> Result<Feed, StoreError> {
        self.write(|c| c.add_feed(spec, now))
    }

    fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        self.read(|c| c.feeds())
    }

    fn remove_feed(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|c| c.remove_feed(name))
    }

    fn record_feed_run(
        &self,
        feed_id: i64,
        run: &FeedRun,
        state: &FeedState,
        next_run: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|c| c.record_feed_run(feed_id, run, state, next_run))
    }

    fn feed_runs(&self, name: &str, limit: usize) -> Result<Vec<FeedRun>, StoreError> {
        self.read(|c| c.feed_runs(name, limit))
    }
}
