//! The web dashboard: each organisation's view of the hub in a browser,
//! server-rendered HTML over the same application calls as the API.
//!
//! * [`PAGES`] is the one table of the dashboard's routes: method, path and
//!   the roles that may open it. The router is built from it and one
//!   middleware (`gate`) signs the caller in from the session cookie, checks
//!   the page's roles and every form's CSRF token, so a page without a
//!   policy cannot exist.
//! * Every page calls [`cordon_app::App`] as the signed-in organisation's
//!   [`cordon_model::Viewer`]: it shows what the API would answer that
//!   organisation and nothing else; another organisation's object is the
//!   same 404 page as one that does not exist.
//! * Templates are askama's: compiled with the crate, so a template that
//!   names a missing field does not build, and every value is HTML-escaped
//!   unless a template says `|safe` (only the report's charts, which
//!   `cordon_ops::html` escapes itself).
//! * No script, no external resource: one stylesheet served by the
//!   dashboard, `Content-Security-Policy: default-src 'self'`.
//!
//! The server mounts [`router`] beside its API and inserts a [`Client`]
//! into every request (the caller's address, whether the connection is
//! TLS).
#![deny(missing_docs)]
// A failed step here is the page to answer with (`Result<_, Response>`):
// boxing it would only add an allocation on the error path.
#![allow(clippy::result_large_err)]

pub mod download;
mod map;
mod pages;
mod render;
mod session;

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use cordon_app::access::{Principal, Role};
use cordon_app::App;
use cordon_store::audit::AuditEntry;

pub use pages::encode;
pub use session::{LoginLimit, SESSION_COOKIE};

/// Where the audit rows of page views go (the server's audit queue).
pub type AuditSink = Arc<dyn Fn(AuditEntry) + Send + Sync>;

/// The caller as the connection knows it; the server inserts it into every
/// request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    /// The caller's address.
    pub addr: IpAddr,
    /// Whether the connection is TLS (then cookies are `Secure`).
    pub tls: bool,
}

/// What the dashboard's handlers share.
pub struct Web {
    app: Arc<App>,
    audit: AuditSink,
    logins: session::LoginLimiter,
}

impl Web {
    /// The dashboard over `app`, auditing through `audit`, refusing
    /// sign-ins past `limit`.
    pub fn new(app: Arc<App>, audit: AuditSink, limit: LoginLimit) -> Web {
        Web { app, audit, logins: session::LoginLimiter::new(limit) }
    }
}

/// The handle handlers get.
type Shared = Arc<Web>;

/// Who may open a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (the sign-in page, the stylesheet).
    Public,
    /// Signed-in users of these roles.
    Roles(&'static [Role]),
}

/// One page of the table.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Its path template.
    pub path: &'static str,
    /// Who may open it.
    pub access: Access,
}

const ANYONE: &[Role] = &Role::ALL;
const HUB: &[Role] = &[Role::Admin, Role::Analyst];
const ADMIN: &[Role] = &[Role::Admin];
const COORDINATORS: &[Role] = &[Role::Admin, Role::Analyst, Role::Agency];
const SUBMITTERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Submitter];

const fn page(method: &'static str, path: &'static str, access: Access) -> Page {
    Page { method, path, access }
}

/// Every page of the dashboard.
pub const PAGES: &[Page] = &[
    page("GET", "/login", Access::Public),
    page("POST", "/login", Access::Public),
    page("GET", "/static/style.css", Access::Public),
    page("POST", "/logout", Access::Roles(ANYONE)),
    page("GET", "/", Access::Roles(ANYONE)),
    page("GET", "/operations/{name}", Access::Roles(HUB)),
    page("GET", "/operations/{name}/targets", Access::Roles(COORDINATORS)),
    page("POST", "/operations/{name}/targets", Access::Roles(COORDINATORS)),
    page("GET", "/operations/{name}/packages", Access::Roles(COORDINATORS)),
    page("GET", "/operations/{name}/packages/{country}/{file}", Access::Roles(COORDINATORS)),
    page("POST", "/operations/{name}/outcomes", Access::Roles(COORDINATORS)),
    page("GET", "/targets/{id}", Access::Roles(COORDINATORS)),
    page("POST", "/targets/{id}", Access::Roles(COORDINATORS)),
    page("GET", "/indicators", Access::Roles(ANYONE)),
    page("GET", "/lookup", Access::Roles(ANYONE)),
    page("POST", "/lookup", Access::Roles(ANYONE)),
    page("GET", "/blocklists", Access::Roles(ANYONE)),
    page("GET", "/blocklists/{format}", Access::Roles(ANYONE)),
    page("GET", "/imports", Access::Roles(SUBMITTERS)),
    page("GET", "/submit", Access::Roles(SUBMITTERS)),
    page("POST", "/submit", Access::Roles(SUBMITTERS)),
    page("GET", "/admin/allowlist", Access::Roles(HUB)),
    page("POST", "/admin/allowlist", Access::Roles(ADMIN)),
    page("GET", "/admin/contacts", Access::Roles(HUB)),
    page("GET", "/admin/organisations", Access::Roles(ADMIN)),
    page("GET", "/admin/users", Access::Roles(ADMIN)),
    page("POST", "/admin/users", Access::Roles(ADMIN)),
    page("GET", "/admin/tokens", Access::Roles(ADMIN)),
    page("POST", "/admin/tokens", Access::Roles(ADMIN)),
    page("GET", "/admin/collections", Access::Roles(HUB)),
    page("GET", "/admin/feeds", Access::Roles(HUB)),
    page("GET", "/admin/audit", Access::Roles(ADMIN)),
];

