//! `cordon serve` through the real binary: users and tokens made on the
//! command line authenticate over HTTP, and SIGTERM stops the server
//! cleanly.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::ok_in;

fn get(port: u16, path: &str, token: &str) -> String {
    get_with(port, path, token, "")
}

/// A GET with `headers` (each ending in CRLF) added.
fn get_with(port: u16, path: &str, token: &str, headers: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n{headers}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// Starts `cordon serve` on the store in `d` on a free port; returns the
/// child, its standard error (past the first line) and the base URL.
fn start(d: &std::path::Path, extra: &[&str]) -> (std::process::Child, BufReader<std::process::ChildStderr>, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("CORDON_DB", d.join("cordon.db"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    // The first event says where it listens, in either log format.
    let at = line.find("http://").unwrap_or_else(|| panic!("{line:?}"));
    let base: String = line[at..].chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
    (server, stderr, base)
}

#[test]
fn tokens_from_the_command_line_authenticate_and_sigterm_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("feed.txt"), "45.9.20.31\n").unwrap();
    ok_in(d, &["ingest", "feed.txt", "--source", "alpha", "--tlp", "green"]);
    ok_in(d, &["org", "add", "soc", "--kind", "defender"]);
    let mut add = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["user", "add", "soc@soc.example", "--org", "soc", "--role", "reader", "--password-stdin"])
        .env("CORDON_DB", d.join("cordon.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    assert!(add.wait().unwrap().success());
    let created: serde_json::Value = serde_json::from_str(&ok_in(
        d,
        &["token", "create", "--user", "soc@soc.example", "--expires", "90d", "--json"],
    ))
    .unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("cordon_"));
    let listed = ok_in(d, &["token", "list"]);
    assert!(listed.contains("soc@soc.example") && !listed.contains(&token), "{listed}");
    let users = ok_in(d, &["user", "list", "--json"]);
    assert!(users.contains("\"password\":true") && !users.contains("correct horse"), "{users}");

    let (mut server, mut stderr, base) = start(d, &[]);
    let port = port_of(&base);
    let answer = get(port, "/api/v1/indicators", &token);
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("45.9.20.31"), "{answer}");
    ok_in(d, &["user", "disable", "soc@soc.example"]);
    // An authentication is trusted for 250 ms; a disabled user is out after.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(get(port, "/api/v1/indicators", &token).starts_with("HTTP/1.1 401"));

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");

    // Both calls are in the audit log, the refused one too, and the chain
    // holds until someone edits a row behind cordon's back.
    let audit = ok_in(d, &["audit", "list", "--json"]);
    let rows: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let results: Vec<&str> = rows.iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["200", "401"], "{audit}");
    assert_eq!(rows[0]["user"], "soc@soc.example");
    assert_eq!(rows[0]["action"], "GET /api/v1/indicators");
    assert!(ok_in(d, &["audit", "verify"]).contains("2 rows, chain intact"));
    let conn = rusqlite::Connection::open(d.join("cordon.db")).unwrap();
    assert!(conn.execute("UPDATE audit SET result = '200' WHERE id = 2", []).is_err(), "append-only");
    conn.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET result = '200' WHERE id = 2;").unwrap();
    drop(conn);
    let verify = common::cordon_in(d, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("broken at row #2"), "{verify:?}");
}

fn port_of(base: &str) -> u16 {
    base.strip_prefix("http://127.0.0.1:").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {base:?}"))
}

