//! Verifying takedowns: is anything still answering?
//!
//! Each `taken-down` server target gets a TCP connect to its known ports
//! (from `ip:port` sightings, else 80 and 443) and an HTTP/1.0 GET of each
//! of its `http://` and `https://` URLs (a URL of another scheme gets a TCP
//! connect to its port). A target is up if any probe answers: a connect
//! that opens, or a GET answered with a 2xx or 3xx status. The rule is the
//! same over TLS as in plain HTTP: a 4xx or 5xx answer is down (the server
//! is there but no longer serves what was taken down; the status is kept in
//! the check's detail), and so is a refused connect, a failed or timed-out
//! TLS handshake, or a server that closes without a status line. Network
//! targets are not probed. Two consecutive down checks at least
//! `min_interval` apart make a target eligible for `verified`.
//!
//! HTTPS uses rustls with the *ring* provider (TLS 1.2 and 1.3) and does not
//! validate certificates (`AnyCertificate` says why). The cost: a server
//! that speaks only TLS 1.0/1.1, or only cipher suites rustls does not
//! offer (RSA key exchange, CBC), fails the handshake and its URL counts as
//! down, though a TCP connect to the same port would see it.
//!
//! Probes run on `concurrency` threads. The connect, the TLS handshake, and
//! the request with the status line's read are each bounded by `timeout` as
//! a whole (a deadline, not a per-read limit, so a server trickling bytes
//! cannot hold a probe longer). This is the only module of the crate that
//! opens connections.
//!
//! # Where probes may connect
//!
//! Hostnames come from feeds, that is from criminals, so a name may resolve
//! to the hub's own network: loopback, private ranges, the cloud metadata
//! address 169.254.169.254. Before any connect, every address (a target's
//! own, or each address a URL's host resolves to) is checked with the bogon
//! rules ([`cordon_model::ip_not_targetable`]; an IPv6 address embedding an
//! IPv4 one, as `::ffff:127.0.0.1`, NAT64 `64:ff9b::/96` and 6to4
//! `2002::/16` do, is checked for that IPv4 address too). A refused address
//! is never connected to; a URL is fetched from the first allowed address
//! its host resolved to, by connecting to that checked address, so a name
//! that resolves differently a moment later (DNS rebinding) cannot redirect
//! the connect. A probe whose every address was refused records a check
//! whose detail starts with [`REFUSED`], which is neither up nor down: it
//! does not count towards verification and its target is counted as not
//! probed. [`Destinations::AnyForTesting`] lifts the check, for tests that
//! run servers on 127.0.0.1; the CLI never uses it.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cordon_model::{Kind, Timestamp};
use cordon_store::ops::{Check, Operation, OpsStore, Target, TargetKind, TargetState};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

use crate::workflow::{targets_in, transition, Actor};
use crate::OpsError;

/// Where probes may connect: the rule every outbound connection of cordon
/// follows (defined in the model, shared with the feed collectors).
pub use cordon_model::{refusal, Destinations};

/// The start of the detail of a check that probed nothing because every
/// address was refused (see the module docs).
pub const REFUSED: &str = "refused: ";

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
    /// `http://` and `https://` URLs to GET.
    pub get: Vec<String>,
}

/// What `verify` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifySummary {
    /// Targets probed.
    pub checked: usize,
    /// Of which something answered.
    pub up: usize,
    /// Targets not probed (networks, nothing to probe, every address
    /// refused).
    pub skipped: usize,
    /// Of `skipped`, targets whose every address was refused.
    pub refused: usize,
    /// Targets eligible for verified.
    pub eligible: Vec<i64>,
    /// Targets moved to verified (with `apply`).
    pub verified: usize,
}

/// A certificate verifier that accepts every certificate.
///
/// `verify` asks whether a server still answers, not whether it can be
/// trusted, and takedown targets (phishing pages, C2 servers) typically
/// present self-signed, expired or mismatched certificates, or none valid
/// for the name in the URL. Validating them would report those servers as
/// down while they still serve. Nothing is sent that needs protecting: the
/// request is a fixed GET of a URL the server already hosts.
///
/// Handshake signatures are still checked with the provider's algorithms,
/// so a completed handshake means the peer holds the key of the certificate
/// it presented, like any TLS server, and a broken TLS stack does not count
/// as an answer.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

