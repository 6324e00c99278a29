//! SQLite implementation of [`AuditStore`].

use cordon_model::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use super::Conn;
use crate::audit::{chain_hash, AuditEntry, AuditRow, AuditStore, Broken};
use crate::StoreError;

/// The `prev` of the first row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        entry: AuditEntry {
            time: r.get(1)?,
            user: r.get(2)?,
            org: r.get(3)?,
            action: r.get(4)?,
            object: r.get(5)?,
            result: r.get(6)?,
        },
        prev: r.get(7)?,
        hash: r.get(8)?,
    })
}

const COLUMNS: &str = "id, time, user, org, action, object, result, prev, hash";

impl AuditStore for Conn {
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        // IMMEDIATE: the write lock is taken (waited for) before the chain's
        // last hash is read; a deferred transaction would fail with
        // SQLITE_BUSY, not wait, when another process wrote in between.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        let mut prev: String = tx
            .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| GENESIS.to_string());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO audit (time, user, org, action, object, result, prev, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for entry in entries {
                let hash = chain_hash(&prev, entry);
                insert.execute(params![
                    entry.time,
                    entry.user,
                    entry.org,
                    entry.action,
                    entry.object,
                    entry.result,
                    prev,
                    hash
                ])?;
                prev = hash;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn audit(&self, user: Option<&str>, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR time >= ?2)
             ORDER BY id LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![user, since, limit as i64], audit_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn verify_audit(&self) -> Result<(u64, Option<Broken>), StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM audit ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let mut prev = GENESIS.to_string();
        let mut checked = 0;
        while let Some(row) = rows.next()? {
            let row = audit_row(row)?;
            checked += 1;
            if row.prev != prev {
                return Ok((checked, Some(Broken { id: row.id, reason: "it does not follow the row before".into() })));
            }
            if chain_hash(&row.prev, &row.entry) != row.hash {
                return Ok((
                    checked,
                    Some(Broken { id: row.id, reason: "its content does not match its hash".into() }),
                ));
            }
            prev = row.hash;
        }
        Ok((checked, None))
    }
}
