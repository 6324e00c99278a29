//! Errors as RFC 9457 problem details (`application/problem+json`): a
//! status, a title and a detail a person can act on; never a stack trace,
//! SQL or a store's own words.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cordon_app::AppError;
use serde::Serialize;

/// One problem document.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// What kind of problem (`about:blank`: the status says it).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The status's phrase.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// For 429: seconds to wait (the `Retry-After` header).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of `status` saying `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// The same problem, saying how long to wait.
    pub fn retry_after(self, seconds: u64) -> Problem {
        Problem { retry_after: Some(seconds), ..self }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cordon\""));
        }
        response
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        match e {
            AppError::NotFound(m) => Problem::new(StatusCode::NOT_FOUND, m),
            AppError::Conflict(m) => Problem::new(StatusCode::CONFLICT, m),
            AppError::Invalid(m) => Problem::new(StatusCode::BAD_REQUEST, m),
            // Someone else's object does not exist for this caller.
            AppError::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, m),
            AppError::Unauthorized(m) => Problem::new(StatusCode::UNAUTHORIZED, m),
            AppError::Busy(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "the store is busy; try again"),
            _ => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed; the server's log says why"),
        }
    }
}
