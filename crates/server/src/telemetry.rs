//! One log event per request, under a request id, and a deadline for
//! every request.
//!
//! The request id is the caller's `X-Request-Id` when it is a short token
//! (letters, digits, `.`, `_`, `-`; at most 64), so that a proxy's id
//! carries through; otherwise one is made. It is answered in `X-Request-Id`
//! and names the request's log event. The event carries the route template
//! (never the raw path, which holds the values looked up), the method, the
//! status and the time taken; what the caller asked about is in the audit
//! log, which only administrators read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// The header that carries a request's id.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes request ids: a random prefix drawn once per process and a count,
/// so ids are unique within a process and unlikely to repeat across them.
pub(crate) struct RequestIds {
    prefix: u64,
    next: AtomicU64,
}

impl RequestIds {
    /// A new maker (its prefix from the system's randomness, or the clock
    /// where there is none).
    pub(crate) fn new() -> RequestIds {
        let mut bytes = [0u8; 8];
        let prefix = match getrandom::getrandom(&mut bytes) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
            }
        };
        RequestIds { prefix, next: AtomicU64::new(0) }
    }

    fn make(&self) -> String {
        format!("{:016x}-{:x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The caller's id when it is acceptable, else a new one.
    fn for_request(&self, given: Option<&HeaderValue>) -> String {
        given.and_then(|v| v.to_str().ok()).filter(|id| acceptable(id)).map_or_else(|| self.make(), str::to_string)
    }
}

/// A request id a caller may choose: nothing that could forge a log line
/// or a header.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// What the middleware needs.
pub(crate) struct Telemetry {
    pub(crate) ids: RequestIds,
    /// The longest a request may take before it answers 503.
    pub(crate) timeout: Duration,
}

/// Runs one request under its id and deadline, and logs it.
pub(crate) async fn around(State(state): State<crate::State>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = state.telemetry.ids.for_request(request.headers().get(&REQUEST_ID));
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    // An id is letters, digits and `._-` (ours or checked): a valid value.
    let header = HeaderValue::from_str(&id).ok();
    if let Some(value) = &header {
        request.headers_mut().insert(REQUEST_ID, value.clone());
    }
    let timeout = state.telemetry.timeout;
    let mut response = match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s and was stopped", timeout.as_secs()),
        )
        .into_response(),
    };
    if let Some(value) = header {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = response.status().as_u16();
    let took_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(request_id = %id, %method, route = %route, status, took_ms, "request failed");
    } else {
        tracing::info!(request_id = %id, %method, route = %route, status, took_ms, "request");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_ids_are_kept_only_when_harmless() {
        let ids = RequestIds::new();
        let given = |s: &str| ids.for_request(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(given("abc-123_x.y"), "abc-123_x.y");
        for hostile in ["a b", "a\u{7f}", "x".repeat(65).as_str(), "a;b", "\"quoted\"", ""] {
            let Ok(value) = HeaderValue::from_str(hostile) else { continue };
            let made = ids.for_request(Some(&value));
            assert_ne!(made, hostile);
            assert!(acceptable(&made), "{made}");
        }
        assert_ne!(ids.for_request(None), ids.for_request(None));
    }
}
