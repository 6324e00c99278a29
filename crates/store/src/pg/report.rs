//! The operation report's aggregates (see [`ReportCounts`]): each is one
//! `GROUP BY` over the operation's targets or their history, read inside
//! one `REPEATABLE READ` transaction so that they all see one snapshot.

use postgres::Row;

use super::ops::parse_all;
use super::{count, get, parsed, Conn};
use crate::ops::{DayEvents, ReportCounts, StateCount, TargetKind, TargetState};
use crate::StoreError;

/// Each target's first `identified` (`$2`) and first `taken-down` (`$3`)
/// transition, first in the order they were appended: one sort of the
/// operation's transitions of those two states (2.4 s with the day counts
/// at 1M targets).
const FIRSTS: &str = "firsts AS MATERIALIZED (
        SELECT DISTINCT ON (x.target_id, x.to_state) x.target_id, x.to_state AS event, x.time
        FROM targets t JOIN transitions x ON x.target_id = t.id
        WHERE t.operation_id = $1 AND x.to_state IN ($2, $3)
        ORDER BY x.target_id, x.to_state, x.id)";

/// Reads every aggregate of `operation_id`'s report.
pub(super) fn counts(conn: &Conn, operation_id: i64) -> Result<ReportCounts, StoreError> {
    conn.transaction(None, |c| {
        if c.depth.get() == 1 {
            c.client().batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        read(c, operation_id)
    })
}

fn read(c: &Conn, operation_id: i64) -> Result<ReportCounts, StoreError> {
    let grouped = |key_sql: &str| {
        format!(
            "SELECT {key_sql}, state, count(*) FROM targets t WHERE t.operation_id = $1 GROUP BY 1, 2 ORDER BY 1, 2"
        )
    };
    let kinds = state_counts(c, &grouped("t.kind"), operation_id, 1, |row| Ok(TargetKind::from_name(get(row, 0)?)))?;
    let countries = state_counts(c, &grouped("t.country"), operation_id, 1, |row| get(row, 0))?;
    let provider = "coalesce(t.as_org, CASE WHEN t.provider_email IS NOT NULL THEN t.provider_name END)";
    let providers = state_counts(c, &grouped(provider), operation_id, 1, |row| get(row, 0))?;
    let categories = state_counts(c, &grouped("t.categories"), operation_id, 1, |row| parse_all(get(row, 0)?))?;
    let false_positive = "t.partners, EXISTS (SELECT 1 FROM transitions x WHERE x.target_id = t.id
        AND x.to_state = 'rejected' AND x.reason = 'false-positive')";
    let partners = state_counts(
        c,
        &format!(
            "SELECT {false_positive}, state, count(*) FROM targets t WHERE t.operation_id = $1
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ),
        operation_id,
        2,
        |row| Ok((get(row, 0)?, get(row, 1)?)),
    )?;
    let reached = c
        .query(
            "SELECT x.to_state, count(DISTINCT x.target_id) FROM targets t JOIN transitions x ON x.target_id = t.id
             WHERE t.operation_id = $1 GROUP BY x.to_state ORDER BY 1",
            &[&operation_id],
        )?
        .iter()
        .map(|row| Ok((parsed(row, 0)?, count(row, 1)?)))
        .collect::<Result<_, StoreError>>()?;
    let (identified, taken_down) = (TargetState::Identified.as_str(), TargetState::TakenDown.as_str());
    let days = c
        .query(
            &format!(
                "WITH {FIRSTS}
                 SELECT unix(min(f.time)), unix(max(f.time)), f.event, t.state, count(*)
                 FROM firsts f JOIN targets t ON t.id = f.target_id
                 GROUP BY date_trunc('day', f.time AT TIME ZONE 'UTC'), f.event, t.state ORDER BY 1, 3, 4"
            ),
            &[&operation_id, &identified, &taken_down],
        )?
        .iter()
        .map(|row| {
            Ok(DayEvents {
                first: get(row, 0)?,
                last: get(row, 1)?,
                event: parsed(row, 2)?,
                state: parsed(row, 3)?,
                targets: count(row, 4)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    // The targets taken down, and each one's wait from its first
    // `identified` to its first `taken-down`, the former found through the
    // target's own history (an index probe per target taken down): linear
    // in the targets taken down, where a join of two lists of first events
    // is at the mercy of the planner's guess at their length (a nested loop
    // over a million of each did not end).
    let middle_seconds_to_takedown = c
        .query(
            "WITH downs AS MATERIALIZED (
                 SELECT DISTINCT ON (x.target_id) x.target_id, x.time
                 FROM targets t JOIN transitions x ON x.target_id = t.id
                 WHERE t.operation_id = $1 AND x.to_state = $3
                 ORDER BY x.target_id, x.id),
             waits AS MATERIALIZED (
                 SELECT unix(d.time) - unix(up.time) AS seconds FROM downs d
                 JOIN LATERAL (SELECT x.time FROM transitions x WHERE x.target_id = d.target_id AND x.to_state = $2
                               ORDER BY x.id LIMIT 1) up ON true)
             SELECT seconds FROM waits ORDER BY seconds
             LIMIT 2 - (SELECT count(*) FROM waits) % 2 OFFSET ((SELECT count(*) FROM waits) - 1) / 2",
            &[&operation_id, &identified, &taken_down],
        )?
        .iter()
        .map(|row| get(row, 0))
        .collect::<Result<_, StoreError>>()?;
    let countries_involved = c.query(
        "SELECT count(*) FROM (SELECT country FROM targets WHERE operation_id = $1 AND country IS NOT NULL
         UNION SELECT country FROM outcomes WHERE operation_id = $1) c",
        &[&operation_id],
    )?;
    let countries_involved = countries_involved.first().map(|row| count(row, 0)).transpose()?.unwrap_or(0);
    let outcomes = c
        .query(
            "SELECT country, kind, sum(greatest(count, 0))::bigint FROM outcomes WHERE operation_id = $1
             GROUP BY country, kind ORDER BY 1, 2",
            &[&operation_id],
        )?
        .iter()
        .map(|row| Ok((get(row, 0)?, get(row, 1)?, count(row, 2)?)))
        .collect::<Result<_, StoreError>>()?;
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
    c: &Conn,
    sql: &str,
    operation_id: i64,
    state_column: usize,
    key: impl Fn(&Row) -> Result<K, StoreError>,
) -> Result<Vec<StateCount<K>>, StoreError> {
    c.query(sql, &[&operation_id])?
        .iter()
        .map(|row| {
            Ok(StateCount { key: key(row)?, state: parsed(row, state_column)?, targets: count(row, state_column + 1)? })
        })
        .collect()
}
