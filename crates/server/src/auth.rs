//! Authentication and the route policy, as one middleware: the caller's
//! `Authorization: Bearer` token (or HTTP Basic: the user's e-mail and a
//! token as the password) becomes a [`Principal`] (or a 401), and the
//! route's [`Access`] decides whether that principal may call it (or a 403).

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cordon_app::access::Principal;
use cordon_store::audit::AuditEntry;

use crate::problem::Problem;
use crate::routes::{policy, Access};

/// Authenticates and authorizes one request, then runs it; counts it in
/// the metrics by its route template (never by its raw path).
pub(crate) async fn guard(
    State(state): State<crate::State>,
    ConnectInfo(crate::Peer(peer, _)): ConnectInfo<crate::Peer>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let method = request.method().to_string();
    let object = request.uri().path().to_string();
    let presented = request.headers().contains_key(header::AUTHORIZATION);
    let (answer, caller) = match check(&state, peer, &route, &mut request).await {
        Ok(caller) => (next.run(request).await, caller),
        Err(problem) => (problem.into_response(), None),
    };
    let label = route.as_deref().unwrap_or("unmatched");
    let status = answer.status().as_u16();
    state.metrics.record(label, status, started.elapsed());
    // Every call of a protected route is audited, failed ones too.
    if caller.is_some() || presented {
        let (user, org) = caller.map_or_else(|| ("-".to_string(), "-".to_string()), |c| (c.user, c.org));
        let entry = AuditEntry {
            time: cordon_app::now(),
            user,
            org,
            action: format!("{method} {label}"),
            object,
            result: status.to_string(),
        };
        state.audit.push(entry);
    }
    answer
}

async fn check(
    state: &crate::State,
    peer: SocketAddr,
    route: &Option<String>,
    request: &mut Request,
) -> Result<Option<Principal>, Problem> {
    let Some(route) = route else {
        return Err(Problem::new(StatusCode::NOT_FOUND, "there is no such resource"));
    };
    let Some(access) = policy(request.method(), route).or_else(|| crate::taxii::policy(request.method(), route)) else {
        return Err(Problem::new(StatusCode::METHOD_NOT_ALLOWED, "the method is not allowed here"));
    };
    let Access::Roles { roles, writes } = access else {
        return Ok(None);
    };
    let Some((token, basic_user)) = presented(request) else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "this resource needs an API token (Authorization: Bearer …, or Basic with the user's e-mail and a token)",
        ));
    };
    let key = (sha256_hex(&token), peer.ip());
    let principal = match state.sessions.get(&key) {
        Some(principal) => principal,
        None => {
            let app_state = state.clone();
            let principal: Principal =
                tokio::task::spawn_blocking(move || app_state.app.authenticate(&token, peer.ip()))
                    .await
                    .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"))?
                    .map_err(Problem::from)?;
            state.sessions.put(key, principal.clone());
            principal
        }
    };
    if basic_user.is_some_and(|user| !user.trim().eq_ignore_ascii_case(&principal.user)) {
        return Err(Problem::new(StatusCode::UNAUTHORIZED, "the token is not this user's"));
    }
    if !roles.contains(&principal.role) {
        return Err(Problem::new(StatusCode::FORBIDDEN, format!("a {} may not call this", principal.role)));
    }
    if *writes && principal.read_only {
        return Err(Problem::new(StatusCode::FORBIDDEN, "this token may only read"));
    }
    if let Err(wait) = state.buckets.take(&principal.user) {
        return Err(Problem::new(StatusCode::TOO_MANY_REQUESTS, "too many requests: slow down").retry_after(wait));
    }
    request.extensions_mut().insert(principal.clone());
    Ok(Some(principal))
}

/// The token a request presents, with the user HTTP Basic names:
/// `Authorization: Bearer TOKEN`, or `Basic` with the user's e-mail and a
/// token as the password (what TAXII clients send).
fn presented(request: &Request) -> Option<(String, Option<String>)> {
    use base64::Engine;
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some((token.trim().to_string(), None));
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (user, token) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((token.trim().to_string(), Some(user.to_string())))
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Recently authenticated tokens: a token is checked against the store at
/// most every [`SESSION_TTL`], so a revocation, an expiry or a disabled user
/// takes effect within that time.
#[derive(Default)]
pub(crate) struct Sessions {
    known: std::sync::Mutex<std::collections::HashMap<(String, std::net::IpAddr), (Principal, Instant)>>,
}

/// How long an authentication is trusted without asking the store again.
pub(crate) const SESSION_TTL: std::time::Duration = std::time::Duration::from_millis(250);

/// Entries kept at most (older ones are dropped first when it fills).
const MAX_SESSIONS: usize = 10_000;

impl Sessions {
    fn get(&self, key: &(String, std::net::IpAddr)) -> Option<Principal> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(key).filter(|(_, at)| at.elapsed() < SESSION_TTL).map(|(p, _)| p.clone())
    }

    fn put(&self, key: (String, std::net::IpAddr), principal: Principal) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= MAX_SESSIONS {
            known.retain(|_, (_, at)| at.elapsed() < SESSION_TTL);
        }
        if known.len() < MAX_SESSIONS {
            known.insert(key, (principal, Instant::now()));
        }
    }
}
