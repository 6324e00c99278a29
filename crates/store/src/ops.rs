//! Storage of operations: targets, their lifecycle, packages, notifications
//! and outcomes (issue 5). The SQLite implementation is in `sqlite/ops.rs`.
