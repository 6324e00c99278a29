//! Every route, in one table: its method and path, who may call it, and its
//! handler. The router is built from [`ROUTES`] alone, so a route without a
//! policy cannot exist; [`policy`] answers for the middleware from the same
//! table.

use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;
use cordon_app::access::Role;

use crate::{admin, coordination, handlers};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials (health, the API description).
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
    /// What it does, for the OpenAPI document.
    pub summary: &'static str,
}

/// The routes.
pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/healthz", access: Access::Public, summary: "Liveness: answers ok" },
    // The metrics count every organisation's imports and indicators, the
    // hub's view included: volumes of AMBER and RED data are not public.
    Route { method: "GET", path: "/metrics", access: ADMIN_READ, summary: "Prometheus metrics (admins: a scraper's token)" },
    Route { method: "GET", path: "/api/v1/openapi.json", access: Access::Public, summary: "This API, as OpenAPI 3.1" },
    Route {
        method: "GET",
        path: "/api/v1/indicators",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "Indicators the caller may see, a page at a time (limit, cursor)",
    },
    Route {
        method: "GET",
        path: "/api/v1/indicators/{value}",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "One indicator (any form that normalizes, defanged too) with its visible sightings and links",
    },
    Route {
        method: "GET",
        path: "/api/v1/lookup/{value}",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "Is this address listed, and by which indicators",
    },
    Route {
        method: "POST",
        path: "/api/v1/lookup",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "Look up to 10,000 addresses at once",
    },
    Route {
        method: "GET",
        path: "/api/v1/sources",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "Sources the caller may see something of",
    },
    Route {
        method: "GET",
        path: "/api/v1/imports",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "The caller's imports (the hub: all)",
    },
    Route {
        method: "POST",
        path: "/api/v1/submissions",
        access: Access::Roles { roles: SUBMITTERS, writes: true },
        summary: "Submit a feed file (the body) as the caller's organisation",
    },
    Route {
        method: "GET",
        path: "/api/v1/submissions",
        access: Access::Roles { roles: SUBMITTERS, writes: false },
        summary: "The caller's submissions",
    },
    Route {
        method: "GET",
        path: "/api/v1/audit",
        access: Access::Roles { roles: &[Role::Admin], writes: false },
        summary: "The audit log (admins)",
    },
    Route { method: "GET", path: "/api/v1/operations", access: Access::Roles { roles: COORDINATORS, writes: false }, summary: "Operations (the hub and agencies)" },
    Route { method: "GET", path: "/api/v1/operations/{name}/targets", access: Access::Roles { roles: COORDINATORS, writes: false }, summary: "An operation's targets (filters country, asn, state, category; limit, 1 to 1,000, and after, the last id of the previous page, page them by id, a Link header naming the next page); an agency sees its country's, built from what may go to it" },
    Route { method: "GET", path: "/api/v1/operations/{name}/report", access: Access::Roles { roles: HUB, writes: false }, summary: "The operation report (the hub)" },
    Route { method: "POST", path: "/api/v1/operations/{name}/outcomes", access: Access::Roles { roles: COORDINATORS, writes: true }, summary: "Record an outcome (an agency: its own country)" },
    Route { method: "GET", path: "/api/v1/targets/{id}", access: Access::Roles { roles: COORDINATORS, writes: false }, summary: "A target with its members, history and checks" },
    Route { method: "POST", path: "/api/v1/targets/{id}/transitions", access: Access::Roles { roles: COORDINATORS, writes: true }, summary: "Move a target through the lifecycle (an agency: taken-down or rejected)" },
    Route {
        method: "GET",
        path: "/api/v1/blocklists/{format}",
        access: Access::Roles { roles: ANYONE, writes: false },
        summary: "A blocklist in one of cordon export's formats, with ETag",
    },
    Route { method: "POST", path: "/api/v1/operations/{name}/transitions", access: Access::Roles { roles: COORDINATORS, writes: true }, summary: "Move many targets with one note, all or none (an agency: its country's, to taken-down or rejected)" },
    Route { method: "GET", path: "/api/v1/operations/{name}/packages", access: Access::Roles { roles: COORDINATORS, writes: false }, summary: "The newest package of each country (an agency: its own)" },
    Route { method: "GET", path: "/api/v1/operations/{name}/packages/{country}/{file}", access: Access::Roles { roles: COORDINATORS, writes: false }, summary: "Download one file of a country's package, checked against its manifest" },
    Route { method: "GET", path: "/api/v1/notifications", access: Access::Roles { roles: ANYONE, writes: false }, summary: "A provider's notifications about its own networks (the hub: give asn)" },
    Route { method: "GET", path: "/api/v1/admin/organisations", access: ADMIN_READ, summary: "Every organisation" },
    Route { method: "POST", path: "/api/v1/admin/organisations", access: ADMIN_WRITE, summary: "Add an organisation (name, kind, country, asns)" },
    Route { method: "GET", path: "/api/v1/admin/users", access: ADMIN_READ, summary: "Every user" },
    Route { method: "POST", path: "/api/v1/admin/users", access: ADMIN_WRITE, summary: "Add a user (email, org, role, password)" },
    Route { method: "POST", path: "/api/v1/admin/users/{email}/disable", access: ADMIN_WRITE, summary: "Disable a user: nothing it holds authenticates" },
    Route { method: "GET", path: "/api/v1/admin/tokens", access: ADMIN_READ, summary: "Every token (never the secrets)" },
    Route { method: "POST", path: "/api/v1/admin/tokens", access: ADMIN_WRITE, summary: "Create a token (user, expires_in, read_only, allow_ips); the secret is in this answer only" },
    Route { method: "DELETE", path: "/api/v1/admin/tokens/{id}", access: ADMIN_WRITE, summary: "Revoke a token" },
    Route { method: "GET", path: "/api/v1/admin/sources", access: ADMIN_READ, summary: "Every source with its organisation and consent" },
    Route { method: "GET", path: "/api/v1/admin/sources/{name}/consent", access: ADMIN_READ, summary: "Where a source's AMBER sightings may go" },
    Route { method: "PUT", path: "/api/v1/admin/sources/{name}/consent", access: ADMIN_WRITE, summary: "Set where a source's AMBER sightings may go (amber_to: agencies, providers)" },
    Route { method: "GET", path: "/api/v1/admin/allowlist", access: ADMIN_READ, summary: "The allowlist" },
    Route { method: "POST", path: "/api/v1/admin/allowlist", access: ADMIN_WRITE, summary: "Allowlist an address, network or domain (value, reason)" },
    Route { method: "DELETE", path: "/api/v1/admin/allowlist/{value}", access: ADMIN_WRITE, summary: "Remove an allowlist entry" },
    Route { method: "GET", path: "/api/v1/admin/contacts", access: ADMIN_READ, summary: "The routing contacts" },
    Route { method: "PUT", path: "/api/v1/admin/contacts", access: ADMIN_WRITE, summary: "Replace the contacts with a table (kind,key,name,email[,pgp][,language])" },
    Route { method: "GET", path: "/api/v1/admin/status", access: ADMIN_READ, summary: "The geo snapshot and warninglists present, with dates and sizes" },
];

