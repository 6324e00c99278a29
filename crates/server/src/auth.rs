//! Authentication and the route policy, as one middleware: the caller's
//! `Authorization: Bearer` token (or HTTP Basic: the user's e-mail and a
//! token as the password) becomes a [`Principal`] (or a 401), and the
//! route's [`Access`] decides whether that principal may call it (or a 403).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cordon_app::access::Principal;
use cordon_store::audit::AuditEntry;

use crate::lease::Lease;
use crate::problem::Problem;
use crate::routes::{policy, Access};

/// Authenticates and authorizes one request, then runs it; counts it in
/// the metrics by its route template (never by its raw path). Nothing of a
/// request is copied unless it is audited.
pub(crate) async fn guard(
    State(state): State<crate::State>,
    ConnectInfo(crate::Peer(peer, _)): ConnectInfo<crate::Peer>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    // Every call presenting credentials is audited, failed ones too (a
    // caller is only ever known from credentials presented).
    let object = request.headers().contains_key(header::AUTHORIZATION).then(|| request.uri().path().to_string());
    let (answer, caller) = match check(&state, peer, route.as_ref().map(MatchedPath::as_str), &mut request).await {
        Ok(caller) => (next.run(request).await, caller),
        Err(problem) => (problem.into_response(), None),
    };
    let label = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = answer.status().as_u16();
    state.metrics.record(label, status, started.elapsed());
    if let Some(object) = object {
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
    route: Option<&str>,
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
        Some((principal, renew)) => {
            if renew {
                renew_session(state, key, token);
            }
            principal
        }
        None => first_check(state, key, token).await?,
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

/// Checks a token no lease vouches for, once for all the callers
/// presenting it meanwhile: the first checks it on the blocking pool, the
/// others wait for that check (a server idle for longer than
/// [`SESSION_TTL`] would otherwise have every waiting connection of a
/// client check the same token at once). A check that fails is not
/// shared: the next waiter checks on its own.
async fn first_check(state: &crate::State, key: SessionKey, token: String) -> Result<Principal, Problem> {
    let check = state.sessions.check_of(&key);
    let principal = check
        .get_or_try_init(|| async {
            let checked = Instant::now();
            let (app_state, ip) = (state.clone(), key.1);
            let principal = tokio::task::spawn_blocking(move || app_state.app.authenticate(&token, ip))
                .await
                .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"))?
                .map_err(Problem::from)?;
            state.sessions.put(key.clone(), principal.clone(), checked);
            Ok::<Principal, Problem>(principal)
        })
        .await
        .cloned();
    state.sessions.checked(&key, &check);
    principal
}

/// Checks a trusted token again on the blocking pool while its trust
/// lasts, so that a busy caller never waits for the store: the check's
/// start is the renewed trust's, and a token that no longer authenticates
/// is forgotten (its next request is checked, and refused, on its own).
fn renew_session(state: &crate::State, key: SessionKey, token: String) {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let checked = Instant::now();
        let principal = state.app.authenticate(&token, key.1).ok();
        state.sessions.settle(key, principal, checked);
    });
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

/// Recently authenticated tokens: a token is trusted for [`SESSION_TTL`]
/// from the start of the store read that vouched for it, so a revocation,
/// an expiry or a disabled user takes effect within that time. A token in
/// use is checked again in the background once its trust is half spent
/// (a [`Lease`]), so its callers do not queue for the store each time the
/// trust runs out.
#[derive(Default)]
pub(crate) struct Sessions {
    known: std::sync::Mutex<std::collections::HashMap<SessionKey, Lease<Principal>>>,
    /// The first checks under way, by token: their callers share them.
    checks: std::sync::Mutex<std::collections::HashMap<SessionKey, Arc<FirstCheck>>>,
}

/// One first check of a token, shared by the callers waiting for it.
type FirstCheck = tokio::sync::OnceCell<Principal>;

/// A token's hash and the address presenting it.
type SessionKey = (String, std::net::IpAddr);

/// How long an authentication is trusted without asking the store again.
pub(crate) const SESSION_TTL: std::time::Duration = std::time::Duration::from_millis(250);

/// Entries kept at most (older ones are dropped first when it fills).
const MAX_SESSIONS: usize = 10_000;

impl Sessions {
    /// The principal of a trusted token, and whether the caller is to
    /// check it again.
    fn get(&self, key: &SessionKey) -> Option<(Principal, bool)> {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).get_mut(key)?.take(SESSION_TTL)
    }

    /// Trusts `principal` from `checked` on (unless a later check holds).
    fn put(&self, key: SessionKey, principal: Principal, checked: Instant) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lease) = known.get_mut(&key) {
            lease.settle(Some(principal), checked);
            return;
        }
        if known.len() >= MAX_SESSIONS {
            known.retain(|_, lease| lease.holds(SESSION_TTL));
        }
        if known.len() < MAX_SESSIONS {
            known.insert(key, Lease::new(principal, checked));
        }
    }

    /// The first check of `key` under way, or a new one.
    fn check_of(&self, key: &SessionKey) -> Arc<FirstCheck> {
        let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        if checks.len() >= MAX_SESSIONS {
            // Checks whose callers went away (dropped connections) end here.
            checks.retain(|_, check| Arc::strong_count(check) > 1);
        }
        checks.entry(key.clone()).or_default().clone()
    }

    /// `check` is over for this caller: forgotten once it vouched (its
    /// lease holds the principal now) or once nobody else waits for it.
    fn checked(&self, key: &SessionKey, check: &Arc<FirstCheck>) {
        let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        let ours = checks.get(key).is_some_and(|c| Arc::ptr_eq(c, check));
        // Two references: the map's and this caller's.
        if ours && (check.initialized() || Arc::strong_count(check) <= 2) {
            checks.remove(key);
        }
    }

    /// The outcome of a renewal begun at `checked`: trusted anew, or
    /// forgotten when the token no longer authenticates.
    fn settle(&self, key: SessionKey, principal: Option<Principal>, checked: Instant) {
        match principal {
            Some(principal) => self.put(key, principal, checked),
            None => {
                self.known.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_app::access::Role;

    /// A renewal that finds the token no longer good forgets it at once:
    /// its next request is checked, and refused, on its own.
    fn principal() -> Principal {
        Principal {
            viewer: cordon_model::Viewer::Public,
            user: "a@b.example".into(),
            org: "b".into(),
            role: Role::Reader,
            read_only: false,
        }
    }

    #[test]
    fn a_failed_renewal_forgets_the_token() {
        let principal = principal();
        let key: SessionKey = ("hash".into(), std::net::IpAddr::from([127, 0, 0, 1]));
        let half_spent = Instant::now().checked_sub(SESSION_TTL / 2).unwrap_or_else(Instant::now);
        let sessions = Sessions::default();
        sessions.put(key.clone(), principal.clone(), half_spent);
        assert_eq!(sessions.get(&key), Some((principal.clone(), true)), "this caller renews");
        assert_eq!(sessions.get(&key), Some((principal.clone(), false)), "the others go on");
        sessions.settle(key.clone(), Some(principal.clone()), Instant::now());
        assert_eq!(sessions.get(&key), Some((principal, false)), "renewed");
        sessions.settle(key.clone(), None, Instant::now());
        assert_eq!(sessions.get(&key), None);
    }

    /// Callers who find no lease for one token at the same time share one
    /// check of it; once it vouched, nothing of it is kept but the lease.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_callers_share_one_check() {
        let sessions = Arc::new(Sessions::default());
        let checks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let key: SessionKey = ("hash".into(), std::net::IpAddr::from([127, 0, 0, 1]));
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let (sessions, checks, key) = (sessions.clone(), checks.clone(), key.clone());
                tokio::spawn(async move {
                    let check = sessions.check_of(&key);
                    let principal = check
                        .get_or_try_init(|| async {
                            checks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            Ok::<_, ()>(principal())
                        })
                        .await
                        .cloned();
                    sessions.checked(&key, &check);
                    principal
                })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), Ok(principal()));
        }
        assert_eq!(checks.load(std::sync::atomic::Ordering::SeqCst), 1, "one check for fifty callers");
        assert!(sessions.checks.lock().unwrap().is_empty());
    }
}
