//! PostgreSQL implementation of [`AuditStore`]. Appends are serialised by
//! a lock on the table (readers go on reading), so that two servers never
//! chain two rows to the same predecessor.

use cordon_model::Timestamp;
use postgres::Row;

use super::{get, Conn};
use crate::audit::{chain_hash, AuditEntry, AuditRow, AuditStore, Broken};
use crate::StoreError;

/// The `prev` of the first row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const COLUMNS: &str = "id, unix(time), actor, org, action, object, result, prev, hash";

fn audit_row(r: &Row) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        id: get(r, 0)?,
        entry: AuditEntry {
            time: get(r, 1)?,
            user: get(r, 2)?,
            org: get(r, 3)?,
            action: get(r, 4)?,
            object: get(r, 5)?,
            result: get(r, 6)?,
        },
        prev: get(r, 7)?,
        hash: get(r, 8)?,
    })
}

impl AuditStore for Conn {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        self.transaction(None, |c| {
            c.client().batch_execute("LOCK TABLE audit IN EXCLUSIVE MODE")?;
            let mut prev = match c.query_opt("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", &[])? {
                Some(row) => get(&row, 0)?,
                None => GENESIS.to_string(),
            };
            for entry in entries {
                let hash = chain_hash(&prev, entry);
                c.execute(
                    "INSERT INTO audit (time, actor, org, action, object, result, prev, hash)
                     VALUES (ts($1), $2, $3, $4, $5, $6, $7, $8)",
                    &[&entry.time, &entry.user, &entry.org, &entry.action, &entry.object, &entry.result, &prev, &hash],
                )?;
                prev = hash;
            }
            Ok(())
        })
    }

    fn audit(&self, user: Option<&str>, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit WHERE ($1::text IS NULL OR actor = $1::text)
               AND ($2::bigint IS NULL OR time >= ts($2::bigint))
             ORDER BY id LIMIT $3"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(&sql, &[&user, &since, &limit])?.iter().map(audit_row).collect()
    }

    fn verify_audit(&self) -> Result<(u64, Option<Broken>), StoreError> {
        let mut prev = GENESIS.to_string();
        let mut checked = 0;
        let mut broken = None;
        self.stream(&format!("SELECT {COLUMNS} FROM audit ORDER BY id"), &[], |row| {
            let row = audit_row(row)?;
            checked += 1;
            if row.prev != prev {
                broken = Some(Broken { id: row.id, reason: "it does not follow the row before".into() });
            } else if chain_hash(&row.prev, &row.entry) != row.hash {
                broken = Some(Broken { id: row.id, reason: "its content does not match its hash".into() });
            }
            prev = row.hash;
            Ok(broken.is_none())
        })?;
        Ok((checked, broken))
    }
}
