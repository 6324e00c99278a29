//! Graceful shutdown during a submission (issue 13): SIGTERM while a
//! partner's file is still streaming in; the import then either completed
//! whole or left no trace, and the server exits cleanly.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use common::ok_in;

/// How many lines the submission has.
const LINES: u32 = 20_000;

/// How many indicators and imports the store at `db` holds.
fn counts(db: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |table: &str| conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
    (count("indicators"), count("imports"))
}

#[test]
fn sigterm_during_a_submission_commits_it_whole_or_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("cordon.db");
    ok_in(d, &["org", "add", "alpha", "--kind", "partner"]);
    ok_in(d, &["user", "add", "feeds@alpha.example", "--org", "alpha", "--role", "submitter"]);
    let token = ok_in(d, &["token", "create", "--user", "feeds@alpha.example"]).trim().to_string();
    let before = counts(&db);

    // A port free a moment ago; the server is up once it accepts.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", &listen])
        .env("CORDON_DB", &db)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "the server did not start on {listen}");

    let body: String = (0..LINES).map(|i| format!("46.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255)).collect();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /api/v1/submissions?format=plain&tlp=green HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(200));
    // The request in flight may finish: send the rest (the server may
    // also have closed the connection, which is the other clean outcome).
    let _ = stream.write_all(rest);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");

    let (indicators, imports) = counts(&db);
    let added = (indicators - before.0, imports - before.1);
    if answer.starts_with("HTTP/1.1 200") {
        assert_eq!(added, (i64::from(LINES), 1), "{answer}");
    } else {
        assert!(added == (0, 0) || added == (i64::from(LINES), 1), "half an import: {added:?}, {answer}");
    }
}
