//! The handlers: parse the request, call the application layer as the
//! caller's viewer (on the blocking pool: the store is synchronous) and
//! serialize its answer.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cordon_app::access::Principal;
use cordon_app::operations::TargetSelection;
use cordon_app::view::{
    FileReportView, ImportView, IndicatorDetailView, IndicatorView, OperationView, SourceView, TargetDetailView,
};
use cordon_app::AppError;
use cordon_ingest::IngestOptions;
use cordon_model::{Category, Kind, Tlp};
use cordon_netset::parse_v4_net;
use cordon_store::ops::TargetState;
use cordon_store::IndicatorFilter;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// The most values one bulk lookup takes.
pub(crate) const MAX_LOOKUP_VALUES: usize = 10_000;

/// The default and the largest page of a list.
const PAGE: u64 = 100;
const MAX_PAGE: u64 = 1_000;

/// Runs `work` on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed; the server's log says why"))?
        .map_err(Problem::from)
}

/// `GET /healthz`.
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(state): State<crate::State>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::routes::openapi())
}

/// Any path no route has.
pub(crate) async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "there is no such resource")
}

/// A route of the table without a handler yet.
pub(crate) async fn unimplemented() -> Problem {
    Problem::new(StatusCode::NOT_IMPLEMENTED, "not implemented yet")
}

/// The filters of `GET /api/v1/indicators`, as `cordon indicators` has them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicatorQuery {
    kind: Option<String>,
    category: Option<String>,
    source: Option<String>,
    country: Option<String>,
    asn: Option<u32>,
    tlp_max: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

pub(crate) fn parsed<T: std::str::FromStr>(field: &str, raw: &Option<String>) -> Result<Option<T>, Problem>
where
    T::Err: std::fmt::Display,
{
    raw.as_deref()
        .map(|v| v.parse::<T>().map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("{field}: {e}"))))
        .transpose()
}

/// A page of a list and where the next one starts.
#[derive(Serialize)]
pub(crate) struct Page<T> {
    items: Vec<T>,
    /// The cursor of the next page, `None` on the last.
    next: Option<String>,
}

/// `GET /api/v1/indicators`: keyset pagination by value, so page 1,000
/// costs what page 1 costs. The cursor is opaque to clients (the last
/// value, hex-encoded).
pub(crate) async fn indicators(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    query: Result<Query<IndicatorQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<IndicatorView>>, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let limit = q.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let after = match &q.cursor {
        Some(c) => Some(
            hex::decode(c)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, "cursor: not a cursor this server gave"))?,
        ),
        None => None,
    };
    let filter = IndicatorFilter {
        kind: parsed::<Kind>("kind", &q.kind)?,
        category: parsed::<Category>("category", &q.category)?,
        source: q.source.clone(),
        country: q.country.as_ref().map(|c| c.to_ascii_uppercase()),
        asn: q.asn,
        max_tlp: parsed::<Tlp>("tlp_max", &q.tlp_max)?.unwrap_or(Tlp::Red),
        after,
        limit: Some(limit + 1),
        ..IndicatorFilter::new(caller.viewer)
    };
    let mut items = blocking(move || {
        let mut items = Vec::new();
        state.app.indicators(&filter, &mut |i| items.push(IndicatorView::from(&i)))?;
        Ok(items)
    })
    .await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|i| hex::encode(i.value.as_bytes()))
    } else {
        None
    };
    Ok(Json(Page { items, next }))
}

/// `GET /api/v1/indicators/{value}`: any form that normalizes, defanged too.
pub(crate) async fn indicator(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(value): Path<String>,
) -> Result<Json<IndicatorDetailView>, Problem> {
    let detail = blocking(move || state.app.indicator(&value, &IndicatorFilter::new(caller.viewer))).await?;
    Ok(Json(IndicatorDetailView::from(&detail)))
}

/// The address `raw` names (spaces and IPv6 brackets around it allowed).
fn address(raw: &str) -> Result<IpAddr, Problem> {
    let trimmed = raw.trim().trim_start_matches('[').trim_end_matches(']');
    // The fast parser takes `a.b.c.d/len` too: only a bare address is one.
    if let Some(net) = parse_v4_net(trimmed.as_bytes()).filter(|_| !trimmed.contains('/')) {
        return Ok(IpAddr::V4(net.addr()));
    }
    trimmed
        .parse()
        .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, format!("'{}' is not an IP address", raw.escape_debug())))
}

