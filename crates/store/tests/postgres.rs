//! The PostgreSQL backend: the conformance suite of the store traits, and
//! what only PostgreSQL can be asked.
//!
//! The server is the one `CORDON_TEST_PG` names (`scripts/pg.sh` sets it),
//! else the one on 127.0.0.1:5432; the tests fail, never skip, when it does
//! not answer. Each test directory maps to a database of its own, created
//! on first open as a copy of a migrated template; databases whose
//! directory is gone (their test ended) are dropped by the next open, and
//! `scripts/pg.sh` drops the rest.

mod conformance;

use std::path::Path;

use cordon_store::audit::{AuditEntry, AuditStore};
use cordon_store::ops::TargetSpec;
use cordon_store::{PgStore, Store};

/// The server's maintenance database, where databases are made and dropped.
fn server() -> String {
    std::env::var("CORDON_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `server()` with its database replaced by `name`.
fn url_of(name: &str) -> String {
    let base = server();
    let (address, query) = match base.split_once('?') {
        Some((address, query)) => (address.to_string(), format!("?{query}")),
        None => (base.clone(), String::new()),
    };
    let root = address.rsplit_once('/').map_or(address.as_str(), |(root, _)| root);
    format!("{root}/{name}{query}")
}

/// Connects to the maintenance database.
fn admin() -> postgres::Client {
    postgres::Client::connect(&server(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("no PostgreSQL at {} (run the tests under scripts/pg.sh): {e}", server()))
}

/// Creates database `name` with `comment` (the directory it belongs to),
/// as a copy of `template` when given; false when it exists already.
fn create(admin: &mut postgres::Client, name: &str, template: Option<&str>, comment: &Path) -> bool {
    use postgres::error::SqlState;
    let from = template.map(|t| format!(" TEMPLATE \"{t}\"")).unwrap_or_default();
    let started = std::time::Instant::now();
    loop {
        match admin.batch_execute(&format!("CREATE DATABASE \"{name}\"{from}")) {
            Ok(()) => break,
            // Another handle on the same directory made it first.
            Err(e)
                if e.code().is_some_and(|c| [SqlState::DUPLICATE_DATABASE, SqlState::UNIQUE_VIOLATION].contains(c)) =>
            {
                return false
            }
            // The template's last connection is still closing.
            Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) && started.elapsed().as_secs() < 10 => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
    let comment = comment.display().to_string().replace('\'', "''");
    admin.batch_execute(&format!("COMMENT ON DATABASE \"{name}\" IS '{comment}'")).unwrap();
    true
}

/// A migrated database that this test process copies for each directory
/// (migrating once per process, not once per store: the property test
/// opens dozens). It belongs to `/proc/PID`, gone when the process is.
fn template() -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("cordon_t_template_{}", std::process::id());
        let mut admin = admin();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).unwrap();
        create(&mut admin, &name, None, &Path::new("/proc").join(std::process::id().to_string()));
        drop(PgStore::open(&url_of(&name)).unwrap());
        name
    })
}

