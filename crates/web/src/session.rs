//! Signing in and out: the sign-in form (its own CSRF token, a cookie
//! bound to the form), rate-limited sign-ins, the session cookie
//! (`HttpOnly`, `SameSite=Strict`, `Secure` under TLS), and the CSRF token
//! of every form of a session: derived from the session's secret, so it is
//! stored nowhere and dies with the session.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Form, FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use cordon_app::AppError;
use cordon_store::audit::AuditEntry;
use serde::Deserialize;

use crate::render::{self, LoginPage};
use crate::{Client, Shared, Signed, MAX_FORM};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "cordon_session";

/// The cookie that binds a sign-in form to the browser that asked for it.
const LOGIN_COOKIE: &str = "cordon_login";

/// How many failed sign-ins an address (or an e-mail address) may make in
/// a window before further attempts are refused unchecked.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimit {
    /// Failures allowed in a window.
    pub failures: usize,
    /// The window.
    pub window: Duration,
}

impl Default for LoginLimit {
    /// Five failures in fifteen minutes.
    fn default() -> LoginLimit {
        LoginLimit { failures: 5, window: Duration::from_secs(15 * 60) }
    }
}

/// Recent failed sign-ins by client address and by e-mail address.
pub(crate) struct LoginLimiter {
    limit: LoginLimit,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Keys kept at most; past it, keys with no recent failure are dropped.
const MAX_KEYS: usize = 100_000;

impl LoginLimiter {
    pub(crate) fn new(limit: LoginLimit) -> LoginLimiter {
        LoginLimiter { limit, failures: Mutex::new(HashMap::new()) }
    }

    fn keys(client: IpAddr, email: &str) -> [String; 2] {
        [format!("ip {client}"), format!("user {}", email.trim().to_ascii_lowercase())]
    }

    /// How long until `client` or `email` may try again, if they may not now.
    fn blocked(&self, client: IpAddr, email: &str) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(client, email)
            .iter()
            .filter_map(|key| failures.get(key))
            .filter_map(|times| {
                let recent: Vec<&Instant> = times.iter().filter(|t| t.elapsed() < self.limit.window).collect();
                (recent.len() >= self.limit.failures)
                    .then(|| recent.first().map(|t| self.limit.window.saturating_sub(t.elapsed())))
                    .flatten()
            })
            .max()
    }

    fn failed(&self, client: IpAddr, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| times.iter().any(|t| t.elapsed() < self.limit.window));
        }
        for key in Self::keys(client, email) {
            let times = failures.entry(key).or_default();
            times.retain(|t| t.elapsed() < self.limit.window);
            times.push(Instant::now());
        }
    }
}

/// The value of cookie `name` in `headers`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Secure` under TLS.
fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

fn random_hex() -> Result<String, Response> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|_| render::error(StatusCode::INTERNAL_SERVER_ERROR, None, "The server cannot sign anyone in now."))?;
    Ok(hex::encode(bytes))
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The CSRF token of the session whose secret is `secret`.
fn csrf_of(secret: &str) -> String {
    sha256_hex(&format!("cordon csrf {secret}"))
}

/// Whether two tokens are equal, in time that does not depend on where they
/// differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && !a.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The connection's facts (the server inserts them; a request without is
/// treated as a plain connection from nowhere).
fn client_of(client: Option<Extension<Client>>) -> Client {
    client.map_or(Client { addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED), tls: false }, |Extension(c)| c)
}

/// The session a request's cookie names, if it still signs someone in.
pub(crate) async fn signed_in(web: &Shared, headers: &HeaderMap) -> Option<Signed> {
    let secret = cookie(headers, SESSION_COOKIE)?.to_string();
    let app = web.app.clone();
    let csrf = csrf_of(&secret);
    let principal = tokio::task::spawn_blocking(move || app.session(&secret)).await.ok()?.ok()?;
    Some(Signed { principal, csrf })
}