/// A JSON answer already serialized.
fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /api/v1/lookup/{value}`: `cordon lookup --json`'s object.
pub(crate) async fn lookup_one(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(value): Path<String>,
) -> Result<Response, Problem> {
    let index = index_of(&state, &caller).await?;
    let mut body = Vec::with_capacity(256);
    index.write_answer(address(&value)?, &mut body);
    Ok(json_bytes(body))
}

/// The caller's lookup index: straight from memory when current, else
/// (re)built on the blocking pool.
async fn index_of(state: &crate::State, caller: &Principal) -> Result<Arc<crate::lookup::Index>, Problem> {
    if let Some(index) = state.lookups.fresh(&state.app, caller.viewer, Tlp::Red) {
        return Ok(index);
    }
    let (state, viewer) = (state.clone(), caller.viewer);
    blocking(move || state.lookups.get(&state.app, viewer, Tlp::Red)).await
}

/// The body of `POST /api/v1/lookup`, its values borrowed from the body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupRequest<'a> {
    #[serde(borrow)]
    values: Vec<LookupValue<'a>>,
}

/// One value asked: borrowed unless it has JSON escapes.
#[derive(Deserialize)]
struct LookupValue<'a>(#[serde(borrow)] Cow<'a, str>);

/// Whether `headers` say the body is JSON (`application/json` or
/// `application/…+json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// `POST /api/v1/lookup` with `{"values": […]}` (at most 10,000): `{"answers":
/// […]}`, one `cordon lookup --json` object per value, written straight
/// from the index's serialized fragments.
pub(crate) async fn lookup_many(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, Problem> {
    let body = body.map_err(|e| Problem::new(e.status(), e.body_text()))?;
    if !is_json(&headers) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "Expected request with `Content-Type: application/json`"));
    }
    let request: LookupRequest = serde_json::from_slice(&body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("the body is not {{\"values\": [...]}}: {e}")))?;
    if request.values.len() > MAX_LOOKUP_VALUES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_LOOKUP_VALUES} values per request"),
        ));
    }
    let index = index_of(&state, &caller).await?;
    let mut out = Vec::with_capacity(16 + request.values.len() * 256);
    out.extend_from_slice(b"{\"answers\":[");
    for (n, LookupValue(value)) in request.values.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        index.write_answer(address(value)?, &mut out);
    }
    out.extend_from_slice(b"]}");
    Ok(json_bytes(out))
}