/// The database of the test directory `dir`, created (with `dir` as its
/// comment) on first use; drops, in the background, those of directories
/// that are gone.
fn database_for(dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("cordon_t_{:016x}", hasher.finish());
    let template = template();
    let mut admin = admin();
    create(&mut admin, &name, Some(template), dir);
    let rows = admin
        .query(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database
             WHERE datname LIKE 'cordon\\_t\\_%'",
            &[],
        )
        .unwrap();
    let stale: Vec<String> = rows
        .iter()
        .filter(|row| row.get::<_, Option<String>>(1).is_some_and(|d| !Path::new(&d).exists()))
        .map(|row| row.get(0))
        .collect();
    // Best effort, beside the test: another open may drop them first, and
    // scripts/pg.sh drops what is left.
    std::thread::spawn(move || {
        for name in stale {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    });
    url_of(&name)
}

impl conformance::Backend for PgStore {
    fn open(dir: &Path) -> PgStore {
        PgStore::open(&database_for(dir)).unwrap()
    }
}

suite!(PgStore);

#[test]
fn the_database_refuses_to_edit_history() {
    let store = conformance::ops::transitions_are_checked_against_the_current_state::<PgStore>();
    let mut client = postgres::Client::connect(&database_for(store.dir()), postgres::NoTls).unwrap();
    assert!(client.execute("UPDATE transitions SET actor = 'x'", &[]).is_err());
    assert!(client.execute("DELETE FROM transitions", &[]).is_err());
    let entry = AuditEntry {
        time: 1,
        user: "cli".into(),
        org: "hub".into(),
        action: "token create".into(),
        object: "1".into(),
        result: "ok".into(),
    };
    store.append_audit(&[entry]).unwrap();
    assert!(client.execute("UPDATE audit SET actor = 'x'", &[]).is_err());
    assert!(client.execute("DELETE FROM audit", &[]).is_err());
    assert_eq!(store.verify_audit().unwrap(), (1, None));
}

/// Replicas starting together on a new database: the migrations run once,
/// under the advisory lock, and every replica opens.
#[test]
fn replicas_starting_together_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("cordon_t_replicas_{}", std::process::id());
    create(&mut admin(), &name, None, dir.path());
    let url = url_of(&name);
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::open(&url).map(|store| store.generation().unwrap()))
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().unwrap(), 0);
    }
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let versions: i64 = client.query_one("SELECT count(*) FROM schema_version", &[]).unwrap().get(0);
    assert_eq!(versions, 1);
}

/// Two replicas over one database (two stores, as two `cordon serve`
/// processes hold): what one imports the other reads at once, and its
/// generation, which the server's lookup index follows, moves.
#[test]
fn a_commit_through_one_replica_is_seen_through_another() {
    use cordon_model::{normalize, Record};
    use cordon_store::orgs::OrgStore;
    use cordon_store::{ImportCounts, ImportMeta, IndicatorFilter};

    let dir = tempfile::tempdir().unwrap();
    let (one, other) =
        (<PgStore as conformance::Backend>::open(dir.path()), <PgStore as conformance::Backend>::open(dir.path()));
    let before = other.generation().unwrap();
    let meta = ImportMeta::new("a", "f.txt", "00", "plain");
    one.import(&meta, &mut |sink| {
        for s in Record::new(1, normalize("80.94.95.112").unwrap().observables.remove(0)).sightings() {
            sink.add(&s)?;
        }
        Ok(ImportCounts::default())
    })
    .unwrap();
    assert!(other.generation().unwrap() > before);
    let hub = other.hub().unwrap().viewer();
    assert!(other.indicator("80.94.95.112", &IndicatorFilter::new(hub)).unwrap().is_some());
}

/// A replica watching the generation is told of another's commit: the
/// notification carries the generation the commit left.
#[test]
fn a_commit_through_one_replica_is_notified_to_a_watcher() {
    use cordon_model::{normalize, Record};
    use cordon_store::{ImportCounts, ImportMeta};

    let dir = tempfile::tempdir().unwrap();
    let (one, watcher) =
        (<PgStore as conformance::Backend>::open(dir.path()), <PgStore as conformance::Backend>::open(dir.path()));
    let (listening, listened) = std::sync::mpsc::channel();
    let (told, heard) = std::sync::mpsc::channel();
    let watching = std::thread::spawn(move || {
        let _ = listening.send(());
        let started = std::time::Instant::now();
        watcher.watch_generation(&mut |generation| match generation {
            Some(generation) => {
                let _ = told.send(generation);
                false
            }
            None => started.elapsed() < std::time::Duration::from_secs(30),
        })
    });
    listened.recv().unwrap();
    // LISTEN runs after the thread starts: commit until it is heard.
    let meta = ImportMeta::new("a", "f.txt", "00", "plain");
    let mut generation = None;
    for n in 0..100u32 {
        one.import(&meta, &mut |sink| {
            let value = format!("80.94.95.{}", n + 1);
            for s in Record::new(1, normalize(&value).unwrap().observables.remove(0)).sightings() {
                sink.add(&s)?;
            }
            Ok(ImportCounts::default())
        })
        .unwrap();
        if let Ok(heard) = heard.recv_timeout(std::time::Duration::from_millis(200)) {
            generation = Some(heard);
            break;
        }
    }
    watching.join().unwrap().unwrap();
    let heard = generation.expect("no notification came");
    assert!(heard > 0 && heard <= one.generation().unwrap(), "{heard}");
}

