//! The audit log: who did what, append-only, each row chained to the one
//! before by SHA-256 so that an edit, an insertion or a deletion in the
//! middle shows ([`AuditStore::verify_audit`]).

use cordon_model::Timestamp;

use crate::StoreError;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub time: Timestamp,
    /// Who (a user's address, or `cli`).
    pub user: String,
    /// As which organisation.
    pub org: String,
    /// What (`GET /api/v1/indicators/{value}`, `token create`, …).
    pub action: String,
    /// On what (the request path, an id).
    pub object: String,
    /// How it ended (an HTTP status, `ok`, an error).
    pub result: String,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Its id (the chain's order).
    pub id: i64,
    /// The entry.
    pub entry: AuditEntry,
    /// The SHA-256 of the previous row (zeros for the first).
    pub prev: String,
    /// The SHA-256 of this row (its fields and `prev`).
    pub hash: String,
}

/// The hash of a row: SHA-256 over `prev` and the entry's fields, each
/// length-prefixed so that no two rows can encode alike.
pub fn chain_hash(prev: &str, entry: &AuditEntry) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for field in [prev, &entry.time.to_string(), &entry.user, &entry.org, &entry.action, &entry.object, &entry.result] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Where the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The first row whose hash or link does not hold.
    pub id: i64,
    /// What does not hold.
    pub reason: String,
}

/// Storage of the audit log.
pub trait AuditStore {
    /// Appends entries in order, each chained to the one before, in one
    /// transaction under the write lock.
    fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;

    /// The entries of `user` (or everyone's) since `since`, oldest first, at
    /// most `limit`.
    fn audit(&self, user: Option<&str>, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditRow>, StoreError>;

    /// Walks the whole chain; the first row that breaks it, if any, and the
    /// number of rows checked.
    fn verify_audit(&self) -> Result<(u64, Option<Broken>), StoreError>;
}
