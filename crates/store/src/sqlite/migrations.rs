//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up and runs in
//! its own transaction. Never edit a migration that has shipped: add one.

use rusqlite::Connection;

use crate::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: sources, imports, indicators, sightings.
    "CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created INTEGER NOT NULL
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        format TEXT NOT NULL,
        time INTEGER NOT NULL,
        read INTEGER NOT NULL DEFAULT 0,
        accepted INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE indicators (
        id INTEGER PRIMARY KEY,
        value TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        created_import INTEGER NOT NULL
    );
    CREATE TABLE sightings (
        id INTEGER PRIMARY KEY,
        indicator_id INTEGER NOT NULL REFERENCES indicators(id),
        source_id INTEGER NOT NULL REFERENCES sources(id),
        category TEXT NOT NULL,
        label TEXT,
        malware TEXT NOT NULL DEFAULT '',
        port INTEGER NOT NULL DEFAULT 0,
        derived_from INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        confidence INTEGER NOT NULL,
        tlp INTEGER NOT NULL,
        created_import INTEGER NOT NULL REFERENCES imports(id),
        last_import INTEGER NOT NULL REFERENCES imports(id),
        line INTEGER NOT NULL,
        UNIQUE (indicator_id, source_id, category, malware, port, derived_from)
    );
    CREATE INDEX sightings_derived_from ON sightings(derived_from) WHERE derived_from <> 0;
    CREATE INDEX sightings_source ON sightings(source_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta VALUES ('generation', 0);",
    // 2: enrichment, allowlist, contacts, and the partner's consent to share
    // its AMBER sightings with national agencies.
    "ALTER TABLE sources ADD COLUMN share_amber INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE enrichment (
        indicator_id INTEGER PRIMARY KEY REFERENCES indicators(id),
        network TEXT,
        asn INTEGER,
        as_org TEXT,
        country TEXT,
        hosting TEXT NOT NULL,
        flags TEXT NOT NULL DEFAULT '',
        enriched INTEGER NOT NULL
    );
    CREATE INDEX enrichment_country ON enrichment(country);
    CREATE INDEX enrichment_asn ON enrichment(asn);
    CREATE TABLE allowlist (
        id INTEGER PRIMARY KEY,
        value TEXT NOT NULL UNIQUE,
        reason TEXT NOT NULL,
        added INTEGER NOT NULL
    );
    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        pgp_fingerprint TEXT,
        language TEXT,
        UNIQUE (kind, key)
    );",
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`]; refuses a newer database.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, supported: SCHEMA_VERSION });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::TooNew { .. })));
    }
}