/// With a read replica, listing, showing and sources are read there and
/// everything else on the primary: a replica that does not answer fails
/// those reads only.
#[test]
fn reads_of_listing_go_to_the_read_replica() {
    use cordon_store::orgs::OrgStore;
    use cordon_store::IndicatorFilter;

    let dir = tempfile::tempdir().unwrap();
    let primary = database_for(dir.path());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = PgStore::open_with_reads(&primary, &format!("postgres://postgres@127.0.0.1:{closed}/none")).unwrap();
    let import = conformance::ops::import(&store, "a", "80.94.95.112", 1500);
    assert!(import > 0 && store.generation().unwrap() > 0);
    let hub = store.hub().unwrap().viewer();
    assert_eq!(store.imports(&hub).unwrap().len(), 1, "imports are the primary's");
    let filter = IndicatorFilter::new(hub);
    assert!(store.indicators(&filter, &mut |_| {}).is_err());
    assert!(store.indicator("80.94.95.112", &filter).is_err());
    assert!(store.sources(&hub).is_err());
    let same = PgStore::open_with_reads(&primary, &primary).unwrap();
    assert!(same.indicator("80.94.95.112", &filter).unwrap().is_some());
}

/// Imports `values` from `source` in one import; with `fail`, the feed
/// fails after its first batch was written (the import is undone).
fn import_values(
    store: &PgStore,
    source: &str,
    values: &[String],
    fail: bool,
) -> Result<i64, cordon_store::StoreError> {
    use cordon_model::{normalize, Record};
    use cordon_store::{ImportCounts, ImportMeta, StoreError};

    let meta = ImportMeta::new(source, "f.txt", "00", "plain");
    store.import(&meta, &mut |sink| {
        for (line, value) in (1..).zip(values) {
            for s in Record::new(line, normalize(value).unwrap().observables.remove(0)).sightings() {
                sink.add(&s)?;
            }
        }
        if fail {
            sink.flush()?;
            return Err(StoreError::Aborted("the feed broke".into()));
        }
        Ok(ImportCounts::default())
    })
}

/// The sightings have no foreign keys (migration 4: a trigger per row cost
/// more than the merge): the import's merge keeps their references. After
/// new, repeated, overlapping and failed imports, every sighting's
/// indicator, source, imports and `derived_from` exist.
#[test]
fn imports_leave_no_dangling_reference() {
    let dir = tempfile::tempdir().unwrap();
    let store = <PgStore as conformance::Backend>::open(dir.path());
    let values = |n: u32, offset: u32| -> Vec<String> {
        (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    format!("http://h{}.example.com/x", i + offset)
                } else {
                    format!("45.1.{}.{}", (i + offset) / 200, 1 + (i + offset) % 200)
                }
            })
            .collect()
    };
    import_values(&store, "a", &values(600, 0), false).unwrap();
    import_values(&store, "a", &values(600, 0), false).unwrap();
    import_values(&store, "b", &values(600, 300), false).unwrap();
    assert!(import_values(&store, "c", &values(600, 900), true).is_err());
    let mut client = postgres::Client::connect(&database_for(dir.path()), postgres::NoTls).unwrap();
    let count = |client: &mut postgres::Client, sql: &str| -> i64 { client.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'sightings'::regclass AND contype = 'f'"
        ),
        0
    );
    assert!(count(&mut client, "SELECT count(*) FROM sightings WHERE derived_from <> 0") >= 300);
    assert!(count(&mut client, "SELECT count(DISTINCT source_id) FROM sightings") == 2);
    let dangling = count(
        &mut client,
        "SELECT count(*) FROM sightings s
         WHERE NOT EXISTS (SELECT 1 FROM indicators i WHERE i.id = s.indicator_id)
            OR NOT EXISTS (SELECT 1 FROM sources o WHERE o.id = s.source_id)
            OR NOT EXISTS (SELECT 1 FROM imports m WHERE m.id = s.created_import)
            OR NOT EXISTS (SELECT 1 FROM imports m WHERE m.id = s.last_import)
            OR (s.derived_from <> 0 AND NOT EXISTS (SELECT 1 FROM indicators i WHERE i.id = s.derived_from))",
    );
    assert_eq!(dangling, 0);
}

