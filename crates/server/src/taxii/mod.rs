//! TAXII 2.1 inside `cordon serve`: discovery at `/taxii2/`, one API root
//! (`/taxii2/cordon/`) whose collections are the hub's views of the
//! indicators (`cordon collection add`).
//!
//! * [`TAXII_ROUTES`] is this module's route table, with the same
//!   [`Access`] rows as [`crate::routes::ROUTES`]; the guard
//!   ([`crate::auth::guard`]) finds a route's policy in either. Every path
//!   answers with and without its trailing slash.
//! * [`negotiate`] wraps every TAXII route: 406 for an `Accept` it cannot
//!   serve, 415 for a body that is not `application/taxii+json`, and every
//!   error (the guard's problems too) as a TAXII error object with the
//!   TAXII media type, `title` and the matching `http_status`.
//! * What a collection holds for a caller comes from
//!   [`cordon_app::App::collection_objects`] as the caller's viewer, in
//!   (date added, id) order ([`views::Views`] keeps that order per viewer
//!   and store generation); pages are cut by keyset with sealed cursors
//!   ([`cordon_taxii::cursor`]) bound to the caller and the query.

mod handlers;
mod views;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use cordon_app::access::Role;
use cordon_taxii::resources::ErrorObject;
use cordon_taxii::TAXII_MEDIA_TYPE;

use crate::routes::{Access, Route};

/// The largest body a POST of objects may have (the API root's
/// `max_content_length`).
pub(crate) const MAX_CONTENT_LENGTH: usize = 16 << 20;

/// The API root's path.
pub(crate) const API_ROOT: &str = "/taxii2/cordon/";

const READ: Access = Access::Roles { roles: &Role::ALL, writes: false };
const WRITE: Access = Access::Roles { roles: &Role::ALL, writes: true };

/// Every TAXII route. Whether a caller may read or write a collection is
/// the collection's own rule (`cordon collection add --readers/--writers`),
/// so every role may call them; read-only tokens may not POST or DELETE.
pub const TAXII_ROUTES: &[Route] = &[
    Route { method: "GET", path: "/taxii2/", access: READ, summary: "TAXII 2.1 discovery" },
    Route { method: "GET", path: "/taxii2/cordon/", access: READ, summary: "The API root" },
    Route {
        method: "GET",
        path: "/taxii2/cordon/collections/",
        access: READ,
        summary: "The collections the caller may read or write",
    },
    Route { method: "GET", path: "/taxii2/cordon/collections/{id}/", access: READ, summary: "One collection" },
    Route {
        method: "GET",
        path: "/taxii2/cordon/collections/{id}/objects/",
        access: READ,
        summary: "A page of the collection's objects, as the caller may see them",
    },
    Route {
        method: "POST",
        path: "/taxii2/cordon/collections/{id}/objects/",
        access: WRITE,
        summary: "Add objects (an import as the caller's organisation)",
    },
    Route {
        method: "GET",
        path: "/taxii2/cordon/collections/{id}/objects/{object_id}/",
        access: READ,
        summary: "One object",
    },
    Route {
        method: "DELETE",
        path: "/taxii2/cordon/collections/{id}/objects/{object_id}/",
        access: WRITE,
        summary: "Delete the caller's organisation's sightings behind one object",
    },
    Route {
        method: "GET",
        path: "/taxii2/cordon/collections/{id}/objects/{object_id}/versions/",
        access: READ,
        summary: "The versions of one object",
    },
    Route {
        method: "GET",
        path: "/taxii2/cordon/collections/{id}/manifest/",
        access: READ,
        summary: "A page of the collection's manifest",
    },
    Route { method: "GET", path: "/taxii2/cordon/status/{status_id}/", access: READ, summary: "The status of a POST" },
];

/// The access of `method` on the TAXII route template `path` (with or
/// without its trailing slash).
pub(crate) fn policy(method: &Method, path: &str) -> Option<&'static Access> {
    let path = path.trim_end_matches('/');
    TAXII_ROUTES.iter().find(|r| r.method == method.as_str() && r.path.trim_end_matches('/') == path).map(|r| &r.access)
}

/// A TAXII error answer of `status`.
pub(crate) fn error(status: StatusCode, description: impl Into<String>) -> Response {
    let object = ErrorObject::new(status.as_u16(), status.canonical_reason().unwrap_or("Error"), description);
    let mut response = (status, serde_json::to_vec(&object).unwrap_or_default()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"cordon\""));
        headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cordon\""));
    }
    response
}