/// Every request is one JSON log event naming its request id (the
/// caller's, when harmless, answered back), route template, status and
/// time, never the raw path with the value looked up; the metrics count
/// the store's imports and records and the lookup index.
#[test]
fn requests_are_logged_under_their_id_and_imports_are_in_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("feed.txt"), "45.9.20.31\n45.9.20.300\n").unwrap();
    ok_in(d, &["ingest", "feed.txt", "--source", "alpha", "--tlp", "green", "--format", "plain"]);
    ok_in(d, &["user", "add", "admin@hub.example", "--org", "hub", "--role", "admin"]);
    let token = ok_in(d, &["token", "create", "--user", "admin@hub.example"]).trim().to_string();
    let (mut server, stderr, base) = start(d, &["--log-format", "json"]);
    let port = port_of(&base);
    let answer = get_with(port, "/api/v1/lookup/45.9.20.31", &token, "X-Request-Id: trace-42\r\n");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("x-request-id: trace-42\r\n"), "{answer}");
    let forged = get_with(port, "/healthz", "", "X-Request-Id: a\"b\r\n");
    assert!(!forged.contains("a\"b"), "{forged}");
    assert!(get(port, "/metrics", "").starts_with("HTTP/1.1 401"), "metrics need an admin's token");
    let metrics = get(port, "/metrics", &token);
    for line in [
        "cordon_imports_total 1",
        "cordon_import_records_total{outcome=\"accepted\"} 1",
        "cordon_import_records_total{outcome=\"rejected\"} 1",
        "cordon_lookup_index_views 1",
        "cordon_lookup_index_entries 1",
    ] {
        assert!(metrics.contains(&format!("{line}\n")), "{line} in {metrics}");
    }
    assert!(metrics.contains("cordon_store_generation "), "{metrics}");
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let events: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(&l.unwrap()).expect("every log line is JSON")).collect();
    let lookup = events.iter().find(|e| e["request_id"] == "trace-42").expect("the lookup's event");
    assert_eq!(lookup["route"], "/api/v1/lookup/{value}");
    assert_eq!((lookup["method"].as_str(), lookup["status"].as_u64()), (Some("GET"), Some(200)));
    assert!(lookup["took_ms"].as_f64().is_some());
    let text = events.iter().map(|e| e.to_string()).collect::<String>();
    assert!(!text.contains("45.9.20.31"), "the looked-up value is in the log: {text}");
    assert_eq!(events.iter().filter(|e| e["message"] == "request").count(), 4, "{text}");
}

/// A request that runs past `--request-timeout` (here a submission whose
/// client never sends the body it announced) answers 503 as a problem
/// document, and the server goes on serving.
#[test]
fn a_request_past_its_deadline_answers_503() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_in(d, &["user", "add", "admin@hub.example", "--org", "hub", "--role", "admin"]);
    let token = ok_in(d, &["token", "create", "--user", "admin@hub.example"]).trim().to_string();
    let (mut server, _stderr, base) = start(d, &["--request-timeout", "0.5"]);
    let port = port_of(&base);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "POST /api/v1/submissions?format=plain HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 1000\r\nConnection: close\r\n\r\n45.9.20.31\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let after = get(port, "/healthz", "");
    let _ = server.kill();
    let _ = server.wait();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json") && answer.contains("longer than"), "{answer}");
    assert!(after.starts_with("HTTP/1.1 200"), "{after}");
    let refused = common::cordon_in(d, &["serve", "--request-timeout", "0"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
}

/// The API fuzzed against its own OpenAPI document by schemathesis: a
/// bounded number of generated requests per route, and no answer may be a
/// server error (5xx).
#[test]
fn schemathesis_finds_no_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("feed.txt"), "45.9.20.31\nhxxp://evil[.]example/gate.php\n").unwrap();
    ok_in(d, &["ingest", "feed.txt", "--source", "alpha", "--tlp", "green"]);
    ok_in(d, &["user", "add", "admin@hub.example", "--org", "hub", "--role", "admin"]);
    let token = ok_in(d, &["token", "create", "--user", "admin@hub.example"]).trim().to_string();
    let (mut server, _stderr, base) = start(d, &["--rate-limit", "100000"]);
    let output = Command::new("schemathesis")
        .args(["run", &format!("{base}/api/v1/openapi.json"), "--checks", "not_a_server_error", "--max-examples", "20"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .output();
    let _ = server.kill();
    let _ = server.wait();
    let output = output.expect("schemathesis runs (scripts/install-peers.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("passed") && !text.contains(" failed"), "{text}");
}
