//! `cordon feed` and the scheduler of `cordon serve`, against a file
//! server run here on 127.0.0.1 (reachable only with the test switch
//! `CORDON_TESTING_ANY_DESTINATION=1`).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Serves `body` at every path with an ETag, answering 304 to a request
/// that sends it back; returns the port.
fn file_server(body: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut conditional = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
                conditional |= line.to_ascii_lowercase().starts_with("if-none-match: \"v1\"");
            }
            let head = if conditional {
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            if !conditional {
                let _ = stream.write_all(body);
            }
        }
    });
    port
}

fn cordon(dir: &Path, args: &[&str], any_destination: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cordon"));
    command.args(args).env("CORDON_DB", dir.join("cordon.db")).env_remove("CORDON_AS").stdin(Stdio::null());
    if any_destination {
        command.env("CORDON_TESTING_ANY_DESTINATION", "1");
    } else {
        command.env_remove("CORDON_TESTING_ANY_DESTINATION");
    }
    command.output().unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    common::stdout(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn feeds_are_added_run_and_listed_and_loopback_needs_the_test_switch() {
    let port = file_server(b"80.94.95.112\n45.9.20.31\n");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = format!("http://127.0.0.1:{port}/list.txt");
    let add = cordon(
        d,
        &[
            "feed", "add", "list", "--url", &url, "--source", "vendor-a", "--tlp", "green", "--every", "2h",
            "--header", "X-Key: 1",
        ],
        false,
    );
    assert!(add.status.success(), "{add:?}");

    let refused = cordon(d, &["feed", "run", "--json"], false);
    assert_eq!(refused.status.code(), Some(1), "a failed feed fails the run");
    let outcome = &json_lines(&refused)[0];
    assert!(outcome["error"].as_str().unwrap().contains("refused addresses"), "{outcome}");

    let ran = cordon(d, &["feed", "run", "list", "--json"], true);
    assert!(ran.status.success(), "{ran:?}");
    let outcome = &json_lines(&ran)[0];
    assert_eq!((outcome["status"].as_u64(), outcome["import"]["new"].as_u64()), (Some(200), Some(2)), "{outcome}");
    let again = cordon(d, &["feed", "run", "list"], true);
    assert!(common::stdout(&again).contains("HTTP 304, unchanged"), "{again:?}");

    let listed = &json_lines(&cordon(d, &["feed", "list", "--json"], false))[0];
    assert_eq!(
        (listed["name"].as_str(), listed["every"].as_u64(), listed["tlp"].as_str()),
        (Some("list"), Some(7200), Some("green"))
    );
    assert!(listed["last_success"].is_string() && listed["last_error"].is_null(), "{listed}");
    let imports = json_lines(&cordon(d, &["imports", "--json"], false));
    assert_eq!(imports.len(), 1, "one import, with the URL as its path: {imports:?}");
    assert_eq!(imports[0]["path"].as_str(), Some(url.as_str()));

    assert!(cordon(d, &["feed", "remove", "list"], false).status.success());
    assert_eq!(cordon(d, &["feed", "run", "list"], false).status.code(), Some(1), "an unknown feed");
}

#[test]
fn serve_runs_due_feeds_in_the_background_and_stops_on_sigterm() {
    let port = file_server(b"185.220.101.77\n");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = format!("http://127.0.0.1:{port}/list.txt");
    assert!(cordon(d, &["feed", "add", "good", "--url", &good, "--source", "s"], false).status.success());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = format!("http://127.0.0.1:{closed}/list.txt");
    assert!(cordon(d, &["feed", "add", "a-down", "--url", &down, "--source", "s"], false).status.success());

    let listen_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", &format!("127.0.0.1:{listen_port}")])
        .env("CORDON_DB", d.join("cordon.db"))
        .env("CORDON_TESTING_ANY_DESTINATION", "1")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ran = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        let feeds = json_lines(&cordon(d, &["feed", "list", "--json"], false));
        feeds.iter().all(|f| f["last_run"].is_string())
    });
    let feeds = json_lines(&cordon(d, &["feed", "list", "--json"], false));
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(ran, "the scheduler did not run both feeds: {feeds:?}");
    assert!(status.success(), "{status:?}");
    assert!(feeds[0]["last_error"].is_string(), "the unreachable feed failed: {feeds:?}");
    assert!(feeds[1]["last_success"].is_string(), "and did not keep the other from running: {feeds:?}");
    let imports = json_lines(&cordon(d, &["imports", "--json"], false));
    assert_eq!(imports.len(), 1);
}
