//! Feed collectors: what the hub pulls, over connections that never reach
//! its own network.
//!
//! [`pull`] runs one feed once, from where its last successful run left it
//! ([`FeedState`]), and returns what came ([`Pull`]): the content to import,
//! or none when nothing changed, with the provenance of the run (the URL,
//! the HTTP status, the bytes received) and the state to keep. It stores
//! nothing and parses no indicator: the caller imports [`Content::reader`]
//! (`cordon_app` does, through the ingest pipeline).
//!
//! Three kinds of feed ([`Kind::of`]):
//! * a file over HTTP(S), in any format cordon reads, gzip (by its magic
//!   bytes or `Content-Encoding`) and single-file zip archives unpacked, the
//!   unpacked size bounded ([`Settings::max_unpacked`]). Requests are
//!   conditional (`If-None-Match`, `If-Modified-Since` from the last
//!   answer's validators): an unchanged feed costs one 304 and no import;
//! * a TAXII 2.1 collection (`taxii2+https://…/collections/ID/`): its
//!   objects added after the last run's `X-TAXII-Date-Added-Last`, page by
//!   page (`next`, else `added_after` moved on), into one STIX bundle;
//! * a MISP feed directory (`--format misp-feed`, or a URL ending in
//!   `manifest.json`): the manifest (conditional too), then only the events
//!   that are new or whose `timestamp` changed.
//!
//! Every request goes through the same guard ([`Settings::destinations`]):
//! each address a host resolves to is checked with
//! [`cordon_model::refusal`] before any connect; loopback, private,
//! link-local (cloud metadata) and other special-use addresses are refused
//! unless a test opts in with [`Destinations::AnyForTesting`]. Transient
//! failures (5xx, 429, timeouts, failed connects) are retried with doubling
//! backoff. Nothing from a feed's content reaches a header or a shell: a
//! TAXII `next` is sent percent-encoded as a query parameter, MISP event
//! files are fetched only for keys that are UUIDs, and the validators sent
//! back are checked to be plain visible ASCII.
#![deny(missing_docs)]

mod content;
mod http;
mod misp;
mod taxii;

use std::time::Duration;

use cordon_formats::Format;
pub use cordon_model::Destinations;
pub use cordon_store::feeds::FeedState;

pub use content::Content;

/// How a collector connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Which addresses may be connected to.
    pub destinations: Destinations,
    /// The longest one request may take, from connect to the body's end.
    pub timeout: Duration,
    /// Attempts per request (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; each further wait doubles.
    pub backoff: Duration,
    /// The largest body accepted, as received (after any
    /// `Content-Encoding`), and the largest TAXII or MISP content a run
    /// gathers.
    pub max_body: u64,
    /// The largest content a gzip or zip file may unpack to.
    pub max_unpacked: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            destinations: Destinations::Public,
            timeout: Duration::from_secs(120),
            attempts: 3,
            backoff: Duration::from_secs(2),
            max_body: 256 << 20,
            max_unpacked: 1 << 30,
        }
    }
}

/// One feed, as a run needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed<'a> {
    /// Its URL.
    pub url: &'a str,
    /// The format it is read as, if given.
    pub format: Option<Format>,
    /// Headers to send with each request (checked with [`check_header`]).
    pub headers: &'a [(String, String)],
    /// `user:password` for HTTP Basic authentication.
    pub basic_auth: Option<&'a str>,
}

/// What a feed is pulled as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One file over HTTP(S).
    File,
    /// A TAXII 2.1 collection.
    Taxii,
    /// A MISP feed directory.
    MispFeed,
}

/// What one run brought.
#[derive(Debug)]
pub struct Pull {
    /// The URL of the run's last request.
    pub url: String,
    /// The HTTP status of the run's last answer.
    pub status: u16,
    /// The bytes received over the run's requests.
    pub bytes: u64,
    /// What to import; `None` when nothing changed (a 304, no new TAXII
    /// object, no new or changed MISP event).
    pub content: Option<Content>,
    /// What to remember for the next run, once the content is imported.
    pub state: FeedState,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// The feed's URL, format or headers make no sense.
    #[error("{0}")]
    Invalid(String),
    /// Every address of the host was refused; nothing was connected to.
    #[error("{0}")]
    Refused(String),
    /// The server answered with a status that is not a success.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status.
        status: u16,
    },
    /// The request failed on the way (connect, TLS, timeout).
    #[error("{url}: {reason}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A transient failure persisted through every attempt.
    #[error("{last} (after {attempts} attempts)")]
    Failed {
        /// The attempts made.
        attempts: u32,
        /// The last attempt's failure.
        last: Box<CollectError>,
    },
    /// The content is over a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// The server's answer is not what the protocol says (a TAXII envelope,
    /// a MISP manifest or event).
    #[error("{0}")]
    Protocol(String),
}