/// A batch looks its indicators up before it creates those the store lacks
/// (plain inserts, ids from the table's sequence): the indicators an
/// earlier batch of the same import created are found, not made twice, and
/// a new sighting of an old indicator (a URL's host seen again) counts as
/// new while a repeated one counts as an update.
#[test]
fn batches_find_the_indicators_of_earlier_batches() {
    use cordon_model::{normalize, Record};
    use cordon_store::{ImportCounts, ImportMeta, ImportSink, StoreError};

    fn add(sink: &mut dyn ImportSink, line: u64, raw: &str) -> Result<(), StoreError> {
        for s in Record::new(line, normalize(raw).unwrap().observables.remove(0)).sightings() {
            sink.add(&s)?;
        }
        Ok(())
    }
    let dir = tempfile::tempdir().unwrap();
    let store = <PgStore as conformance::Backend>::open(dir.path());
    let meta = ImportMeta::new("a", "f.txt", "00", "plain");
    let mut counts = Vec::new();
    store
        .import(&meta, &mut |sink| {
            add(sink, 1, "45.0.0.1")?;
            add(sink, 2, "http://h.example.com/x")?;
            counts.push(sink.flush()?);
            add(sink, 3, "45.0.0.1")?;
            add(sink, 4, "http://h.example.com/y")?;
            add(sink, 5, "45.0.0.2")?;
            counts.push(sink.flush()?);
            Ok(ImportCounts::default())
        })
        .unwrap();
    assert_eq!((counts[0].new, counts[0].updated), (3, 0), "45.0.0.1, the URL and its host");
    assert_eq!((counts[1].new, counts[1].updated), (6, 1), "the second URL, its host's new sighting, 45.0.0.2");
    let mut client = postgres::Client::connect(&database_for(dir.path()), postgres::NoTls).unwrap();
    let count = |client: &mut postgres::Client, sql: &str| -> i64 { client.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(count(&mut client, "SELECT count(*) FROM indicators"), 5);
    assert_eq!(count(&mut client, "SELECT count(*) FROM sightings"), 6);
    assert_eq!(count(&mut client, "SELECT count(*) FROM sightings WHERE derived_from <> 0"), 2);
    // The sequence is past every id the import took from it.
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM indicators WHERE id > (SELECT last_value FROM indicators_id_seq)"),
        0
    );
}

/// An import that adds many sightings to a store that had few leaves the
/// planner's statistics current (its own enrichment reads them next); a
/// small one leaves them to autovacuum.
#[test]
fn a_bulk_import_brings_the_statistics_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = <PgStore as conformance::Backend>::open(dir.path());
    let mut client = postgres::Client::connect(&database_for(dir.path()), postgres::NoTls).unwrap();
    let rows = |client: &mut postgres::Client| -> f32 {
        client.query_one("SELECT reltuples FROM pg_class WHERE oid = 'sightings'::regclass", &[]).unwrap().get(0)
    };
    let addresses =
        |n: u32, net: u32| -> Vec<String> { (0..n).map(|i| format!("45.{net}.{}.{}", i / 250, 1 + i % 250)).collect() };
    import_values(&store, "a", &addresses(100, 1), false).unwrap();
    assert!(rows(&mut client) < 100.0, "a small import analyzed");
    import_values(&store, "a", &addresses(12_000, 2), false).unwrap();
    assert!(rows(&mut client) >= 12_000.0, "{}", rows(&mut client));
}

