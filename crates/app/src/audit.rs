//! The audit log through the application layer: front ends record what
//! callers did; the hub reads and verifies the chain.

use cordon_model::{Timestamp, Viewer};
use cordon_store::audit::{AuditEntry, AuditRow, AuditStore, Broken};

use crate::{require_hub, App, AppError};

/// The most rows one `audit list` returns.
pub const MAX_AUDIT_ROWS: usize = 10_000;

impl App {
    /// Appends `entries`, in order, to the audit log.
    pub fn record(&self, entries: &[AuditEntry]) -> Result<(), AppError> {
        self.store.append_audit(entries)?;
        Ok(())
    }

    /// The audit log (the hub only), oldest first.
    pub fn audit(
        &self,
        viewer: &Viewer,
        user: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Vec<AuditRow>, AppError> {
        require_hub(viewer, "reading the audit log")?;
        Ok(self.store.audit(user, since, MAX_AUDIT_ROWS)?)
    }

    /// Checks the whole chain: how many rows were checked, and the first
    /// that breaks it.
    pub fn verify_audit(&self, viewer: &Viewer) -> Result<(u64, Option<Broken>), AppError> {
        require_hub(viewer, "verifying the audit log")?;
        Ok(self.store.verify_audit()?)
    }
}