/// `GET /api/v1/sources`.
pub(crate) async fn sources(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<SourceView>>, Problem> {
    let sources = blocking(move || state.app.sources(&caller.viewer)).await?;
    Ok(Json(sources.iter().map(SourceView::from).collect()))
}

/// `GET /api/v1/imports`: the caller's own (the hub's: all).
pub(crate) async fn imports(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<ImportView>>, Problem> {
    let imports = blocking(move || state.app.imports(&caller.viewer)).await?;
    Ok(Json(imports.iter().map(ImportView::from).collect()))
}

/// The largest submission body, as sent.
pub(crate) const MAX_SUBMISSION: u64 = 256 << 20;

/// The most a gzipped submission may expand to.
pub(crate) const MAX_EXPANDED: u64 = 4 << 30;

/// The options of `POST /api/v1/submissions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmissionQuery {
    format: Option<String>,
    tlp: Option<String>,
    category: Option<String>,
    /// The hub only: the source to record (partners submit as themselves).
    source: Option<String>,
    strict: Option<bool>,
}

/// `POST /api/v1/submissions`: the body is a feed file in any format
/// `cordon ingest` reads, gzipped or not (`Content-Encoding: gzip`, or
/// gzip's magic bytes); the answer is `ingest --json`'s report of it.
/// Re-submitting the same bytes adds nothing. The body streams into the
/// import as it arrives (never whole in memory): at most
/// [`MAX_SUBMISSION`] bytes as sent and [`MAX_EXPANDED`] decoded, 413
/// beyond.
pub(crate) async fn submit(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    query: Result<Query<SubmissionQuery>, axum::extract::rejection::QueryRejection>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Json<FileReportView>, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let options = IngestOptions {
        format: parsed::<cordon_formats::Format>("format", &q.format)?,
        tlp: parsed::<Tlp>("tlp", &q.tlp)?,
        category: parsed::<Category>("category", &q.category)?,
        strict: q.strict.unwrap_or(false),
        ..IngestOptions::default()
    };
    let encoding = headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase());
    let gzip = match encoding.as_deref() {
        None | Some("identity") => false,
        Some("gzip" | "x-gzip") => true,
        Some(_) => {
            return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Encoding: only gzip is accepted"))
        }
    };
    let (tx, reader) = crate::streaming::channel();
    let exceeded = crate::streaming::Exceeded::default();
    let import = {
        let exceeded = exceeded.clone();
        blocking(move || {
            let mut feed = crate::streaming::decoded(reader, gzip, MAX_EXPANDED, exceeded)
                .map_err(|e| AppError::Invalid(format!("submission: {e}")))?;
            let input = cordon_app::intake::Input::Reader { name: "submission", reader: &mut feed };
            state.app.submit(&caller.viewer, q.source.as_deref(), input, &options)
        })
    };
    let ((), report) = tokio::join!(crate::streaming::pump(body, tx, MAX_SUBMISSION, exceeded.clone()), import);
    if exceeded.hit() {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a submission is at most {MAX_SUBMISSION} bytes as sent and {MAX_EXPANDED} decoded"),
        ));
    }
    Ok(Json(FileReportView::from(&report?)))
}

/// One audit row as served.
#[derive(Serialize)]
pub(crate) struct AuditView {
    id: i64,
    time: String,
    user: String,
    org: String,
    action: String,
    object: String,
    result: String,
    hash: String,
}

/// `GET /api/v1/audit` (admins): the log, oldest first.
pub(crate) async fn audit(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<AuditView>>, Problem> {
    let rows = blocking(move || state.app.audit(&caller.viewer, None, None)).await?;
    let views = rows
        .into_iter()
        .map(|r| AuditView {
            id: r.id,
            time: cordon_model::format_timestamp(r.entry.time),
            user: r.entry.user,
            org: r.entry.org,
            action: r.entry.action,
            object: r.entry.object,
            result: r.entry.result,
            hash: r.hash,
        })
        .collect();
    Ok(Json(views))
}

/// The filters of `GET /api/v1/blocklists/{format}`, as `cordon export`
/// has them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlocklistQuery {
    kind: Option<String>,
    category: Option<String>,
    source: Option<String>,
    min_confidence: Option<u8>,
    tlp_max: Option<String>,
    include_flagged: Option<bool>,
}

