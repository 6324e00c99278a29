//! Helpers shared by the end-to-end tests of the `cordon` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the real binary on the store `db` with no standard input.
pub fn cordon(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cordon"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the cordon binary runs")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The real IPsum list (../shared/data/ipsum.txt, public domain).
pub fn ipsum_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ipsum.txt")
}

/// The first `n` addresses of IPsum: real, public, malicious.
pub fn ipsum_addresses(n: usize) -> Vec<String> {
    std::fs::read_to_string(ipsum_path())
        .expect("../shared/data/ipsum.txt is readable")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .take(n)
        .collect()
}

/// Runs the real binary inside `dir` (its working directory) on the store
/// `dir/cordon.db`, with the geo snapshot `dir/geo.snap` (absent unless a
/// test makes it) and no standard input.
pub fn cordon_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(args)
        .env("CORDON_DB", dir.join("cordon.db"))
        .env("CORDON_GEO", dir.join("geo.snap"))
        .env_remove("CORDON_AS")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the cordon binary runs")
}

/// Like [`cordon_in`], and the command must succeed; returns its stdout.
pub fn ok_in(dir: &Path, args: &[&str]) -> String {
    let out = cordon_in(dir, args);
    assert!(
        out.status.success(),
        "cordon {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// The server's maintenance database.
pub fn pg_server() -> String {
    std::env::var("CORDON_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A PostgreSQL database of one test (`CORDON_TEST_PG`'s server, see
/// scripts/pg.sh; the test fails without one), dropped with it.
pub struct Database {
    name: String,
}

impl Database {
    /// Creates the database of the test `tag` in this process.
    pub fn create(tag: &str) -> Database {
        let name = format!("cordon_e2e_{tag}_{}", std::process::id());
        let mut admin = postgres::Client::connect(&pg_server(), postgres::NoTls)
            .unwrap_or_else(|e| panic!("no PostgreSQL at {} (run the tests under scripts/pg.sh): {e}", pg_server()));
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
        Database { name }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        let base = pg_server();
        let root = base.rsplit_once('/').map_or(base.as_str(), |(root, _)| root);
        format!("{root}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&pg_server(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}
