//! What the server's integration tests share: a plain HTTP/1.1 client over
//! real TCP, and a server on 127.0.0.1 in its own runtime.
#![allow(dead_code)] // each test binary uses its part

pub mod fixture;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use cordon_app::App;

/// An answer: status, headers (lowercase names), body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body's bytes as received (dechunked).
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request on its own connection.
pub fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Answer {
    request_with(addr, method, path, token, body, "")
}

/// The same, with extra header lines (each ending in CR LF).
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    extra: &str,
) -> Answer {
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n{extra}"));
    send(addr, method, path, &auth, body.unwrap_or("").as_bytes())
}

/// A request with a raw body and header lines of the caller's.
pub fn send(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413, 401) before it has read everything.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let bytes = if chunked { dechunk(&raw[split..]) } else { raw[split..].to_vec() };
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes }
}

/// A chunked body's content; stops at the last chunk or where it broke off.
pub fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let Ok(n) = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16) else { break };
        let tail = &rest[end + 2..];
        if n == 0 || tail.len() < n {
            break;
        }
        out.extend_from_slice(&tail[..n]);
        rest = tail[n..].strip_prefix(b"\r\n").unwrap_or(&tail[n..]);
    }
    out
}

/// Serves `app` on a free port of 127.0.0.1 from a thread of its own.
pub fn serve(app: App, limit: cordon_server::RateLimit) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            cordon_server::serve(listener, app, limit, std::future::pending()).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A limit no test reaches.
pub fn unlimited() -> cordon_server::RateLimit {
    cordon_server::RateLimit { per_second: 1e9, burst: 1e9 }
}

/// `bytes` gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