/// A target's lists go to the database a row of arrays at a time (each an
/// array literal, `upsert_targets`): every element comes back as given,
/// quotes, backslashes, commas, braces, blanks and `NULL` included.
#[test]
fn target_lists_come_back_as_given() {
    use cordon_model::Category;
    use cordon_store::ops::{OpsStore, TargetFilter};

    let dir = tempfile::tempdir().unwrap();
    let store = <PgStore as conformance::Backend>::open(dir.path());
    conformance::ops::import(&store, "a", "80.94.95.112", 1500);
    let op = conformance::ops::operation(&store);
    let odd: Vec<String> =
        ["a\"b", "c\\d", "e,f", "{g}", " h ", "", "NULL", "é ✓", "\\\"", "'"].iter().map(|s| s.to_string()).collect();
    let spec = cordon_store::ops::TargetSpec {
        categories: vec![Category::C2, Category::Phishing],
        malware: odd.clone(),
        partners: odd.iter().rev().cloned().collect(),
        ports: vec![1, 443, 65535],
        ..conformance::ops::spec("80.94.95.112", vec![1])
    };
    let plain = conformance::ops::spec("45.148.10.7", vec![]);
    store.upsert_targets(op.id, &[spec.clone(), plain.clone()], 10).unwrap();
    let stored = store.targets(&TargetFilter::default()).unwrap();
    assert_eq!(stored.iter().map(|t| &t.spec).collect::<Vec<_>>(), [&TargetSpec { members: vec![], ..spec }, &plain]);
}

/// A targets build that grows the targets and their history by a tenth
/// brings their statistics up to date in its transaction, before it pages
/// through its own targets (and commits): a small one leaves them to
/// autovacuum.
#[test]
fn a_big_targets_build_brings_the_statistics_up_to_date() {
    use cordon_store::ops::{OpsStore, TargetFilter, Transition};

    let dir = tempfile::tempdir().unwrap();
    let store = <PgStore as conformance::Backend>::open(dir.path());
    let mut client = postgres::Client::connect(&database_for(dir.path()), postgres::NoTls).unwrap();
    let addresses: Vec<String> = (0..12_100u32).map(|i| format!("45.9.{}.{}", i / 250, 1 + i % 250)).collect();
    import_values(&store, "a", &addresses, false).unwrap();
    let ids: Vec<i64> =
        client.query("SELECT id FROM indicators ORDER BY id", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    let op = conformance::ops::operation(&store);
    let rows = |client: &mut postgres::Client, table: &str| -> f32 {
        let sql = format!("SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass");
        client.query_one(&sql, &[]).unwrap().get(0)
    };
    // Builds targets of `ids`; answers how many the first page inside the
    // transaction had and how many rows the targets had for the planner
    // then (`reltuples` is updated in place: another session sees it).
    let build = |ids: &[i64], client: &mut postgres::Client| {
        let specs: Vec<TargetSpec> =
            ids.iter().map(|id| conformance::ops::spec(&format!("t{id}"), vec![*id])).collect();
        let (mut paged, mut planned) = (0, 0.0);
        store
            .atomically(&mut |s| {
                let made = s.upsert_targets(op.id, &specs, 10)?;
                let steps: Vec<Transition> = made.iter().map(|(id, _)| conformance::ops::identified(*id)).collect();
                s.append_transitions(&steps)?;
                let filter = TargetFilter { operation_id: Some(op.id), ..TargetFilter::default() };
                paged = s.targets_after(&filter, i64::MIN, 10)?.len();
                planned = rows(client, "targets");
                Ok(())
            })
            .unwrap();
        (paged, planned)
    };
    let (paged, planned) = build(&ids[..100], &mut client);
    assert!(paged == 10 && planned < 100.0, "a small build analyzed the targets");
    for table in ["targets", "target_members", "transitions"] {
        assert!(rows(&mut client, table) < 100.0, "a small build analyzed {table}");
    }
    let (paged, planned) = build(&ids[100..], &mut client);
    assert!(paged == 10 && planned >= 12_000.0, "not analyzed before paging: {planned}");
    for table in ["targets", "target_members", "transitions"] {
        assert!(rows(&mut client, table) >= 12_000.0, "{table}: {}", rows(&mut client, table));
    }
    let analyzed: i64 = client
        .query_one("SELECT count(*) FROM pg_stats WHERE tablename = 'targets' AND attname = 'operation_id'", &[])
        .unwrap()
        .get(0);
    assert_eq!(analyzed, 1, "the targets' columns have statistics");
}
