//! PostgreSQL implementation of the delivery reads (see `crate::deliveries`).

use super::{count, get, Conn};
use crate::deliveries::{DeliveryStore, NotificationRecord, PackageRecord};
use crate::StoreError;

impl DeliveryStore for Conn {
    fn packages(&self, operation_id: i64) -> Result<Vec<PackageRecord>, StoreError> {
        let rows = self.query(
            "SELECT p.id, p.operation_id, p.country, p.path, p.manifest_sha256, unix(p.created),
                    (SELECT count(*) FROM package_targets pt WHERE pt.package_id = p.id)
             FROM packages p WHERE p.operation_id = $1 ORDER BY p.created, p.id",
            &[&operation_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PackageRecord {
                    id: get(r, 0)?,
                    operation_id: get(r, 1)?,
                    country: get(r, 2)?,
                    path: get(r, 3)?,
                    manifest_sha256: get(r, 4)?,
                    created: get(r, 5)?,
                    targets: count(r, 6)?,
                })
            })
            .collect()
    }

    fn notifications(&self, asn: u32) -> Result<Vec<NotificationRecord>, StoreError> {
        let rows = self.query(
            "SELECT n.operation_id, n.contact, n.target_id, n.message_id, unix(n.time)
             FROM notifications n JOIN targets t ON t.id = n.target_id
             WHERE t.asn = $1 ORDER BY n.time, n.id",
            &[&i64::from(asn)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(NotificationRecord {
                    operation_id: get(r, 0)?,
                    contact: get(r, 1)?,
                    target_id: get(r, 2)?,
                    message_id: get(r, 3)?,
                    time: get(r, 4)?,
                })
            })
            .collect()
    }
}
