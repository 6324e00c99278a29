//! Every route, in one table: its method and path, who may call it, and its
//! handler. The router is built from [`ROUTES`] alone, so a route without a
//! policy cannot exist; [`policy`] answers for the middleware from the same
//! table.

use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;
use cordon_app::access::Role;

use crate::handlers;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials (health, metrics).
    Public,
    /// Holders of a token of one of these roles; `writes` routes refuse
    /// read-only tokens.
    Roles {
        /// The roles allowed.
        roles: &'static [Role],
        /// Whether the route changes anything.
        writes: bool,
    },
}

/// Every role.
const ANYONE: &[Role] = &Role::ALL;

/// One route of the table.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// Its method.
    pub method: &'static str,
    /// Its path template.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

/// The routes.
pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/healthz", access: Access::Public },
    Route { method: "GET", path: "/metrics", access: Access::Public },
    Route { method: "GET", path: "/api/v1/indicators", access: Access::Roles { roles: ANYONE, writes: false } },
    Route { method: "GET", path: "/api/v1/indicators/{value}", access: Access::Roles { roles: ANYONE, writes: false } },
    Route { method: "GET", path: "/api/v1/lookup/{value}", access: Access::Roles { roles: ANYONE, writes: false } },
    Route { method: "POST", path: "/api/v1/lookup", access: Access::Roles { roles: ANYONE, writes: false } },
    Route { method: "GET", path: "/api/v1/sources", access: Access::Roles { roles: ANYONE, writes: false } },
    Route { method: "GET", path: "/api/v1/imports", access: Access::Roles { roles: ANYONE, writes: false } },
    Route { method: "POST", path: "/api/v1/submissions", access: Access::Roles { roles: SUBMITTERS, writes: true } },
    Route { method: "GET", path: "/api/v1/submissions", access: Access::Roles { roles: SUBMITTERS, writes: false } },
    Route { method: "GET", path: "/api/v1/audit", access: Access::Roles { roles: &[Role::Admin], writes: false } },
];

/// Who submits intelligence: partners' members and the hub's.
const SUBMITTERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Submitter];

/// The access of `method` on the route template `path`.
pub fn policy(method: &Method, path: &str) -> Option<&'static Access> {
    ROUTES.iter().find(|r| r.path == path && r.method == method.as_str()).map(|r| &r.access)
}

/// The router of [`ROUTES`], every route behind the guard.
pub(crate) fn build(state: crate::State) -> Router {
    let mut router = Router::new();
    for route in ROUTES {
        let filter = match route.method {
            "POST" => MethodFilter::POST,
            _ => MethodFilter::GET,
        };
        let handler = match (route.method, route.path) {
            ("GET", "/healthz") => on(filter, handlers::healthz),
            ("GET", "/metrics") => on(filter, handlers::metrics),
            ("GET", "/api/v1/indicators") => on(filter, handlers::indicators),
            ("GET", "/api/v1/indicators/{value}") => on(filter, handlers::indicator),
            ("GET", "/api/v1/lookup/{value}") => on(filter, handlers::lookup_one),
            ("POST", "/api/v1/lookup") => on(filter, handlers::lookup_many),
            ("GET", "/api/v1/sources") => on(filter, handlers::sources),
            ("GET", "/api/v1/imports") => on(filter, handlers::imports),
            ("GET", "/api/v1/submissions") => on(filter, handlers::imports),
            ("GET", "/api/v1/audit") => on(filter, handlers::audit),
            ("POST", "/api/v1/submissions") => {
                on(filter, handlers::submit).layer(axum::extract::DefaultBodyLimit::max(handlers::MAX_SUBMISSION))
            }
            _ => on(filter, handlers::unimplemented),
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::guard))
        .with_state(state)
}
