//! Coordination routes beyond single targets: bulk transitions of an
//! operation's targets, its packages and their files for the agencies,
//! and the notifications a provider received. What each caller may reach
//! is decided by the application layer (`cordon_app::deliveries`); here,
//! another organisation's object is a 404 like any missing one.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cordon_app::access::Principal;
use cordon_app::deliveries::{BulkMove, NotificationView, PackageView, MAX_BULK_TARGETS};
use cordon_ops::lifecycle::RejectReason;
use cordon_store::ops::TargetState;
use serde::Deserialize;

use crate::handlers::{blocking, parsed};
use crate::problem::Problem;

/// The body of `POST /api/v1/operations/{name}/transitions`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkRequest {
    /// The targets' ids.
    targets: Vec<i64>,
    to: String,
    #[serde(default)]
    note: String,
    reason: Option<String>,
}

/// `POST /api/v1/operations/{name}/transitions`: moves many targets with
/// one note, all or none. 200 with a result per target when all moved;
/// otherwise 409, a problem document whose `results` say which target was
/// refused or unknown and why (nothing moved). At most
/// [`MAX_BULK_TARGETS`] (413 beyond).
pub(crate) async fn move_targets(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
    body: Result<Json<BulkRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(request) = body.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    if request.targets.len() > MAX_BULK_TARGETS {
        return Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, format!("at most {MAX_BULK_TARGETS} targets at once")));
    }
    let to = parsed::<TargetState>("to", &Some(request.to))?.unwrap_or(TargetState::Triaged);
    let reason = parsed::<RejectReason>("reason", &request.reason)?;
    let moved: BulkMove = blocking(move || {
        let actor = cordon_ops::workflow::Actor::new(&caller.user, cordon_app::now(), &request.note);
        state.app.transition_many(&caller.viewer, &name, &request.targets, to, reason, &actor)
    })
    .await?;
    if moved.applied {
        return Ok(Json(moved).into_response());
    }
    let refused = Problem::new(StatusCode::CONFLICT, "a target was refused or unknown: nothing moved (see results)");
    let document = serde_json::json!({
        "type": refused.kind, "title": refused.title, "status": refused.status, "detail": refused.detail,
        "results": moved.results,
    });
    let mut response = (StatusCode::CONFLICT, Json(document)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    Ok(response)
}

/// `GET /api/v1/operations/{name}/packages`: the newest package of each
/// country the caller may fetch (an agency: its own).
pub(crate) async fn packages(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<Vec<PackageView>>, Problem> {
    Ok(Json(blocking(move || state.app.packages(&caller.viewer, &name)).await?))
}

/// `GET /api/v1/operations/{name}/packages/{country}/{file}`: one file of
/// a package, as written and checked against its manifest; offered as a
/// download, never rendered by the browser as part of this site.
pub(crate) async fn package_file(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path((name, country, file)): Path<(String, String, String)>,
) -> Result<Response, Problem> {
    let content_type = match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("gz") => "application/gzip",
        _ => "application/json",
    };
    let disposition = format!("attachment; filename=\"{}-{}\"", country.to_ascii_uppercase(), file);
    let checked = blocking(move || state.app.package_file(&caller.viewer, &name, &country, &file)).await?;
    let len = checked.len();
    // The file streams out as it is read, checked again on the way: a
    // change since the check above cuts the body off.
    let body = cordon_web::download::streamed(checked);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    // The file name is one of the package's fixed names and a checked
    // country code (the application refused anything else).
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The filter of `GET /api/v1/notifications`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationQuery {
    /// Only this network (the hub must name one).
    asn: Option<u32>,
}

/// `GET /api/v1/notifications`: a provider's notifications about its own
/// networks, each described only by what may go to a provider.
pub(crate) async fn notifications(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    query: Result<Query<NotificationQuery>, QueryRejection>,
) -> Result<Json<Vec<NotificationView>>, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    Ok(Json(blocking(move || state.app.notifications(&caller.viewer, q.asn)).await?))
}