/// The administrators' reads.
const ADMIN_READ: Access = Access::Roles { roles: &[Role::Admin], writes: false };

/// The administrators' writes.
const ADMIN_WRITE: Access = Access::Roles { roles: &[Role::Admin], writes: true };

/// The hub's staff.
const HUB: &[Role] = &[Role::Admin, Role::Analyst];

/// Who coordinates: the hub's staff and the agencies' officers.
const COORDINATORS: &[Role] = &[Role::Admin, Role::Analyst, Role::Agency];

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
            "PUT" => MethodFilter::PUT,
            "DELETE" => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        };
        let handler = match (route.method, route.path) {
            ("GET", "/healthz") => on(filter, handlers::healthz),
            ("GET", "/metrics") => on(filter, handlers::metrics),
            ("GET", "/api/v1/openapi.json") => on(filter, handlers::openapi),
            ("GET", "/api/v1/indicators") => on(filter, handlers::indicators),
            ("GET", "/api/v1/indicators/{value}") => on(filter, handlers::indicator),
            ("GET", "/api/v1/lookup/{value}") => on(filter, handlers::lookup_one),
            ("POST", "/api/v1/lookup") => on(filter, handlers::lookup_many),
            ("GET", "/api/v1/sources") => on(filter, handlers::sources),
            ("GET", "/api/v1/imports") => on(filter, handlers::imports),
            ("GET", "/api/v1/submissions") => on(filter, handlers::imports),
            ("GET", "/api/v1/audit") => on(filter, handlers::audit),
            ("GET", "/api/v1/blocklists/{format}") => on(filter, handlers::blocklist),
            ("GET", "/api/v1/operations") => on(filter, handlers::operations),
            ("GET", "/api/v1/operations/{name}/targets") => on(filter, handlers::operation_targets),
            ("GET", "/api/v1/operations/{name}/report") => on(filter, handlers::report),
            ("POST", "/api/v1/operations/{name}/outcomes") => on(filter, handlers::add_outcome),
            ("GET", "/api/v1/targets/{id}") => on(filter, handlers::target),
            ("POST", "/api/v1/targets/{id}/transitions") => on(filter, handlers::move_target),
            // Its body streams into the import, bounded by the handler.
            ("POST", "/api/v1/submissions") => on(filter, handlers::submit),
            ("POST", "/api/v1/operations/{name}/transitions") => on(filter, coordination::move_targets),
            ("GET", "/api/v1/operations/{name}/packages") => on(filter, coordination::packages),
            ("GET", "/api/v1/operations/{name}/packages/{country}/{file}") => on(filter, coordination::package_file),
            ("GET", "/api/v1/notifications") => on(filter, coordination::notifications),
            ("GET", "/api/v1/admin/organisations") => on(filter, admin::organisations),
            ("POST", "/api/v1/admin/organisations") => on(filter, admin::add_organisation),
            ("GET", "/api/v1/admin/users") => on(filter, admin::users),
            ("POST", "/api/v1/admin/users") => on(filter, admin::add_user),
            ("POST", "/api/v1/admin/users/{email}/disable") => on(filter, admin::disable_user),
            ("GET", "/api/v1/admin/tokens") => on(filter, admin::tokens),
            ("POST", "/api/v1/admin/tokens") => on(filter, admin::create_token),
            ("DELETE", "/api/v1/admin/tokens/{id}") => on(filter, admin::revoke_token),
            ("GET", "/api/v1/admin/sources") => on(filter, admin::sources),
            ("GET", "/api/v1/admin/sources/{name}/consent") => on(filter, admin::consent),
            ("PUT", "/api/v1/admin/sources/{name}/consent") => on(filter, admin::set_consent),
            ("GET", "/api/v1/admin/allowlist") => on(filter, admin::allowlist),
            ("POST", "/api/v1/admin/allowlist") => on(filter, admin::allow),
            ("DELETE", "/api/v1/admin/allowlist/{value}") => on(filter, admin::disallow),
            ("GET", "/api/v1/admin/contacts") => on(filter, admin::contacts),
            ("PUT", "/api/v1/admin/contacts") => on(filter, admin::set_contacts),
            ("GET", "/api/v1/admin/status") => on(filter, admin::status),
            _ => on(filter, handlers::unimplemented),
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(handlers::not_found)
        // 1 MiB unless a route says otherwise (submissions).
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::guard))
        .with_state(state)
}

/// The OpenAPI 3.1 document of [`ROUTES`]: every route with its summary,
/// path parameters, security and the problem answers it may give.
pub fn openapi() -> serde_json::Value {
    use serde_json::json;
    let problem = json!({"description": "a problem (RFC 9457)",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let parameters: Vec<serde_json::Value> = route
            .path
            .split('/')
            .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut operation = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method.to_ascii_lowercase(), route.path.replace(['/', '{', '}', '.'], "_")),
            "responses": {"200": {"description": "the answer"}, "400": problem.clone(), "404": problem.clone()},
        });
        if !parameters.is_empty() {
            operation["parameters"] = json!(parameters);
        }
        if let Access::Roles { roles, .. } = route.access {
            operation["security"] = json!([{"bearer": []}]);
            operation["responses"]["401"] = problem.clone();
            operation["responses"]["403"] = problem.clone();
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            operation["description"] = json!(format!("Roles: {}.", names.join(", ")));
        } else {
            operation["security"] = json!([]);
        }
        if matches!(route.method, "POST" | "PUT") {
            operation["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {}}, "application/json": {"schema": {}}}});
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "cordon", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The hub's API: every answer is what the caller's organisation may see."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "detail": {"type": "string"}}}}
        }
    })
}