/// Why a GET got no status line; written into the check's detail.
#[derive(Debug, thiserror::Error)]
enum GetError {
    /// Not an `http://` or `https://` URL.
    #[error("not an http(s) URL")]
    Url,
    /// The host has no address.
    #[error("cannot resolve the host")]
    Resolve,
    /// Every address of the host was refused; nothing was connected to.
    #[error("{0}")]
    Refused(String),
    /// The TCP connect failed or timed out.
    #[error("connect: {0}")]
    Connect(io::Error),
    /// The TLS client could not be set up (not the server's doing).
    #[error("TLS setup: {0}")]
    TlsSetup(rustls::Error),
    /// The TLS handshake failed or timed out.
    #[error("TLS handshake: {0}")]
    Handshake(io::Error),
    /// Sending the request or reading the answer failed or timed out.
    #[error("exchange: {0}")]
    Exchange(io::Error),
    /// The answer did not start with an HTTP status line.
    #[error("no HTTP status line")]
    NoStatus,
}

/// A URL split at its authority: what a connect and a GET need.
struct UrlParts<'a> {
    scheme: &'a str,
    /// Host and port as written, without userinfo: the `Host` header.
    authority: &'a str,
    /// The host without port or IPv6 brackets.
    host: &'a str,
    /// The written port, else the scheme's default (443 for `https`, else 80).
    port: u16,
    /// Path, query and fragment, as written.
    rest: &'a str,
}

/// A TCP stream whose reads and writes share one deadline: each waits at
/// most until the deadline, and fails with `TimedOut` once it has passed.
struct Deadline {
    stream: TcpStream,
    timeout: Duration,
    /// `None` when `timeout` is too large to add to now: each read or write
    /// then waits at most `timeout`.
    deadline: Option<Instant>,
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
        match UrlParts::split(url) {
            Some(parts) if parts.is_http() => get.push(url.clone()),
            Some(parts) => connect.extend(parts.address()),
            None => {}
        }
    }
    connect.sort();
    connect.dedup();
    (!connect.is_empty() || !get.is_empty()).then_some(Probe { target_id: target.id, connect, get })
}

/// Runs the probes, connecting only to addresses `destinations` allows; one
/// check per probe, in the order given.
pub fn run_probes(probes: &[Probe], config: &VerifyConfig, destinations: Destinations, time: Timestamp) -> Vec<Check> {
    let tls = tls_config();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![None; probes.len()]);
    std::thread::scope(|scope| {
        for _ in 0..config.concurrency.clamp(1, 256).min(probes.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(probe) = probes.get(i) else { break };
                let check = run_probe(probe, &tls, config.timeout, destinations, time);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(check);
                }
            });
        }
    });
    results.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl<'a> UrlParts<'a> {
    /// Splits `scheme://[userinfo@]host[:port][rest]`; `None` without a
    /// scheme, host or valid port.
    fn split(url: &'a str) -> Option<UrlParts<'a>> {
        let (scheme, after) = url.split_once("://")?;
        let (authority, rest) = after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len()));
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.ends_with(']') => (host, port.parse().ok()?),
            _ => (authority, if scheme == "https" { 443 } else { 80 }),
        };
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        (!host.is_empty()).then_some(UrlParts { scheme, authority, host, port, rest })
    }

    fn is_http(&self) -> bool {
        matches!(self.scheme, "http" | "https")
    }

    /// The first address of the host and port.
    fn address(&self) -> Option<SocketAddr> {
        (self.host, self.port).to_socket_addrs().ok()?.next()
    }

    /// Resolves the host once and returns the first address `destinations`
    /// allows: the connect goes to this checked address, not to a second
    /// resolution.
    fn allowed_address(&self, destinations: Destinations) -> Result<SocketAddr, GetError> {
        let addrs: Vec<SocketAddr> = (self.host, self.port).to_socket_addrs().map_err(|_| GetError::Resolve)?.collect();
        let mut refused = Vec::new();
        for addr in addrs {
            match refusal(addr.ip(), destinations) {
                None => return Ok(addr),
                Some(reason) => refused.push(reason),
            }
        }
        if refused.is_empty() {
            return Err(GetError::Resolve);
        }
        Err(GetError::Refused(format!("{} resolves only to refused addresses: {}", self.host, refused.join(", "))))
    }

    /// What the request line asks for: path and query, starting with `/`.
    fn request_target(&self) -> String {
        let target = self.rest.split('#').next().unwrap_or_default();
        if target.starts_with('/') {
            target.to_string()
        } else {
            format!("/{target}")
        }
    }

    /// The name the TLS client is told: a domain is sent as SNI; an IP
    /// literal, or a host name rustls rejects, becomes the address, for
    /// which no SNI is sent.
    fn server_name(&self, addr: SocketAddr) -> ServerName<'static> {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => ServerName::from(ip),
            Err(_) => ServerName::try_from(self.host.to_string()).unwrap_or(ServerName::from(addr.ip())),
        }
    }
}

