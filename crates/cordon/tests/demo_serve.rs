//! `cordon demo --serve` (issue 15): one command builds the demo
//! operation, adds a user per role with a password it prints once, and
//! serves the dashboard; the printed analyst signs in over HTTP, sees the
//! overview, and SIGTERM stops the server cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One HTTP/1.1 exchange: the status, the `Set-Cookie` pairs and the body.
fn exchange(port: u16, request: &str) -> (u16, Vec<String>, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let cookies = head
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .filter_map(|c| c.split(';').next())
        .map(str::to_string)
        .collect();
    (status, cookies, body.to_string())
}

fn get(port: u16, path: &str, cookies: &[String]) -> (u16, Vec<String>, String) {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\nConnection: close\r\n\r\n",
        cookies.join("; ")
    );
    exchange(port, &request)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn demo_serve_prints_users_and_serves_the_dashboard_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["demo", "--out", "demo", "--scale", "0.01", "--geo-data", "no-geo", "--serve", "--listen", &listen])
        .current_dir(dir.path())
        .env_remove("CORDON_DB")
        .env_remove("CORDON_GEO")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read what it prints up to the line that says it serves.
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let mut password = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split_once("the password ").map(|(_, r)| r) {
            password = rest.split(' ').next().map(str::to_string);
        }
        printed.push(line.clone());
        if line.starts_with("serving on ") {
            break;
        }
    }
    let printed = printed.join("\n");
    let password = password.unwrap_or_else(|| panic!("no password printed: {printed}"));
    for role in ["admin", "analyst", "submitter", "agency", "reader"] {
        assert!(printed.contains(&format!(" {role} ")), "a {role} user: {printed}");
    }
    assert!(printed.contains("analyst@hub.demo"), "{printed}");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start: {printed}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The sign-in form, then the analyst signs in with the printed password.
    let (status, cookies, form) = get(port, "/login", &[]);
    assert_eq!(status, 200);
    let at = form.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &form[at..at + form[at..].find('"').unwrap()];
    let body = format!("csrf={csrf}&email=analyst%40hub.demo&password={}", encode(&password));
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        cookies.join("; "),
        body.len()
    );
    let (status, session, _) = exchange(port, &request);
    assert_eq!(status, 303, "signed in");
    let session: Vec<String> = session.into_iter().filter(|c| c.starts_with("cordon_session=")).collect();
    assert_eq!(session.len(), 1);
    let (status, _, overview) = get(port, "/", &session);
    assert_eq!(status, 200);
    assert!(overview.contains("synergia-ii-demo") && overview.contains("World map"), "{overview}");

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // Drain what is left so the server never blocks on a full pipe.
    for _ in lines {}
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