/// Whether a media range of `Accept` (or a `Content-Type`) names TAXII
/// 2.1: `application/taxii+json` with `version=2.1` or no version; for
/// `Accept`, also the wildcards.
fn is_taxii(media: &str, wildcards: bool) -> bool {
    let mut parts = media.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("").to_ascii_lowercase();
    let version_ok = parts.all(|p| match p.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("version") => value.trim().trim_matches('"') == "2.1",
        _ => true,
    });
    let essence_ok =
        essence == "application/taxii+json" || (wildcards && (essence == "*/*" || essence == "application/*"));
    essence_ok && version_ok
}

/// Media types in, TAXII error objects out: see the module docs.
pub(crate) async fn negotiate(request: Request, next: Next) -> Response {
    let accept = request.headers().get(header::ACCEPT).map(|v| v.to_str().unwrap_or(""));
    if let Some(accept) = accept {
        if !accept.split(',').any(|range| is_taxii(range, true)) {
            return error(StatusCode::NOT_ACCEPTABLE, format!("this server answers {TAXII_MEDIA_TYPE} only"));
        }
    }
    if request.method() == Method::POST {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !is_taxii(content_type, false) {
            return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("send objects as {TAXII_MEDIA_TYPE}"));
        }
        let length = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        if length.and_then(|l| l.parse::<u64>().ok()).is_some_and(|l| l > MAX_CONTENT_LENGTH as u64) {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("at most {MAX_CONTENT_LENGTH} bytes (max_content_length)"),
            );
        }
    }
    let response = next.run(request).await;
    let taxii =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == TAXII_MEDIA_TYPE.as_bytes());
    if taxii || (response.status().is_success() && response.headers().get(header::CONTENT_TYPE).is_none()) {
        return response;
    }
    let status = response.status();
    if status.is_success() {
        return response;
    }
    // The guard's problems (401, 403, 429) and the framework's rejections
    // (413 of the body limit) become TAXII error objects, keeping what
    // they say and their Retry-After.
    let retry = response.headers().get(header::RETRY_AFTER).cloned();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 10).await.unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(String::from))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("the request failed").to_string());
    let mut answer = error(status, detail);
    if let Some(retry) = retry {
        answer.headers_mut().insert(header::RETRY_AFTER, retry);
    }
    answer
}

/// The TAXII router: every route of [`TAXII_ROUTES`], with and without its
/// trailing slash, behind the guard and [`negotiate`].
pub(crate) fn router(state: crate::State) -> Router {
    let taxii = std::sync::Arc::new(handlers::Taxii::new(state.clone()));
    let mut router: Router<std::sync::Arc<handlers::Taxii>> = Router::new();
    for route in TAXII_ROUTES {
        let filter = match route.method {
            "POST" => MethodFilter::POST,
            "DELETE" => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        };
        let handler = match (route.method, route.path) {
            ("GET", "/taxii2/") => on(filter, handlers::discovery),
            ("GET", "/taxii2/cordon/") => on(filter, handlers::api_root),
            ("GET", "/taxii2/cordon/collections/") => on(filter, handlers::collections),
            ("GET", "/taxii2/cordon/collections/{id}/") => on(filter, handlers::collection_info),
            ("GET", "/taxii2/cordon/collections/{id}/objects/") => on(filter, handlers::objects),
            ("POST", "/taxii2/cordon/collections/{id}/objects/") => {
                on(filter, handlers::add_objects).layer(axum::extract::DefaultBodyLimit::max(MAX_CONTENT_LENGTH))
            }
            ("GET", "/taxii2/cordon/collections/{id}/objects/{object_id}/") => on(filter, handlers::object),
            ("DELETE", "/taxii2/cordon/collections/{id}/objects/{object_id}/") => on(filter, handlers::delete_object),
            ("GET", "/taxii2/cordon/collections/{id}/objects/{object_id}/versions/") => on(filter, handlers::versions),
            ("GET", "/taxii2/cordon/collections/{id}/manifest/") => on(filter, handlers::manifest),
            _ => on(filter, handlers::status),
        };
        router = router.route(route.path, handler.clone()).route(route.path.trim_end_matches('/'), handler);
    }
    router
        .layer(axum::middleware::from_fn_with_state(state, crate::auth::guard))
        .layer(axum::middleware::from_fn(negotiate))
        .with_state(taxii)
}

/// An empty body of `status` with the TAXII media type.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
    response
}
