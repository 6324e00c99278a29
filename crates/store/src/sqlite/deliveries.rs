//! SQLite implementation of the delivery reads (see `crate::deliveries`).

use rusqlite::params;

use super::{Conn, SqliteStore};
use crate::deliveries::{DeliveryStore, NotificationRecord, PackageRecord};
use crate::StoreError;

impl DeliveryStore for Conn {
    fn packages(&self, operation_id: i64) -> Result<Vec<PackageRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.operation_id, p.country, p.path, p.manifest_sha256, p.created,
                    (SELECT count(*) FROM package_targets pt WHERE pt.package_id = p.id)
             FROM packages p WHERE p.operation_id = ?1 ORDER BY p.created, p.id",
        )?;
        let rows = stmt.query_map(params![operation_id], |r| {
            Ok(PackageRecord {
                id: r.get(0)?,
                operation_id: r.get(1)?,
                country: r.get(2)?,
                path: r.get(3)?,
                manifest_sha256: r.get(4)?,
                created: r.get(5)?,
                targets: r.get::<_, i64>(6)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn notifications(&self, asn: u32) -> Result<Vec<NotificationRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT n.operation_id, n.contact, n.target_id, n.message_id, n.time
             FROM notifications n JOIN targets t ON t.id = n.target_id
             WHERE t.asn = ?1 ORDER BY n.time, n.id",
        )?;
        let rows = stmt.query_map(params![asn], |r| {
            Ok(NotificationRecord {
                operation_id: r.get(0)?,
                contact: r.get(1)?,
                target_id: r.get(2)?,
                message_id: r.get(3)?,
                time: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl DeliveryStore for SqliteStore {
    fn packages(&self, operation_id: i64) -> Result<Vec<PackageRecord>, StoreError> {
        self.read(|c| c.packages(operation_id))
    }

    fn notifications(&self, asn: u32) -> Result<Vec<NotificationRecord>, StoreError> {
        self.read(|c| c.notifications(asn))
    }
}
