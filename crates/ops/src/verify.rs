//! Verifying takedowns: is anything still answering?
//!
//! Each `taken-down` server target gets a TCP connect to its known ports
//! (from `ip:port` sightings, else 80 and 443) and an HTTP GET of each of
//! its `http://` URLs (an `https://` URL gets a TCP connect to its port: no
//! TLS stack here). A target is up if any probe answers (HTTP: a 2xx or
//! 3xx status). Network targets are not probed. Two consecutive down
//! checks at least `min_interval` apart make a target eligible for
//! `verified`.
//!
//! Probes run on `concurrency` threads, each connect and read bounded by
//! `timeout`. This is the only module of the crate that opens connections.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use cordon_model::{Kind, Timestamp};
use cordon_store::ops::{Check, Operation, OpsStore, Target, TargetKind, TargetState};

use crate::workflow::{targets_in, transition, Actor};
use crate::OpsError;

/// How to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Probes in flight at once (at least 1).
    pub concurrency: usize,
    /// Bound on each connect, read and write.
    pub timeout: Duration,
    /// Seconds two down checks must be apart to count as verification.
    pub min_interval: i64,
}

/// What to probe for one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The target.
    pub target_id: i64,
    /// Addresses to TCP-connect to.
    pub connect: Vec<SocketAddr>,
    /// `http://` URLs to GET.
    pub get: Vec<String>,
}

/// What `verify` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifySummary {
    /// Targets probed.
    pub checked: usize,
    /// Of which something answered.
    pub up: usize,
    /// Targets not probed (networks, nothing to probe).
    pub skipped: usize,
    /// Targets eligible for verified.
    pub eligible: Vec<i64>,
    /// Targets moved to verified (with `apply`).
    pub verified: usize,
}

/// The probes for a taken-down target, from its key, ports and URLs.
pub fn probe_for(target: &Target, urls: &[String]) -> Option<Probe> {
    if target.spec.kind == TargetKind::Network {
        return None;
    }
    let mut connect = Vec::new();
    if let Ok(ip) = target.spec.key.parse::<IpAddr>() {
        let ports: &[u16] = if target.spec.ports.is_empty() { &[80, 443] } else { &target.spec.ports };
        connect.extend(ports.iter().map(|p| SocketAddr::new(ip, *p)));
    }
    let mut get = Vec::new();
    for url in urls {
        if url.starts_with("http://") {
            get.push(url.clone());
        } else if let Some(addr) = url_address(url) {
            connect.push(addr);
        }
    }
    connect.sort();
    connect.dedup();
    (!connect.is_empty() || !get.is_empty()).then_some(Probe { target_id: target.id, connect, get })
}

/// The first address of a URL's host and port.
fn url_address(url: &str) -> Option<SocketAddr> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let default = if url.starts_with("https://") { 443 } else { 80 };
    let with_port =
        if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) && !authority.ends_with(']') {
            authority.to_string()
        } else {
            format!("{authority}:{default}")
        };
    with_port.to_socket_addrs().ok()?.next()
}

/// Runs the probes; one check per probe, in the order given.
pub fn run_probes(probes: &[Probe], config: &VerifyConfig, time: Timestamp) -> Vec<Check> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![None; probes.len()]);
    std::thread::scope(|scope| {
        for _ in 0..config.concurrency.clamp(1, 256).min(probes.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(probe) = probes.get(i) else { break };
                let check = run_probe(probe, config.timeout, time);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(check);
                }
            });
        }
    });
    results.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

fn run_probe(probe: &Probe, timeout: Duration, time: Timestamp) -> Check {
    let mut details = Vec::new();
    let mut up = false;
    for addr in &probe.connect {
        let open = TcpStream::connect_timeout(addr, timeout).is_ok();
        up |= open;
        details.push(format!("tcp {addr} {}", if open { "open" } else { "closed" }));
    }
    for url in &probe.get {
        let status = http_status(url, timeout);
        up |= status.is_some_and(|s| (200..400).contains(&s));
        details.push(format!("GET {url} {}", status.map_or("no answer".to_string(), |s| s.to_string())));
    }
    Check { target_id: probe.target_id, time, up, detail: details.join("; ") }
}

/// The status code of an HTTP/1.0 GET of an `http://` URL.
fn http_status(url: &str, timeout: Duration) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
    let addr = url_address(url)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: cordon-verify\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    let line = std::str::from_utf8(&head[..read]).ok()?;
    let mut words = line.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/"))?;
    words.next()?.parse().ok()
}

/// Whether a target's last two checks were down, `min_interval` apart.
pub fn eligible(checks: &[Check], min_interval: i64) -> bool {
    match checks {
        [.., a, b] => !a.up && !b.up && b.time - a.time >= min_interval,
        _ => false,
    }
}

/// Probes the operation's taken-down targets, records the checks, and with
/// `apply` moves the eligible ones to `verified`.
pub fn verify(
    store: &mut dyn OpsStore,
    operation: &Operation,
    config: &VerifyConfig,
    apply: bool,
    actor: &Actor,
) -> Result<VerifySummary, OpsError> {
    let targets = targets_in(store, operation.id, TargetState::TakenDown)?;
    let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
    let evidence = store.evidence(&ids)?;
    let mut urls: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for e in evidence.iter().filter(|e| e.kind == Kind::Url) {
        let list = urls.entry(e.target_id).or_default();
        if !list.contains(&e.value) {
            list.push(e.value.clone());
        }
    }
    let mut summary = VerifySummary::default();
    let mut probes = Vec::new();
    for target in &targets {
        match probe_for(target, urls.get(&target.id).map_or(&[][..], Vec::as_slice)) {
            Some(probe) => probes.push(probe),
            None => summary.skipped += 1,
        }
    }
    let checks = run_probes(&probes, config, actor.time);
    store.record_checks(&checks)?;
    summary.checked = checks.len();
    summary.up = checks.iter().filter(|c| c.up).count();
    for check in &checks {
        if eligible(&store.checks(check.target_id)?, config.min_interval) {
            summary.eligible.push(check.target_id);
        }
    }
    if apply {
        let chosen: Vec<Target> = targets.into_iter().filter(|t| summary.eligible.contains(&t.id)).collect();
        summary.verified = transition(store, &chosen, TargetState::Verified, None, actor)?.applied.len();
    }
    Ok(summary)
}