impl Deadline {
    fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Deadline> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        Ok(Deadline { stream, timeout, deadline: Instant::now().checked_add(timeout) })
    }

    /// Starts a new `timeout` from now.
    fn restart(&mut self) {
        self.deadline = Instant::now().checked_add(self.timeout);
    }

    fn remaining(&self) -> io::Result<Duration> {
        let Some(deadline) = self.deadline else { return Ok(self.timeout) };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        Ok(left)
    }
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.remaining()?))?;
        self.stream.read(buf).map_err(as_timed_out)
    }
}

impl Write for Deadline {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.remaining()?))?;
        self.stream.write(buf).map_err(as_timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The client configuration every HTTPS GET of a run shares.
fn tls_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = AnyCertificate { algorithms: provider.signature_verification_algorithms };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn run_probe(
    probe: &Probe,
    tls: &Result<Arc<ClientConfig>, rustls::Error>,
    timeout: Duration,
    destinations: Destinations,
    time: Timestamp,
) -> Check {
    let mut details = Vec::new();
    let mut refused = Vec::new();
    let mut up = false;
    for addr in &probe.connect {
        if let Some(reason) = refusal(addr.ip(), destinations) {
            refused.push(format!("tcp {addr} not connected: {reason}"));
            continue;
        }
        let open = TcpStream::connect_timeout(addr, timeout).is_ok();
        up |= open;
        details.push(format!("tcp {addr} {}", if open { "open" } else { "closed" }));
    }
    for url in &probe.get {
        match get_status(url, tls, timeout, destinations) {
            Ok(status) => {
                up |= (200..400).contains(&status);
                details.push(format!("GET {url} {status}"));
            }
            Err(GetError::Refused(reason)) => refused.push(format!("GET {url} not connected: {reason}")),
            Err(e) => details.push(format!("GET {url} no answer ({e})")),
        }
    }
    let detail = if details.is_empty() && !refused.is_empty() {
        format!("{REFUSED}{}", refused.join("; "))
    } else {
        details.extend(refused);
        details.join("; ")
    };
    Check { target_id: probe.target_id, time, up, detail }
}

/// Whether a check probed nothing because every address was refused.
pub fn is_refused(check: &Check) -> bool {
    check.detail.starts_with(REFUSED)
}

/// The status code of an HTTP/1.0 GET of an `http://` or `https://` URL.
fn get_status(
    url: &str,
    tls: &Result<Arc<ClientConfig>, rustls::Error>,
    timeout: Duration,
    destinations: Destinations,
) -> Result<u16, GetError> {
    let url = UrlParts::split(url).filter(UrlParts::is_http).ok_or(GetError::Url)?;
    let addr = url.allowed_address(destinations)?;
    let mut stream = Deadline::connect(addr, timeout).map_err(GetError::Connect)?;
    if url.scheme == "http" {
        return exchange(&mut stream, &url);
    }
    let config = tls.as_ref().map_err(|e| GetError::TlsSetup(e.clone()))?;
    let mut conn = ClientConnection::new(Arc::clone(config), url.server_name(addr)).map_err(GetError::TlsSetup)?;
    conn.complete_io(&mut stream).map_err(GetError::Handshake)?;
    if conn.is_handshaking() {
        return Err(GetError::Handshake(io::ErrorKind::UnexpectedEof.into()));
    }
    stream.restart();
    exchange(&mut rustls::Stream::new(&mut conn, &mut stream), &url)
}

/// Sends a GET of `url` and reads the status code of the answer's status
/// line, over plain TCP or TLS alike.
fn exchange(stream: &mut (impl Read + Write), url: &UrlParts<'_>) -> Result<u16, GetError> {
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: cordon-verify\r\nConnection: close\r\n\r\n",
        url.request_target(),
        url.authority
    );
    stream.write_all(request.as_bytes()).and_then(|()| stream.flush()).map_err(GetError::Exchange)?;
    // "HTTP/1.1 200" is 12 bytes.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if read == 0 => return Err(GetError::Exchange(e)),
            Err(_) => break,
        }
    }
    let mut words = head[..read].split(u8::is_ascii_whitespace).filter(|w| !w.is_empty());
    words.next().filter(|version| version.starts_with(b"HTTP/")).ok_or(GetError::NoStatus)?;
    words
        .next()
        .and_then(|code| std::str::from_utf8(code).ok()?.parse::<u16>().ok())
        .filter(|code| (100..1000).contains(code))
        .ok_or(GetError::NoStatus)
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timed out")
}