impl CollectError {
    /// The HTTP status of the last answer, if one came.
    pub fn status(&self) -> Option<u16> {
        match self {
            CollectError::Status { status, .. } => Some(*status),
            CollectError::Failed { last, .. } => last.status(),
            _ => None,
        }
    }
}

impl Kind {
    /// The kind of a feed at `url` read as `format`: `taxii2+http(s)://` is
    /// a TAXII collection, `misp-feed` (or a URL ending in `manifest.json`)
    /// a MISP feed directory, any other `http(s)://` URL a file. A URL with
    /// credentials in it is refused: they belong in an environment variable.
    pub fn of(url: &str, format: Option<Format>) -> Result<Kind, CollectError> {
        let parsed = url::Url::parse(url).map_err(|e| CollectError::Invalid(format!("'{url}' is not a URL: {e}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(CollectError::Invalid(
                "the URL holds credentials; name an environment variable with --basic-auth-env instead".into(),
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(CollectError::Invalid(format!("'{url}' names no host")));
        }
        let kind = match parsed.scheme() {
            "taxii2+https" | "taxii2+http" => Kind::Taxii,
            "https" | "http" if format == Some(Format::MispFeed) || parsed.path().ends_with("/manifest.json") => {
                Kind::MispFeed
            }
            "https" | "http" => Kind::File,
            other => {
                return Err(CollectError::Invalid(format!(
                    "'{other}:' feeds are not supported: use http(s):// or taxii2+http(s)://"
                )))
            }
        };
        if kind == Kind::Taxii && format.is_some_and(|f| f != Format::Stix) {
            return Err(CollectError::Invalid("a TAXII collection is read as STIX; leave --format out".into()));
        }
        Ok(kind)
    }
}

/// Checks one request header a feed sends: a token name, a value of
/// visible ASCII, spaces and tabs, and not a header the client sets itself.
pub fn check_header(name: &str, value: &str) -> Result<(), CollectError> {
    const TCHAR: &str = "!#$%&'*+-.^_`|~";
    let bad_name = name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || TCHAR.contains(c));
    if bad_name {
        return Err(CollectError::Invalid(format!("'{name}' is not a header name")));
    }
    if !value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        return Err(CollectError::Invalid(format!("the value of {name} holds characters a header may not")));
    }
    let reserved = ["host", "content-length", "transfer-encoding", "connection", "if-none-match", "if-modified-since"];
    if reserved.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(CollectError::Invalid(format!("{name} is set by cordon itself")));
    }
    Ok(())
}

/// Pulls `feed` once, from `state` (see the crate docs).
pub fn pull(feed: &Feed<'_>, state: &FeedState, settings: &Settings) -> Result<Pull, CollectError> {
    let kind = Kind::of(feed.url, feed.format)?;
    let mut headers = Vec::with_capacity(feed.headers.len() + 1);
    for (name, value) in feed.headers {
        check_header(name, value)?;
        headers.push((name.clone(), value.clone()));
    }
    if let Some(credentials) = feed.basic_auth {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        headers.push(("Authorization".to_string(), format!("Basic {encoded}")));
    }
    let client = http::Client::new(settings, headers);
    match kind {
        Kind::File => pull_file(&client, feed, state, settings),
        Kind::Taxii => taxii::pull(&client, feed.url, state, settings),
        Kind::MispFeed => misp::pull(&client, feed.url, state, settings),
    }
}

/// The conditional headers of a request from the last run's validators.
fn conditional(state: &FeedState) -> Vec<(&'static str, &str)> {
    let mut extra = Vec::new();
    if let Some(etag) = &state.etag {
        extra.push(("If-None-Match", etag.as_str()));
    }
    if let Some(date) = &state.last_modified {
        extra.push(("If-Modified-Since", date.as_str()));
    }
    extra
}

/// The validators of an answer, for the next run's conditional request.
fn validators(answer: &http::Answer, cursor: Option<String>) -> FeedState {
    FeedState {
        etag: http::validator(&answer.headers, "etag"),
        last_modified: http::validator(&answer.headers, "last-modified"),
        cursor,
    }
}

fn pull_file(
    client: &http::Client,
    feed: &Feed<'_>,
    state: &FeedState,
    settings: &Settings,
) -> Result<Pull, CollectError> {
    let mut bytes = 0;
    let answer = client.get(feed.url, &conditional(state), &[], &mut bytes)?;
    let url = feed.url.to_string();
    if answer.status == 304 {
        return Ok(Pull { url, status: 304, bytes, content: None, state: state.clone() });
    }
    let new_state = validators(&answer, None);
    let content = Content::unpack(feed.url, answer.body, feed.format, settings.max_unpacked)?;
    Ok(Pull { url, status: answer.status, bytes, content: Some(content), state: new_state })
}
