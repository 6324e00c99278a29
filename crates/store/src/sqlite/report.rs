//! The operation report's aggregates (see [`ReportCounts`]): each is one
//! `GROUP BY` over the operation's targets or their history, read inside
//! one savepoint so that they all see the same snapshot.

use rusqlite::{params, Row};

use super::ops::{conversion, split, state};
use super::{Conn, Nested};
use crate::ops::{DayEvents, ReportCounts, StateCount, TargetKind, TargetState};
use crate::StoreError;

/// Each target's first `identified` (`?2`) and first `taken-down` (`?3`)
/// transition: SQLite takes the bare `time` from the row of `MIN(x.id)`.
const FIRSTS: &str = "firsts AS MATERIALIZED (
        SELECT x.target_id, x.to_state AS event, x.time, MIN(x.id)
        FROM targets t JOIN transitions x ON x.target_id = t.id
        WHERE t.operation_id = ?1 AND x.to_state IN (?2, ?3)
        GROUP BY x.target_id, x.to_state)";

/// Reads every aggregate of `operation_id`'s report.
pub(super) fn counts(conn: &Conn, operation_id: i64) -> Result<ReportCounts, StoreError> {
    let snapshot = Nested::new(&conn.conn)?;
    let grouped = |key_sql: &str| {
        format!("SELECT {key_sql}, state, COUNT(*) FROM targets t WHERE t.operation_id = ?1 GROUP BY 1, 2")
    };
    let text = |row: &Row<'_>| row.get::<_, Option<String>>(0);
    let kinds = state_counts(&snapshot, &grouped("t.kind"), operation_id, 1, |row| {
        Ok(TargetKind::from_name(&row.get::<_, String>(0)?))
    })?;
    let countries = state_counts(&snapshot, &grouped("t.country"), operation_id, 1, text)?;
    let provider = "COALESCE(t.as_org, CASE WHEN t.provider_email IS NOT NULL THEN t.provider_name END)";
    let providers = state_counts(&snapshot, &grouped(provider), operation_id, 1, text)?;
    let categories = state_counts(&snapshot, &grouped("t.categories"), operation_id, 1, |row| {
        split(&row.get::<_, String>(0)?).map(|c| c.parse().map_err(conversion)).collect()
    })?;
    let false_positive = "t.partners, EXISTS (SELECT 1 FROM transitions x WHERE x.target_id = t.id
        AND x.to_state = 'rejected' AND x.reason = 'false-positive')";
    let partners = state_counts(
        &snapshot,
        &format!("SELECT {false_positive}, state, COUNT(*) FROM targets t WHERE t.operation_id = ?1 GROUP BY 1, 2, 3"),
        operation_id,
        2,
        |row| Ok((split(&row.get::<_, String>(0)?).map(str::to_string).collect(), row.get(1)?)),
    )?;
    let mut stmt = snapshot.prepare_cached(
        "SELECT x.to_state, COUNT(DISTINCT x.target_id) FROM targets t JOIN transitions x ON x.target_id = t.id
         WHERE t.operation_id = ?1 GROUP BY x.to_state",
    )?;
    let reached = stmt
        .query_map([operation_id], |row| Ok((state(&row.get::<_, String>(0)?)?, count(row, 1)?)))?
        .collect::<Result<_, _>>()?;
    let events = params![operation_id, TargetState::Identified.as_str(), TargetState::TakenDown.as_str()];
    let mut stmt = snapshot.prepare_cached(&format!(
        "WITH {FIRSTS}
         SELECT MIN(f.time), MAX(f.time), f.event, t.state, COUNT(*) FROM firsts f JOIN targets t ON t.id = f.target_id
         GROUP BY (f.time - ((f.time % 86400) + 86400) % 86400) / 86400, f.event, t.state"
    ))?;
    let days = stmt
        .query_map(events, |row| {
            Ok(DayEvents {
                first: row.get(0)?,
                last: row.get(1)?,
                event: state(&row.get::<_, String>(2)?)?,
                state: state(&row.get::<_, String>(3)?)?,
                targets: count(row, 4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = snapshot.prepare_cached(&format!(
        "WITH {FIRSTS},
         waits AS MATERIALIZED (SELECT down.time - up.time AS seconds FROM firsts up
             JOIN firsts down ON down.target_id = up.target_id WHERE up.event = ?2 AND down.event = ?3)
         SELECT seconds FROM waits ORDER BY seconds
         LIMIT 2 - (SELECT COUNT(*) FROM waits) % 2 OFFSET ((SELECT COUNT(*) FROM waits) - 1) / 2"
    ))?;
    let middle_seconds_to_takedown = stmt.query_map(events, |row| row.get(0))?.collect::<Result<_, _>>()?;
    let countries_involved = snapshot.query_row(
        "SELECT COUNT(*) FROM (SELECT country FROM targets WHERE operation_id = ?1 AND country IS NOT NULL
         UNION SELECT country FROM outcomes WHERE operation_id = ?1)",
        [operation_id],
        |row| count(row, 0),
    )?;
    let mut stmt = snapshot.prepare_cached(
        "SELECT country, kind, SUM(MAX(count, 0)) FROM outcomes WHERE operation_id = ?1 GROUP BY country, kind",
    )?;
    let outcomes = stmt
        .query_map([operation_id], |row| Ok((row.get(0)?, row.get(1)?, count(row, 2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(ReportCounts {
        kinds,
        countries,
        providers,
        categories,
        partners,
        reached,
        days,
        middle_seconds_to_takedown,
        countries_involved,
        outcomes,
    })
}

/// Runs a `GROUP BY` whose key columns come first, then the state (column
/// `state_column`) and the count.
fn state_counts<K>(
    conn: &rusqlite::Connection,
    sql: &str,
    operation_id: i64,
    state_column: usize,
    key: impl Fn(&Row<'_>) -> rusqlite::Result<K>,
) -> Result<Vec<StateCount<K>>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([operation_id], |row| {
        Ok(StateCount {
            key: key(row)?,
            state: state(&row.get::<_, String>(state_column)?)?,
            targets: count(row, state_column + 1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A count column as `u64`.
fn count(row: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(column)?).unwrap_or(0))
}
