//! PostgreSQL implementation of the feeds (see `crate::feeds`).

use cordon_model::Timestamp;
use postgres::Row;

use super::{get, Conn};
use crate::feeds::{Feed, FeedRun, FeedSpec, FeedState, FeedStore};
use crate::StoreError;

/// The columns [`feed_from_row`] reads, in its order.
const FEED_COLUMNS: &str = "id, name, url, source, format, tlp, category, every, basic_auth_env, unix(created),
                            etag, last_modified, cursor, unix(last_run), unix(last_success), last_error,
                            unix(next_run)";

/// An optional text column that must parse (a TLP, a category).
fn parsed_opt<T: std::str::FromStr>(row: &Row, i: usize) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    let text: Option<&str> = get(row, i)?;
    text.map(|t| t.parse().map_err(|e: T::Err| StoreError::Database(format!("unreadable stored value '{t}': {e}"))))
        .transpose()
}

fn feed_from_row(row: &Row) -> Result<Feed, StoreError> {
    Ok(Feed {
        id: get(row, 0)?,
        spec: FeedSpec {
            name: get(row, 1)?,
            url: get(row, 2)?,
            source: get(row, 3)?,
            format: get(row, 4)?,
            tlp: parsed_opt(row, 5)?,
            category: parsed_opt(row, 6)?,
            every: get(row, 7)?,
            headers: Vec::new(),
            basic_auth_env: get(row, 8)?,
        },
        created: get(row, 9)?,
        state: FeedState { etag: get(row, 10)?, last_modified: get(row, 11)?, cursor: get(row, 12)? },
        last_run: get(row, 13)?,
        last_success: get(row, 14)?,
        last_error: get(row, 15)?,
        next_run: get(row, 16)?,
    })
}

impl FeedStore for Conn {
    fn add_feed(&self, spec: &FeedSpec, now: Timestamp) -> Result<Feed, StoreError> {
        let id = self.transaction(None, |c| {
            let inserted = c.query_opt(
                "INSERT INTO feeds (name, url, source, format, tlp, category, every, basic_auth_env, created, next_run)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ts($9), ts($9))
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[
                    &spec.name,
                    &spec.url,
                    &spec.source,
                    &spec.format,
                    &spec.tlp.map(|t| t.as_str()),
                    &spec.category.map(|c| c.as_str()),
                    &spec.every,
                    &spec.basic_auth_env,
                    &now,
                ],
            )?;
            let Some(row) = inserted else {
                return Err(StoreError::Conflict(format!("there is already a feed named '{}'", spec.name)));
            };
            let id: i64 = get(&row, 0)?;
            for (position, (name, value)) in spec.headers.iter().enumerate() {
                c.execute(
                    "INSERT INTO feed_headers (feed_id, position, name, value) VALUES ($1, $2, $3, $4)",
                    &[&id, &(position as i64), name, value],
                )?;
            }
            Ok(id)
        })?;
        self.feeds()?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or_else(|| StoreError::Database("the new feed vanished".to_string()))
    }

    fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        let rows = self.query(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY name"), &[])?;
        let mut feeds: Vec<Feed> = rows.iter().map(feed_from_row).collect::<Result<_, _>>()?;
        for feed in &mut feeds {
            let headers =
                self.query("SELECT name, value FROM feed_headers WHERE feed_id = $1 ORDER BY position", &[&feed.id])?;
            feed.spec.headers =
                headers.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect::<Result<_, StoreError>>()?;
        }
        Ok(feeds)
    }

    fn remove_feed(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.execute("DELETE FROM feeds WHERE name = $1", &[&name])? > 0)
    }

    fn record_feed_run(
        &self,
        feed_id: i64,
        run: &FeedRun,
        state: &FeedState,
        next_run: Timestamp,
    ) -> Result<(), StoreError> {
        self.transaction(None, |c| {
            if c.query_opt("SELECT id FROM feeds WHERE id = $1 FOR UPDATE", &[&feed_id])?.is_none() {
                return Err(StoreError::Conflict(format!("the feed '{}' was removed meanwhile", run.feed)));
            }
            c.execute(
                "INSERT INTO feed_runs (feed, time, url, status, bytes, import_id, error)
                 VALUES ($1, ts($2), $3, $4, $5, $6, $7)",
                &[
                    &run.feed,
                    &run.time,
                    &run.url,
                    &run.status.map(i64::from),
                    &i64::try_from(run.bytes).unwrap_or(i64::MAX),
                    &run.import_id,
                    &run.error,
                ],
            )?;
            match &run.error {
                None => c.execute(
                    "UPDATE feeds SET etag = $2, last_modified = $3, cursor = $4, last_run = ts($5),
                                      last_success = ts($5), last_error = NULL, next_run = ts($6)
                     WHERE id = $1",
                    &[&feed_id, &state.etag, &state.last_modified, &state.cursor, &run.time, &next_run],
                )?,
                Some(error) => c.execute(
                    "UPDATE feeds SET last_run = ts($2), last_error = $3, next_run = ts($4) WHERE id = $1",
                    &[&feed_id, &run.time, error, &next_run],
                )?,
            };
            Ok(())
        })
    }

    fn feed_runs(&self, name: &str, limit: usize) -> Result<Vec<FeedRun>, StoreError> {
        let rows = self.query(
            "SELECT feed, unix(time), url, status, bytes, import_id, error FROM feed_runs
             WHERE feed = $1 ORDER BY id DESC LIMIT $2",
            &[&name, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        rows.iter()
            .map(|r| {
                let status: Option<i64> = get(r, 3)?;
                Ok(FeedRun {
                    feed: get(r, 0)?,
                    time: get(r, 1)?,
                    url: get(r, 2)?,
                    status: status.and_then(|s| u16::try_from(s).ok()),
                    bytes: get::<i64>(r, 4)?.max(0) as u64,
                    import_id: get(r, 5)?,
                    error: get(r, 6)?,
                })
            })
            .collect()
    }
}