/// `GET /api/v1/blocklists/{format}`: `cordon export`'s formats (but the
/// MISP feed directory), as the caller may see them, up to TLP:GREEN
/// unless `tlp_max` says otherwise. `ETag` names the store's identity and
/// generation, the caller's view and the query; `If-None-Match` with it
/// answers 304 without building anything. The body is streamed
/// (chunked) as the list is written, never built whole in memory.
pub(crate) async fn blocklist(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(format): Path<String>,
    query: Result<Query<BlocklistQuery>, axum::extract::rejection::QueryRejection>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let format: cordon_export::Format =
        format.parse().map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("format: {e}")))?;
    if format.is_directory() {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "the misp format is a feed directory; use cordon export"));
    }
    let selection = cordon_app::exports::ExportSelection {
        filter: IndicatorFilter {
            kind: parsed::<Kind>("kind", &q.kind)?,
            category: parsed::<Category>("category", &q.category)?,
            source: q.source.clone(),
            max_tlp: parsed::<Tlp>("tlp_max", &q.tlp_max)?.unwrap_or(cordon_app::exports::BLOCKLIST_TLP_MAX),
            ..IndicatorFilter::new(caller.viewer)
        },
        min_confidence: q.min_confidence,
        since: None,
        include_flagged: q.include_flagged.unwrap_or(false),
    };
    let view = format!("{:?}|{format}|{q:?}", caller.viewer);
    let app_state = state.clone();
    let stamp = blocking(move || Ok((app_state.app.identity()?, app_state.app.generation()?))).await?;
    let etag = format!("\"{}-{}-{}\"", stamp.0, stamp.1, &sha256_hex(&view)[..16]);
    let unchanged = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    // The list streams out as `App::write_export` writes it from the
    // store's cursor; a failure on the way cuts the body off (no final
    // chunk), never a complete-looking answer.
    let (mut writer, body) = crate::streaming::body();
    tokio::task::spawn_blocking(move || {
        let options = cordon_export::Options::new(cordon_app::now());
        let written = state
            .app
            .write_export(&selection, format, &options, &mut writer)
            .map_err(|e| e.to_string())
            .and_then(|_| std::io::Write::flush(&mut writer).map_err(|e| e.to_string()));
        if let Err(why) = written {
            writer.fail(why);
        }
    });
    let content_type = if format.is_binary() { "application/octet-stream" } else { "text/plain; charset=utf-8" };
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::ETAG, etag)], body).into_response())
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `GET /api/v1/operations`.
pub(crate) async fn operations(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<OperationView>>, Problem> {
    let operations = blocking(move || state.app.operations(&caller.viewer)).await?;
    Ok(Json(operations.iter().map(OperationView::from).collect()))
}

/// The filters of an operation's targets, and an optional page: `limit`
/// targets by id after the target `after`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetQuery {
    country: Option<String>,
    asn: Option<u32>,
    state: Option<String>,
    category: Option<String>,
    limit: Option<usize>,
    after: Option<i64>,
}

/// The most targets one page of `GET /api/v1/operations/{name}/targets`
/// holds.
const MAX_TARGET_PAGE: usize = 1_000;

/// `GET /api/v1/operations/{name}/targets`: every matching target, or with
/// `limit` one keyset page of them by id (`after` the last id of the
/// previous page; a `Link: <…>; rel="next"` header names the next page
/// while there is one), read a page at a time from the store.
pub(crate) async fn operation_targets(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
    query: Result<Query<TargetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let selection = TargetSelection {
        operation: Some(name.clone()),
        country: q.country.clone(),
        asn: q.asn,
        state: parsed::<TargetState>("state", &q.state)?,
        category: parsed::<Category>("category", &q.category)?,
        ..TargetSelection::default()
    };
    let Some(limit) = q.limit else {
        return Ok(every_target(state, caller, selection).await);
    };
    if !(1..=MAX_TARGET_PAGE).contains(&limit) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, format!("limit: 1 to {MAX_TARGET_PAGE}")));
    }
    let after = q.after.map(|id| cordon_store::ops::TargetCursor { value: cordon_store::ops::SortValue::None, id });
    let page = cordon_store::ops::TargetPage { after, limit, ..cordon_store::ops::TargetPage::default() };
    let read = blocking(move || state.app.target_page(&caller.viewer, &selection, &page)).await?;
    let next = match (&read.last, read.more_after) {
        (Some(last), true) => {
            let mut query: Vec<String> = [("country", &q.country), ("state", &q.state), ("category", &q.category)]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", cordon_web::encode(v))))
                .collect();
            query.extend(q.asn.map(|a| format!("asn={a}")));
            query.push(format!("limit={limit}&after={}", last.id));
            let link =
                format!("</api/v1/operations/{}/targets?{}>; rel=\"next\"", cordon_web::encode(&name), query.join("&"));
            Some(link)
        }
        _ => None,
    };
    let mut answer = Json(read.targets).into_response();
    if let Some(link) = next.and_then(|l| axum::http::HeaderValue::from_str(&l).ok()) {
        answer.headers_mut().insert(header::LINK, link);
    }
    Ok(answer)
}