/// A socket timeout reads as `WouldBlock` on Unix; say what it is.
fn as_timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        timed_out()
    } else {
        e
    }
}

/// Whether a target's last two checks that probed something were down,
/// `min_interval` apart (refused checks, see [`is_refused`], say nothing).
pub fn eligible(checks: &[Check], min_interval: i64) -> bool {
    let mut probed = checks.iter().rev().filter(|c| !is_refused(c));
    match (probed.next(), probed.next()) {
        (Some(b), Some(a)) => !a.up && !b.up && b.time - a.time >= min_interval,
        _ => false,
    }
}

/// Probes the operation's taken-down targets, connecting to public
/// addresses only ([`Destinations::Public`]), records the checks, and with
/// `apply` moves the eligible ones to `verified`.
pub fn verify(
    store: &dyn OpsStore,
    operation: &Operation,
    config: &VerifyConfig,
    apply: bool,
    actor: &Actor,
) -> Result<VerifySummary, OpsError> {
    verify_to(store, operation, config, Destinations::Public, apply, actor)
}

/// [`verify`], connecting only to addresses `destinations` allows.
pub fn verify_to(
    store: &dyn OpsStore,
    operation: &Operation,
    config: &VerifyConfig,
    destinations: Destinations,
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
    let checks = run_probes(&probes, config, destinations, actor.time);
    store.record_checks(&checks)?;
    summary.refused = checks.iter().filter(|c| is_refused(c)).count();
    summary.skipped += summary.refused;
    summary.checked = checks.len() - summary.refused;
    summary.up = checks.iter().filter(|c| c.up).count();
    for check in checks.iter().filter(|c| !is_refused(c)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer that answers `answer` and keeps what it was sent.
    struct Script {
        answer: io::Cursor<Vec<u8>>,
        sent: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.answer.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.sent.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn special_use_addresses_are_refused_unless_testing() {
        let refused = [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
        ];
        for raw in refused {
            let ip: IpAddr = raw.parse().unwrap();
            let reason = refusal(ip, Destinations::Public);
            assert!(reason.as_deref().is_some_and(|r| r.contains("address (bogon:")), "{raw}: {reason:?}");
            assert_eq!(refusal(ip, Destinations::AnyForTesting), None, "{raw}");
        }
        for raw in ["80.94.95.112", "45.9.20.31", "2a01:4f8::1", "::ffff:80.94.95.112", "64:ff9b::505e:5f70"] {
            assert_eq!(refusal(raw.parse().unwrap(), Destinations::Public), None, "{raw}");
        }
        assert_eq!(
            refusal("169.254.169.254".parse().unwrap(), Destinations::Public).as_deref(),
            Some("169.254.169.254 is a link-local address (bogon:link-local)")
        );
    }

    #[test]
    fn refused_checks_do_not_count_towards_verification() {
        let check = |time, up, detail: &str| Check { target_id: 1, time, up, detail: detail.to_string() };
        let down = [check(0, false, "tcp 80.94.95.112:80 closed"), check(100, false, "tcp 80.94.95.112:80 closed")];
        assert!(eligible(&down, 60));
        let refused = format!("{REFUSED}tcp 127.0.0.1:80 not connected");
        let with_refusals = [check(0, false, &refused), check(100, false, &refused)];
        assert!(!eligible(&with_refusals, 60));
        let mixed = [down[0].clone(), check(50, false, &refused), down[1].clone(), check(150, false, &refused)];
        assert!(eligible(&mixed, 60), "refused checks are skipped, not taken as down or up");
    }

    #[test]
    fn urls_split_at_their_authority() {
        let cases = [
            ("https://phish.example/login?x=1#top", "phish.example", "phish.example", 443, "/login?x=1"),
            ("http://user:pw@198.51.100.7:8080?q", "198.51.100.7:8080", "198.51.100.7", 8080, "/?q"),
            ("https://[2001:db8::1]", "[2001:db8::1]", "2001:db8::1", 443, "/"),
            ("https://[2001:db8::1]:8443/a", "[2001:db8::1]:8443", "2001:db8::1", 8443, "/a"),
            ("ftp://files.example/x", "files.example", "files.example", 80, "/x"),
        ];
        for (url, authority, host, port, target) in cases {
            let parts = UrlParts::split(url).unwrap();
            assert_eq!(
                (parts.authority, parts.host, parts.port, parts.request_target().as_str()),
                (authority, host, port, target),
                "{url}"
            );
        }
        for bad in ["phish.example/login", "http://phish.example:99999/", "https:///login"] {
            assert!(UrlParts::split(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sni_is_sent_for_domains_only() {
        let addr: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let name = |url| UrlParts::split(url).unwrap().server_name(addr);
        assert_eq!(name("https://phish.example/"), ServerName::try_from("phish.example").unwrap());
        assert!(matches!(name("https://phish.example/"), ServerName::DnsName(_)));
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(name("https://198.51.100.7/"), ServerName::from(v4));
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(name("https://[2001:db8::1]:8443/"), ServerName::from(v6));
        assert_eq!(name("https://not!a-name.example/"), ServerName::from(addr.ip()), "unsendable names go without SNI");
    }

    #[test]
    fn exchange_sends_a_get_and_reads_the_status_line() {
        let url = UrlParts::split("https://phish.example:8443/a?b=1#frag").unwrap();
        let cases: [(&[u8], Option<u16>); 6] = [
            (b"HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\n", Some(302)),
            (b"HTTP/1.0 404 Not Found\r\n\r\n", Some(404)),
            (b"HTTP/1.1 503", Some(503)),
            (b"SSH-2.0-OpenSSH_9.6\r\n", None),
            (b"HTTP/1.1 2", None),
            (b"", None),
        ];
        for (answer, status) in cases {
            let mut peer = Script { answer: io::Cursor::new(answer.to_vec()), sent: Vec::new() };
            assert_eq!(exchange(&mut peer, &url).ok(), status, "{}", String::from_utf8_lossy(answer));
            assert_eq!(
                String::from_utf8_lossy(&peer.sent),
                "GET /a?b=1 HTTP/1.0\r\nHost: phish.example:8443\r\nUser-Agent: cordon-verify\r\nConnection: close\r\n\r\n"
            );
        }
    }
}
