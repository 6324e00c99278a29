//! Guarded HTTP(S) GETs with retries.
//!
//! [`Client`] wraps a ureq agent whose resolver ([`Guard`]) checks every
//! address a host resolves to with [`cordon_model::refusal`] and hands the
//! connector only the allowed ones: ureq connects to exactly those
//! addresses, so a name that resolves differently a moment later (DNS
//! rebinding) cannot reach the hub's own network, and every redirect is
//! resolved through the same guard. Proxies from the environment are not
//! used (a proxy would be resolved instead of the feed's host). HTTPS
//! certificates are validated against the Mozilla roots (webpki-roots).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cordon_model::{refusal, Destinations};
use ureq::http::{HeaderMap, Uri};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::{CollectError, Settings};

/// The longest validator (`ETag`, `Last-Modified`) kept; a longer one is
/// dropped, which costs a full download next time, nothing else.
const MAX_VALIDATOR: usize = 512;

/// A client for one run of one feed.
pub(crate) struct Client {
    agent: ureq::Agent,
    settings: Settings,
    /// Why the guard refused addresses during the current request.
    refused: Arc<Mutex<Vec<String>>>,
    /// Headers sent with every request: the feed's own and its
    /// authorization.
    headers: Vec<(String, String)>,
}

/// The resolver that applies [`refusal`] to resolved addresses.
#[derive(Debug)]
struct Guard {
    destinations: Destinations,
    refused: Arc<Mutex<Vec<String>>>,
}

/// A successful answer: 200 with its body, or 304.
pub(crate) struct Answer {
    /// 200 or 304.
    pub(crate) status: u16,
    /// The answer's headers.
    pub(crate) headers: HeaderMap,
    /// The body (empty for 304), decoded from any `Content-Encoding`.
    pub(crate) body: Vec<u8>,
}

/// Why one attempt failed, and whether another may succeed.
enum Attempt {
    /// Worth retrying: a 5xx or 429 answer, a timeout, a failed connect.
    Transient(CollectError),
    /// Not worth retrying.
    Final(CollectError),
}

impl Resolver for Guard {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = DefaultResolver::default().resolve(uri, config, timeout)?;
        let mut allowed = self.empty();
        let mut refused = Vec::new();
        for addr in resolved.iter() {
            match refusal(addr.ip(), self.destinations) {
                None => allowed.push(*addr),
                Some(reason) => refused.push(reason),
            }
        }
        if allowed.is_empty() {
            let host = uri.host().unwrap_or_default();
            let reason = format!("{host} resolves only to refused addresses: {}", refused.join(", "));
            if let Ok(mut all) = self.refused.lock() {
                all.push(reason.clone());
            }
            return Err(ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::PermissionDenied, reason)));
        }
        Ok(allowed)
    }
}

impl Client {
    /// A client sending `headers` (already checked) with every request.
    pub(crate) fn new(settings: &Settings, headers: Vec<(String, String)>) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(5)
            .user_agent(concat!("cordon-collect/", env!("CARGO_PKG_VERSION")))
            .timeout_global(Some(settings.timeout))
            .timeout_connect(Some(settings.timeout.min(Duration::from_secs(10))))
            .build();
        let refused = Arc::new(Mutex::new(Vec::new()));
        let guard = Guard { destinations: settings.destinations, refused: refused.clone() };
        let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), guard);
        Client { agent, settings: settings.clone(), refused, headers }
    }

    /// GETs `url` with the feed's headers, `extra` headers and `query`
    /// parameters (percent-encoded), retrying transient failures
    /// `settings.attempts` times with doubling backoff. Counts the bytes of
    /// every body read into `bytes`.
    pub(crate) fn get(
        &self,
        url: &str,
        extra: &[(&str, &str)],
        query: &[(&str, &str)],
        bytes: &mut u64,
    ) -> Result<Answer, CollectError> {
        let attempts = self.settings.attempts.max(1);
        let mut delay = self.settings.backoff;
        let mut attempt = 1;
        loop {
            match self.attempt(url, extra, query, bytes) {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Transient(e)) if attempt >= attempts => {
                    return Err(CollectError::Failed { attempts, last: Box::new(e) });
                }
                Err(Attempt::Transient(_)) => {
                    std::thread::sleep(delay);
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(
        &self,
        url: &str,
        extra: &[(&str, &str)],
        query: &[(&str, &str)],
        bytes: &mut u64,
    ) -> Result<Answer, Attempt> {
        if let Ok(mut refused) = self.refused.lock() {
            refused.clear();
        }
        let mut request = self.agent.get(url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        for (name, value) in query {
            request = request.query(*name, *value);
        }
        let mut response = match request.call() {
            Ok(response) => response,
            Err(e) => return Err(self.classify(url, e)),
        };
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(Answer { status, headers: response.headers().clone(), body: Vec::new() });
        }
        if status == 429 || status >= 500 {
            return Err(Attempt::Transient(CollectError::Status { url: url.to_string(), status }));
        }
        if status != 200 {
            return Err(Attempt::Final(CollectError::Status { url: url.to_string(), status }));
        }
        let body = response.body_mut().with_config().limit(self.settings.max_body).read_to_vec();
        match body {
            Ok(body) => {
                *bytes += body.len() as u64;
                Ok(Answer { status, headers: response.headers().clone(), body })
            }
            Err(ureq::Error::BodyExceedsLimit(limit)) => {
                Err(Attempt::Final(CollectError::TooLarge(format!("{url}: the answer is over {limit} bytes"))))
            }
            Err(e) => Err(self.classify(url, e)),
        }
    }

    /// Whether a transport error is worth another attempt.
    fn classify(&self, url: &str, error: ureq::Error) -> Attempt {
        let refused = self.refused.lock().map(|r| r.join("; ")).unwrap_or_default();
        if !refused.is_empty() {
            return Attempt::Final(CollectError::Refused(format!("{url} not fetched: {refused}")));
        }
        let transport = CollectError::Transport { url: url.to_string(), reason: error.to_string() };
        match error {
            ureq::Error::Timeout(_)
            | ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_) => Attempt::Transient(transport),
            _ => Attempt::Final(transport),
        }
    }
}

/// A validator header of an answer (`ETag`, `Last-Modified`), if it is a
/// visible-ASCII value of reasonable length: what goes back to the server
/// as `If-None-Match` / `If-Modified-Since` is a legal header value, never
/// anything that could end a header.
pub(crate) fn validator(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    (!value.is_empty() && value.len() <= MAX_VALIDATOR && value.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .then(|| value.to_string())
}