/// Every target of `selection` as one JSON array, written as the store
/// reads them a page at a time ([`cordon_app::App::each_target_view`]); a
/// failure on the way cuts the body off (no final chunk), never a
/// complete-looking array. A failure before the first target (an unknown
/// operation, a caller who may not see targets) is an error answer.
async fn every_target(state: crate::State, caller: Principal, selection: TargetSelection) -> Response {
    let (mut writer, body) = crate::streaming::body();
    let (started, first) = tokio::sync::oneshot::channel::<Result<(), Problem>>();
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut started = Some(started);
        let mut count = 0u64;
        let walked = state.app.each_target_view(&caller.viewer, &selection, &mut |view| {
            if let Some(started) = started.take() {
                let _ = started.send(Ok(()));
            }
            let separator: &[u8] = if count == 0 { b"[" } else { b"," };
            count += 1;
            writer.write_all(separator).map_err(|e| AppError::Storage(e.to_string()))?;
            serde_json::to_writer(&mut writer, &view).map_err(|e| AppError::Storage(e.to_string()))
        });
        match (walked, started.take()) {
            (Err(e), Some(started)) => {
                let _ = started.send(Err(Problem::from(e)));
            }
            (Err(e), None) => writer.fail(e.to_string()),
            (Ok(()), started) => {
                if let Some(started) = started {
                    let _ = started.send(Ok(()));
                }
                let end: &[u8] = if count == 0 { b"[]" } else { b"]" };
                if let Err(e) = writer.write_all(end).and_then(|()| writer.flush()) {
                    writer.fail(e.to_string());
                }
            }
        }
    });
    match first.await {
        Ok(Ok(())) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Err(problem)) => problem.into_response(),
        Err(_) => {
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the targets could not be read".to_string()).into_response()
        }
    }
}

/// `GET /api/v1/operations/{name}/report`.
pub(crate) async fn report(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<cordon_ops::report::Report>, Problem> {
    let report = blocking(move || {
        let operation = state.app.operation(&name)?;
        state.app.report(&caller.viewer, &operation)
    })
    .await?;
    Ok(Json(report))
}

/// The body of `POST /api/v1/operations/{name}/outcomes`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutcomeRequest {
    country: String,
    kind: String,
    count: u64,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/operations/{name}/outcomes`.
pub(crate) async fn add_outcome(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
    body: Result<Json<OutcomeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, Problem> {
    let Json(request) = body.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let kind = request.kind.trim().to_ascii_lowercase();
    if !cordon_ops::report::OUTCOME_KINDS.contains(&kind.as_str()) {
        let kinds = cordon_ops::report::OUTCOME_KINDS.join(", ");
        return Err(Problem::new(StatusCode::BAD_REQUEST, format!("kind: expected one of {kinds}")));
    }
    blocking(move || {
        let operation = state.app.operation(&name)?;
        let outcome = cordon_store::ops::Outcome {
            operation_id: operation.id,
            country: request.country,
            kind,
            count: request.count,
            date: cordon_app::now(),
            note: request.note,
        };
        state.app.add_outcome(&caller.viewer, &outcome)
    })
    .await?;
    Ok(StatusCode::CREATED)
}

/// `GET /api/v1/targets/{id}`.
pub(crate) async fn target(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<TargetDetailView>, Problem> {
    let id: i64 = id.parse().map_err(|_| Problem::new(StatusCode::NOT_FOUND, "there is no such target"))?;
    Ok(Json(blocking(move || state.app.target(&caller.viewer, id)).await?))
}

/// The body of `POST /api/v1/targets/{id}/transitions`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveRequest {
    to: String,
    #[serde(default)]
    note: String,
    reason: Option<String>,
}

/// `POST /api/v1/targets/{id}/transitions`: refused where the lifecycle
/// forbids it (409).
pub(crate) async fn move_target(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Json<MoveRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<TargetDetailView>, Problem> {
    let id: i64 = id.parse().map_err(|_| Problem::new(StatusCode::NOT_FOUND, "there is no such target"))?;
    let Json(request) = body.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let to = parsed::<TargetState>("to", &Some(request.to))?.unwrap_or(TargetState::Triaged);
    let reason = parsed::<cordon_ops::lifecycle::RejectReason>("reason", &request.reason)?;
    blocking(move || {
        let target = state.app.target_for_move(&caller.viewer, id)?;
        let actor = cordon_ops::workflow::Actor::new(&caller.user, cordon_app::now(), &request.note);
        let moved = state.app.transition(&caller.viewer, &[target], to, reason, &actor)?;
        if let Some((_, refusal)) = moved.refused.first() {
            return Err(AppError::Conflict(refusal.to_string()));
        }
        state.app.target(&caller.viewer, id)
    })
    .await
    .map(Json)
}
