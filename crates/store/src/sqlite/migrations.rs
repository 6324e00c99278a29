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
    // 3: operations, their takedown targets and append-only lifecycle,
    // packages, notifications, verification checks and outcomes (issue 5).
    "CREATE TABLE operations (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created INTEGER NOT NULL
    );
    CREATE TABLE operation_imports (
        operation_id INTEGER NOT NULL REFERENCES operations(id),
        import_id INTEGER NOT NULL REFERENCES imports(id),
        PRIMARY KEY (operation_id, import_id)
    );
    CREATE TABLE targets (
        id INTEGER PRIMARY KEY,
        operation_id INTEGER NOT NULL REFERENCES operations(id),
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        country TEXT,
        asn INTEGER,
        as_org TEXT,
        hosting TEXT,
        provider_name TEXT,
        provider_email TEXT,
        agency_name TEXT,
        agency_email TEXT,
        categories TEXT NOT NULL DEFAULT '',
        malware TEXT NOT NULL DEFAULT '',
        partners TEXT NOT NULL DEFAULT '',
        ports TEXT NOT NULL DEFAULT '',
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        last_import INTEGER NOT NULL,
        created INTEGER NOT NULL,
        UNIQUE (operation_id, key)
    );
    CREATE INDEX targets_state ON targets(operation_id, state);
    CREATE TABLE target_members (
        target_id INTEGER NOT NULL REFERENCES targets(id),
        indicator_id INTEGER NOT NULL REFERENCES indicators(id),
        PRIMARY KEY (target_id, indicator_id)
    );
    CREATE TABLE transitions (
        id INTEGER PRIMARY KEY,
        target_id INTEGER NOT NULL REFERENCES targets(id),
        time INTEGER NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT,
        actor TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        import_mark INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX transitions_target ON transitions(target_id);
    CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
        BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
    CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
        BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
    CREATE TABLE packages (
        id INTEGER PRIMARY KEY,
        operation_id INTEGER NOT NULL REFERENCES operations(id),
        country TEXT NOT NULL,
        path TEXT NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE TABLE package_targets (
        package_id INTEGER NOT NULL REFERENCES packages(id),
        target_id INTEGER NOT NULL REFERENCES targets(id),
        PRIMARY KEY (package_id, target_id)
    );
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        operation_id INTEGER NOT NULL REFERENCES operations(id),
        contact TEXT NOT NULL,
        target_id INTEGER NOT NULL REFERENCES targets(id),
        message_id TEXT NOT NULL,
        time INTEGER NOT NULL
    );
    CREATE INDEX notifications_contact_target ON notifications(contact, target_id, time);
    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        target_id INTEGER NOT NULL REFERENCES targets(id),
        time INTEGER NOT NULL,
        up INTEGER NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX checks_target ON checks(target_id, time);
    CREATE TABLE outcomes (
        id INTEGER PRIMARY KEY,
        operation_id INTEGER NOT NULL REFERENCES operations(id),
        country TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        date INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );",
    // 4: sightings keyed by what identifies them, without a rowid (issue 2):
    // one b-tree instead of a table plus its unique index, ordered by
    // indicator so an import's new sightings append. Reads that ordered by
    // the old `id` order by (created_import, line) and the key instead. The
    // index by source is gone: it cost every sighting an insert, and its
    // one reader, the per-source counts, scans the sightings once instead.
    "CREATE TABLE sightings_keyed (
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
        PRIMARY KEY (indicator_id, source_id, category, malware, port, derived_from)
    ) WITHOUT ROWID;
    INSERT INTO sightings_keyed (indicator_id, source_id, category, label, malware, port, derived_from,
                                 first_seen, last_seen, confidence, tlp, created_import, last_import, line)
        SELECT indicator_id, source_id, category, label, malware, port, derived_from,
               first_seen, last_seen, confidence, tlp, created_import, last_import, line
        FROM sightings ORDER BY indicator_id, source_id, category, malware, port, derived_from;
    DROP TABLE sightings;
    ALTER TABLE sightings_keyed RENAME TO sightings;
    CREATE INDEX sightings_derived_from ON sightings(derived_from) WHERE derived_from <> 0;",
    // 5: organisations and viewers (issue 9). Every source belongs to an
    // organisation (a partner of the same name until told otherwise); one
    // hub organisation per store; consent to pass AMBER on per recipient
    // class (the old single consent covered packages and notifications, so
    // it becomes both); enrichment derived over a link remembers the TLP of
    // that link; the store gets a random identity for caches.
    "CREATE TABLE organisations (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        country TEXT,
        created INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX organisations_one_hub ON organisations(kind) WHERE kind = 'hub';
    CREATE TABLE organisation_asns (
        org_id INTEGER NOT NULL REFERENCES organisations(id),
        asn INTEGER NOT NULL,
        PRIMARY KEY (org_id, asn)
    ) WITHOUT ROWID;
    INSERT INTO organisations (name, kind, created) VALUES ('hub', 'hub', CAST(strftime('%s', 'now') AS INTEGER));
    INSERT INTO organisations (name, kind, created)
        SELECT name, 'partner', created FROM sources WHERE name NOT IN (SELECT name FROM organisations);
    ALTER TABLE sources ADD COLUMN org_id INTEGER REFERENCES organisations(id);
    UPDATE sources SET org_id = (SELECT o.id FROM organisations o WHERE o.name = sources.name);
    ALTER TABLE sources ADD COLUMN amber_agencies INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN amber_providers INTEGER NOT NULL DEFAULT 0;
    UPDATE sources SET amber_agencies = share_amber, amber_providers = share_amber;
    ALTER TABLE enrichment ADD COLUMN via_tlp INTEGER;
    INSERT INTO meta VALUES ('store_id', abs(random()));",
    // 6: users and API tokens (issue 13). Passwords are stored as Argon2id
    // PHC strings, tokens as the SHA-256 of the token: neither can be read
    // back.
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        org_id INTEGER NOT NULL REFERENCES organisations(id),
        role TEXT NOT NULL,
        password_hash TEXT,
        disabled INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        sha256 TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created INTEGER NOT NULL,
        expires INTEGER,
        revoked INTEGER,
        read_only INTEGER NOT NULL DEFAULT 0,
        allow_ips TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX tokens_user ON tokens(user_id);",
    // 7: the audit log (issue 13): append-only, each row carrying the
    // SHA-256 of the previous row and its own, so an edit breaks the chain.
    "CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        user TEXT NOT NULL,
        org TEXT NOT NULL,
        action TEXT NOT NULL,
        object TEXT NOT NULL,
        result TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 8: imports written a batch at a time (issue 9). An import is
    // `running` until its last transaction completes it; what its batches
    // overwrote is kept in `import_undo` until then, so that a failed or
    // interrupted import can be undone, and it remembers
    // whether it made its source and that source's organisation.
    "ALTER TABLE imports ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
    ALTER TABLE imports ADD COLUMN made_source INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE imports ADD COLUMN made_org INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE import_undo (
        import_id INTEGER NOT NULL,
        indicator_id INTEGER NOT NULL,
        source_id INTEGER NOT NULL,
        category TEXT NOT NULL,
        malware TEXT NOT NULL,
        port INTEGER NOT NULL,
        derived_from INTEGER NOT NULL,
        label TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        confidence INTEGER NOT NULL,
        tlp INTEGER NOT NULL,
        last_import INTEGER NOT NULL,
        line INTEGER NOT NULL,
        PRIMARY KEY (import_id, indicator_id, source_id, category, malware, port, derived_from)
    ) WITHOUT ROWID;",
    // 9: TAXII collections (issue 14): views of the indicators the hub
    // defines, their readers and writers, the statuses of objects posted to
    // them; and a microsecond date for each import (set when it begins,
    // strictly increasing), the date an object version was added.
    "CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        categories TEXT NOT NULL DEFAULT '',
        kinds TEXT NOT NULL DEFAULT '',
        min_confidence INTEGER,
        tlp_max INTEGER NOT NULL,
        operation_id INTEGER REFERENCES operations(id),
        public_clear INTEGER NOT NULL DEFAULT 0,
        restricted INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL
    );
    CREATE TABLE collection_readers (
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        org_id INTEGER NOT NULL REFERENCES organisations(id),
        PRIMARY KEY (collection_id, org_id)
    ) WITHOUT ROWID;
    CREATE TABLE collection_writers (
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        org_id INTEGER NOT NULL REFERENCES organisations(id),
        PRIMARY KEY (collection_id, org_id)
    ) WITHOUT ROWID;
    CREATE TABLE collection_statuses (
        id TEXT PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        org_id INTEGER NOT NULL REFERENCES organisations(id),
        body TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    ALTER TABLE imports ADD COLUMN added_us INTEGER NOT NULL DEFAULT 0;
    UPDATE imports SET added_us = time * 1000000 + id;
    CREATE TRIGGER imports_added_us AFTER INSERT ON imports
    BEGIN
        UPDATE imports SET added_us = max(
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER),
            coalesce((SELECT p.added_us FROM imports p WHERE p.id = (SELECT max(q.id) FROM imports q WHERE q.id < new.id)), 0) + 1)
        WHERE id = new.id;
    END;",
    // 10: the dashboard's sign-in sessions (issue 15), kept as the SHA-256
    // of the cookie's secret; expired rows are dropped as sessions begin.
    "CREATE TABLE web_sessions (
        sha256 TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL
    );
    CREATE INDEX web_sessions_expires ON web_sessions(expires);",
    // 11: feeds the hub pulls (issue 14): what each is, its request
    // headers (secrets stay in the environment: only the variable's name
    // is kept), where its last successful run left it, and every run with
    // its provenance. Runs name their feed, so they outlive its removal.
    "CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        format TEXT,
        tlp TEXT,
        category TEXT,
        every INTEGER NOT NULL,
        basic_auth_env TEXT,
        created INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT,
        cursor TEXT,
        last_run INTEGER,
        last_success INTEGER,
        last_error TEXT,
        next_run INTEGER NOT NULL
    );
    CREATE TABLE feed_headers (
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (feed_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE feed_runs (
        id INTEGER PRIMARY KEY,
        feed TEXT NOT NULL,
        time INTEGER NOT NULL,
        url TEXT NOT NULL,
        status INTEGER,
        bytes INTEGER NOT NULL,
        import_id INTEGER REFERENCES imports(id),
        error TEXT
    );
    CREATE INDEX feed_runs_feed ON feed_runs(feed, id);",
    // 12: the job queue that `cordon serve` replicas share (issue 16): one
    // row per job, unique by key (a feed's run per due time), claimed under
    // a lease; and the sightings by the import that created them, which
    // post-ingest flagging, stale indicators and import undo scan by.
    "CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        subject INTEGER NOT NULL,
        state TEXT NOT NULL,
        owner TEXT,
        lease_until INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL,
        finished INTEGER,
        error TEXT
    );
    CREATE INDEX jobs_open ON jobs(id) WHERE state IN ('queued', 'running');
    CREATE INDEX sightings_created_import ON sightings(created_import);",
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`]; refuses a newer database.
///
/// Safe when several processes open a new store at once: the migrations
/// run in one `IMMEDIATE` transaction (the write lock, waited for under the
/// connection's busy timeout), and the version is read again under that
/// lock, so the process that got there second finds the work done.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version = |conn: &Connection| -> Result<i64, StoreError> {
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found, supported: SCHEMA_VERSION });
        }
        Ok(found)
    };
    if version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    for sql in MIGRATIONS.iter().skip(found as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
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

    #[test]
    fn sightings_survive_the_move_to_a_keyed_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO sources (id, name, created) VALUES (1, 'a', 0);
             INSERT INTO imports (id, source_id, path, sha256, format, time) VALUES (1, 1, 'f', '00', 'plain', 0);
             INSERT INTO indicators (id, value, kind, created_import) VALUES (1, 'http://x.example/', 'url', 1),
                 (2, 'x.example', 'domain', 1);
             INSERT INTO sightings (indicator_id, source_id, category, label, malware, port, derived_from,
                                    first_seen, last_seen, confidence, tlp, created_import, last_import, line)
             VALUES (1, 1, 'phishing', 'phish', '', 0, 0, 10, 20, 60, 1, 1, 1, 7),
                    (2, 1, 'phishing', NULL, '', 0, 1, 10, 20, 60, 1, 1, 1, 7);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(i64, Option<String>, i64, i64)> = conn
            .prepare("SELECT indicator_id, label, derived_from, line FROM sightings ORDER BY indicator_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [(1, Some("phish".into()), 0, 7), (2, None, 1, 7)]);
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'sightings' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexes, ["sightings_created_import", "sightings_derived_from"]);
        let duplicate = conn.execute(
            "INSERT INTO sightings (indicator_id, source_id, category, first_seen, last_seen, confidence, tlp,
                                    created_import, last_import, line)
             VALUES (1, 1, 'phishing', 0, 0, 0, 0, 1, 1, 1)",
            [],
        );
        assert!(duplicate.is_err(), "the key stays unique");
    }
}