/// The CSRF field of a form.
#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Checks that a urlencoded form carries the session's token, and hands
/// the request on with its body intact; a 403 page otherwise.
pub(crate) async fn check_form_csrf(request: Request, expected: &str) -> Result<Request, Response> {
    let refused = || {
        render::error(
            StatusCode::FORBIDDEN,
            None,
            "The form expired or did not come from this site: reload the page and try again.",
        )
    };
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| render::error(StatusCode::PAYLOAD_TOO_LARGE, None, "The form is too large."))?;
    let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
    let Ok(Form(field)) = Form::<CsrfField>::from_request(probe, &()).await else {
        return Err(refused());
    };
    if !same_token(&field.csrf, expected) {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// `GET /login`: the form, bound to this browser by a cookie.
pub(crate) async fn login_page(client: Option<Extension<Client>>) -> Response {
    login_form(client_of(client), StatusCode::OK, None, "")
}

fn login_form(client: Client, status: StatusCode, message: Option<&str>, email: &str) -> Response {
    let token = match random_hex() {
        Ok(token) => token,
        Err(answer) => return answer,
    };
    let page = LoginPage { nav: None, csrf: &token, message, email };
    let cookie = set_cookie(LOGIN_COOKIE, &token, "/login", 3600, client.tls);
    let mut answer = render::page(status, &page);
    if let Ok(value) = cookie.parse() {
        answer.headers_mut().append(header::SET_COOKIE, value);
    }
    answer
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`: a new session (a new secret, whatever the browser
/// brought), or the form again with why not.
pub(crate) async fn login(
    State(web): State<Shared>,
    client: Option<Extension<Client>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let client = client_of(client);
    let Ok(Form(form)) = form else {
        return login_form(client, StatusCode::BAD_REQUEST, Some("The form was not complete."), "");
    };
    let bound = cookie(&headers, LOGIN_COOKIE).is_some_and(|token| same_token(token, &form.csrf));
    if !bound {
        return login_form(client, StatusCode::FORBIDDEN, Some("The form expired: try again."), &form.email);
    }
    if let Some(wait) = web.logins.blocked(client.addr, &form.email) {
        (web.audit)(AuditEntry {
            time: cordon_app::now(),
            user: form.email.trim().to_ascii_lowercase().chars().take(200).collect(),
            org: "-".into(),
            action: "POST /login".into(),
            object: format!("sign-in from {}", client.addr),
            result: "429".into(),
        });
        let mut answer = login_form(
            client,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed sign-ins: wait a few minutes and try again."),
            &form.email,
        );
        if let Ok(value) = wait.as_secs().max(1).to_string().parse() {
            answer.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return answer;
    }
    let app = web.app.clone();
    let (email, password, addr) = (form.email.clone(), form.password, client.addr);
    let previous = cookie(&headers, SESSION_COOKIE).map(str::to_string);
    let signed = tokio::task::spawn_blocking(move || {
        // A session the browser already had ends: the new one has a new id.
        if let Some(previous) = previous {
            app.sign_out(&previous)?;
        }
        app.sign_in(&email, &password, addr)
    })
    .await;
    match signed {
        Ok(Ok(signed)) => {
            let max_age = signed.expires - cordon_app::now();
            let mut answer = Redirect::to("/").into_response();
            for cookie in [
                set_cookie(SESSION_COOKIE, &signed.secret, "/", max_age, client.tls),
                set_cookie(LOGIN_COOKIE, "", "/login", 0, client.tls),
            ] {
                if let Ok(value) = cookie.parse() {
                    answer.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            answer
        }
        Ok(Err(AppError::Unauthorized(_))) => {
            web.logins.failed(client.addr, &form.email);
            login_form(
                client,
                StatusCode::UNAUTHORIZED,
                Some("The e-mail address or the password is wrong."),
                &form.email,
            )
        }
        _ => render::error(StatusCode::SERVICE_UNAVAILABLE, None, "The server cannot sign anyone in now: try again."),
    }
}

/// `POST /logout`: the session ends in the store and in the browser.
pub(crate) async fn logout(
    State(web): State<Shared>,
    client: Option<Extension<Client>>,
    headers: HeaderMap,
) -> Response {
    let client = client_of(client);
    if let Some(secret) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
        let app = web.app.clone();
        let ended = tokio::task::spawn_blocking(move || app.sign_out(&secret)).await;
        if !matches!(ended, Ok(Ok(()))) {
            return render::error(StatusCode::SERVICE_UNAVAILABLE, None, "The session could not be ended: try again.");
        }
    }
    let mut answer = Redirect::to("/login").into_response();
    if let Ok(value) = set_cookie(SESSION_COOKIE, "", "/", 0, client.tls).parse() {
        answer.headers_mut().append(header::SET_COOKIE, value);
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_refuses_after_the_allowed_failures_by_address_and_by_user() {
        let limiter = LoginLimiter::new(LoginLimit { failures: 2, window: Duration::from_secs(60) });
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        limiter.failed(a, "x@example.org");
        assert!(limiter.blocked(a, "x@example.org").is_none());
        limiter.failed(a, "y@example.org");
        assert!(limiter.blocked(a, "z@example.org").is_some(), "the address is blocked");
        assert!(limiter.blocked(b, "z@example.org").is_none());
        limiter.failed(b, "X@example.org");
        assert!(limiter.blocked(b, "x@example.org").is_some(), "the user is blocked from any address");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", ""));
        assert!(!same_token("ab", "abc"));
    }
}