/// The one page whose form is `multipart/form-data` (a file upload): its
/// handler checks the CSRF field, which the form sends first.
const MULTIPART_PAGE: &str = "/submit";

/// The page of `method` on the path template `path`.
pub fn policy(method: &Method, path: &str) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.path == path && p.method == method.as_str())
}

/// The dashboard's router: every page of [`PAGES`] behind the gate. It has
/// no fallback, so the server's stays in charge of unknown paths.
pub fn router(web: Web) -> Router {
    let state: Shared = Arc::new(web);
    let mut router = Router::new();
    for page in PAGES {
        let filter = if page.method == "POST" { MethodFilter::POST } else { MethodFilter::GET };
        let handler = match (page.method, page.path) {
            ("GET", "/login") => on(filter, session::login_page),
            ("POST", "/login") => on(filter, session::login),
            ("POST", "/logout") => on(filter, session::logout),
            ("GET", "/static/style.css") => on(filter, render::stylesheet),
            ("GET", "/") => on(filter, pages::home),
            ("GET", "/operations/{name}") => on(filter, pages::overview),
            ("GET", "/operations/{name}/targets") => on(filter, pages::targets),
            ("POST", "/operations/{name}/targets") => on(filter, pages::move_targets),
            ("GET", "/operations/{name}/packages") => on(filter, pages::packages),
            ("GET", "/operations/{name}/packages/{country}/{file}") => on(filter, pages::package_file),
            ("POST", "/operations/{name}/outcomes") => on(filter, pages::add_outcome),
            ("GET", "/targets/{id}") => on(filter, pages::target),
            ("POST", "/targets/{id}") => on(filter, pages::move_target),
            ("GET", "/indicators") => on(filter, pages::indicators),
            ("GET", "/lookup") => on(filter, pages::lookup),
            ("POST", "/lookup") => on(filter, pages::lookup_many),
            ("GET", "/blocklists") => on(filter, pages::blocklists),
            ("GET", "/blocklists/{format}") => on(filter, pages::blocklist),
            ("GET", "/imports") => on(filter, pages::imports),
            ("GET", "/submit") => on(filter, pages::submit_page),
            ("POST", "/submit") => on(filter, pages::submit),
            ("GET", "/admin/allowlist") => on(filter, pages::allowlist),
            ("POST", "/admin/allowlist") => on(filter, pages::allowlist_change),
            ("GET", "/admin/contacts") => on(filter, pages::contacts),
            ("GET", "/admin/organisations") => on(filter, pages::organisations),
            ("GET", "/admin/users") => on(filter, pages::users),
            ("POST", "/admin/users") => on(filter, pages::add_user),
            ("GET", "/admin/tokens") => on(filter, pages::tokens),
            ("POST", "/admin/tokens") => on(filter, pages::revoke_token),
            ("GET", "/admin/collections") => on(filter, pages::collections),
            ("GET", "/admin/feeds") => on(filter, pages::feeds),
            ("GET", "/admin/audit") => on(filter, pages::audit),
            _ => on(filter, pages::not_found),
        };
        router = router.route(page.path, handler);
    }
    router
        // Uploads are bounded by the submit handler; forms by this.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// The largest form body (a pasted lookup list of 10,000 lines fits).
const MAX_FORM: usize = 1 << 20;

/// The largest uploaded file.
pub const MAX_UPLOAD: usize = 64 << 20;

/// The signed-in caller, inserted by the gate for the handlers.
#[derive(Clone, Debug)]
pub(crate) struct Signed {
    /// Whom the session signs in.
    pub principal: Principal,
    /// The token every form of this session carries.
    pub csrf: String,
}

/// Signs the caller in, checks the page's roles and the CSRF token of a
/// form, audits the call, and adds the security headers to every answer.
async fn gate(State(web): State<Shared>, request: Request, next: Next) -> Response {
    let mut answer = admit(&web, request, next).await;
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    answer
}

async fn admit(web: &Shared, mut request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let Some(page) = policy(request.method(), &route) else {
        return render::error(StatusCode::NOT_FOUND, None, "There is no such page.");
    };
    let Access::Roles(roles) = page.access else {
        return next.run(request).await;
    };
    let Some(signed) = session::signed_in(web, request.headers()).await else {
        if request.method() == Method::GET {
            return Redirect::to("/login").into_response();
        }
        return render::error(StatusCode::UNAUTHORIZED, None, "Your session has ended: sign in again.");
    };
    let (method, object) = (request.method().to_string(), request.uri().path().to_string());
    let audit = |result: StatusCode| AuditEntry {
        time: cordon_app::now(),
        user: signed.principal.user.clone(),
        org: signed.principal.org.clone(),
        action: format!("{method} web {route}"),
        object: object.clone(),
        result: result.as_u16().to_string(),
    };
    if !roles.contains(&signed.principal.role) {
        let answer = render::error(StatusCode::NOT_FOUND, Some(&signed), "There is no such page.");
        (web.audit)(audit(answer.status()));
        return answer;
    }
    if request.method() == Method::POST && route != MULTIPART_PAGE {
        request = match session::check_form_csrf(request, &signed.csrf).await {
            Ok(request) => request,
            Err(answer) => {
                (web.audit)(audit(answer.status()));
                return answer;
            }
        };
    }
    request.extensions_mut().insert(signed.clone());
    let answer = next.run(request).await;
    (web.audit)(audit(answer.status()));
    answer
}
