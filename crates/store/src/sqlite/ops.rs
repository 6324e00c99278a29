//! SQLite implementation of the operations storage (see `crate::ops`).
