//! What has left the hub, as recorded: the packages written for national
//! agencies and the notifications sent to providers' abuse desks. Reads
//! only; `ops::OpsStore` records them.

use cordon_model::Timestamp;

use crate::StoreError;

/// One written package of one country.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageRecord {
    /// Its id.
    pub id: i64,
    /// The operation.
    pub operation_id: i64,
    /// The country code it was written for.
    pub country: String,
    /// The directory it was written to.
    pub path: String,
    /// The SHA-256 of its `manifest.json` when it was written.
    pub manifest_sha256: String,
    /// When it was written.
    pub created: Timestamp,
    /// How many targets it carries.
    pub targets: u64,
}

/// One target reported in one notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRecord {
    /// The operation.
    pub operation_id: i64,
    /// The abuse address notified (lowercase).
    pub contact: String,
    /// The target reported.
    pub target_id: i64,
    /// The message's Message-ID.
    pub message_id: String,
    /// When it was written.
    pub time: Timestamp,
}

/// Reads of what left the hub, implemented by every backend.
pub trait DeliveryStore {
    /// The operation's packages, oldest first.
    fn packages(&self, operation_id: i64) -> Result<Vec<PackageRecord>, StoreError>;

    /// Every notification about a target announced by `asn`, oldest first.
    fn notifications(&self, asn: u32) -> Result<Vec<NotificationRecord>, StoreError>;
}
