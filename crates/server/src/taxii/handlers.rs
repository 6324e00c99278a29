//! The TAXII handlers: parse the query ([`cordon_taxii::query`]), ask the
//! application layer as the caller's viewer, cut the page by keyset and
//! answer in the TAXII media type.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use cordon_app::access::Principal;
use cordon_app::collections::CollectionAccess;
use cordon_app::AppError;
use cordon_store::collections::{Collection, CollectionObject};
use cordon_taxii::cursor::{CursorKey, Position};
use cordon_taxii::query::{Endpoint, Query, VersionMatch};
use cordon_taxii::resources::{
    self, ApiRoot, Collections, Discovery, Envelope, Manifest, ManifestRecord, Status, StatusDetail, Versions,
};
use cordon_taxii::{paging, Micros, StixId, SPEC_VERSION, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE};
use serde::Serialize;

use super::views::{Entry, Source, View, Views};
use super::{empty, error, API_ROOT, MAX_CONTENT_LENGTH};
use crate::problem::Problem;

/// A page when the query names no limit, and the largest page.
const DEFAULT_LIMIT: u64 = 1_000;
const MAX_LIMIT: u64 = 10_000;

/// The producer named in the objects (their `created_by_ref` identity).
pub(crate) const PRODUCER: &str = "cordon";

/// What the TAXII handlers share: the server's state, the key that seals
/// cursors (drawn when the server starts: a restart ends every paging in
/// progress with a 400) and the views.
pub(crate) struct Taxii {
    state: crate::State,
    key: CursorKey,
    views: Views,
}

impl Taxii {
    pub(crate) fn new(state: crate::State) -> Taxii {
        let mut secret = [0u8; 32];
        // Without randomness from the OS, cursors fall back to a key only
        // this process knows the address of; they still bind to the query.
        if getrandom::getrandom(&mut secret).is_err() {
            let seed = format!("{:p}{:?}", &state, std::time::SystemTime::now());
            secret.copy_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(seed.as_bytes()));
        }
        Taxii { state, key: CursorKey::new(secret), views: Views::default() }
    }
}

type Shared = State<Arc<Taxii>>;

/// An answer or a TAXII error.
type Answer = Result<Response, TaxiiError>;

/// Runs `work` on the blocking pool; its error as a TAXII error object
/// (the problem it would be, so storage errors say nothing of the store).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, TaxiiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => {
            Err(TaxiiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed; the server's log says why"))
        }
    }
}

/// A TAXII error answer: its status and what it says.
#[derive(Debug)]
pub(crate) struct TaxiiError {
    status: StatusCode,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, description: impl Into<String>) -> TaxiiError {
        TaxiiError { status, description: description.into() }
    }
}

impl From<AppError> for TaxiiError {
    /// The problem the error would be, so storage errors say nothing of
    /// the store.
    fn from(e: AppError) -> TaxiiError {
        let problem = Problem::from(e);
        TaxiiError::new(
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            problem.detail,
        )
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        error(self.status, self.description)
    }
}

/// `value` as TAXII JSON, with the date headers of the objects it shows.
fn taxii_json(status: StatusCode, value: &impl Serialize, dates: Option<(Micros, Micros)>) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
    if let Some((first, last)) = dates {
        for (name, date) in [("x-taxii-date-added-first", first), ("x-taxii-date-added-last", last)] {
            if let Ok(value) = HeaderValue::from_str(&date.to_string()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    response
}

fn parse(uri: &Uri, endpoint: Endpoint) -> Result<Query, TaxiiError> {
    Query::parse(uri.query().unwrap_or(""), endpoint)
        .map_err(|e| TaxiiError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

/// What a cursor of `caller` is bound to besides the query.
fn caller_key(caller: &Principal) -> String {
    format!("{}\n{}", caller.user, caller.org)
}

/// The collection `id` as `caller` may use it (404 when it may neither
/// read nor write it: nothing says it exists).
async fn collection(
    taxii: &Arc<Taxii>,
    caller: &Principal,
    id: String,
) -> Result<(Collection, CollectionAccess), TaxiiError> {
    let (taxii, viewer) = (taxii.clone(), caller.viewer);
    blocking(move || taxii.state.app.collection_for(&viewer, &id)).await
}

/// The collection `id` and its view, for a caller that may read it (403
/// for a writer that may not).
async fn readable(taxii: &Arc<Taxii>, caller: &Principal, id: String) -> Result<(Collection, Arc<View>), TaxiiError> {
    let (collection, access) = self::collection(taxii, caller, id).await?;
    if !access.read {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "the caller may add objects to this collection but not read it",
        ));
    }
    let (taxii, viewer, of) = (taxii.clone(), caller.viewer, collection.clone());
    let view = blocking(move || taxii.views.get(&taxii.state.app, viewer, &of)).await?;
    Ok((collection, view))
}

fn collection_resource(collection: &Collection, access: CollectionAccess) -> resources::Collection {
    let spec = &collection.spec;
    resources::Collection {
        id: collection.uuid.clone(),
        title: spec.title.clone(),
        description: (!spec.description.is_empty()).then(|| spec.description.clone()),
        alias: Some(spec.name.clone()),
        can_read: access.read,
        can_write: access.write,
        media_types: vec![STIX_MEDIA_TYPE.to_string()],
    }
}

/// `GET /taxii2/`.
pub(crate) async fn discovery() -> Response {
    let discovery = Discovery {
        title: "cordon".into(),
        description: Some("The hub's threat intelligence as STIX 2.1, as the caller may see it".into()),
        contact: None,
        default: Some(API_ROOT.into()),
        api_roots: vec![API_ROOT.into()],
    };
    taxii_json(StatusCode::OK, &discovery, None)
}

/// `GET /taxii2/cordon/`.
pub(crate) async fn api_root() -> Response {
    let root = ApiRoot {
        title: "cordon".into(),
        description: Some("The hub's collections".into()),
        versions: vec![TAXII_MEDIA_TYPE.into()],
        max_content_length: MAX_CONTENT_LENGTH as u64,
    };
    taxii_json(StatusCode::OK, &root, None)
}

/// `GET …/collections/`: those the caller may read or write, by name.
pub(crate) async fn collections(State(taxii): Shared, Extension(caller): Extension<Principal>) -> Answer {
    let viewer = caller.viewer;
    let found = blocking(move || taxii.state.app.collections_for(&viewer)).await?;
    let collections = Collections { collections: found.iter().map(|(c, a)| collection_resource(c, *a)).collect() };
    Ok(taxii_json(StatusCode::OK, &collections, None))
}

/// `GET …/collections/{id}/`.
pub(crate) async fn collection_info(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
) -> Answer {
    let (collection, access) = collection(&taxii, &caller, id).await?;
    Ok(taxii_json(StatusCode::OK, &collection_resource(&collection, access), None))
}

/// The page of `view` the query asks for (`scope` names the endpoint for
/// the cursor), with its `next` and the dates of its first and last.
struct Cut {
    entries: Vec<Entry>,
    next: Option<String>,
    dates: Option<(Micros, Micros)>,
}

fn cut(taxii: &Taxii, caller: &Principal, query: &Query, scope: &str, entries: &[Entry]) -> Result<Cut, TaxiiError> {
    let binding = query.binding(&caller_key(caller), scope);
    let after = match &query.next {
        Some(next) => {
            Some(taxii.key.open(&binding, next).map_err(|e| TaxiiError::new(StatusCode::BAD_REQUEST, e.to_string()))?)
        }
        None => None,
    };
    // A cursor is sealed by this server for an id of one of its views.
    let after = match after {
        Some(position) => match StixId::parse(&position.id) {
            Some(id) => Some((position.date_added, id)),
            None => return Err(TaxiiError::new(StatusCode::BAD_REQUEST, "the cursor names no object of a collection")),
        },
        None => None,
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
    let (page, more) = paging::page(
        entries,
        |e| (e.date_added, e.id),
        after,
        query.added_after,
        limit,
        |e| {
            query.matches_stix_id(&e.id)
                && query.matches_spec_version(SPEC_VERSION)
                && query.matches_version(e.version, e.first, e.last)
        },
    );
    let next = match (more, page.last()) {
        (true, Some(last)) => {
            Some(taxii.key.seal(&binding, &Position { date_added: last.date_added, id: last.id.to_string() }))
        }
        _ => None,
    };
    let dates = page.first().zip(page.last()).map(|(f, l)| (f.date_added, l.date_added));
    Ok(Cut { entries: page.into_iter().cloned().collect(), next, dates })
}

/// The STIX objects of `entries`, in their order, as `caller` may see
/// them now; an object whose version is no longer one it has (the store
/// moved on since the view was made) is left out: its new version comes
/// later in (date added, id) order.
async fn stix_objects(
    taxii: &Arc<Taxii>,
    caller: &Principal,
    collection: Collection,
    entries: &[Entry],
) -> Result<Vec<serde_json::Value>, TaxiiError> {
    let mut ids: Vec<i64> = entries.iter().filter_map(|e| e.source.indicator()).collect();
    ids.sort_unstable();
    ids.dedup();
    let (taxii, viewer) = (taxii.clone(), caller.viewer);
    let found: HashMap<i64, CollectionObject> = blocking(move || {
        let mut found = HashMap::new();
        taxii.state.app.collection_objects(&viewer, &collection, Some(&ids), &mut |o| {
            found.insert(o.indicator_id, o);
        })?;
        Ok(found)
    })
    .await?;
    let objects = entries.iter().filter_map(|entry| match (&entry.source, entry.source.indicator()) {
        (Source::Fixed(object), _) => Some(object.as_ref().clone()),
        (source, Some(id)) => stix_object(source, entry.version.0, found.get(&id)?),
        (_, None) => None,
    });
    Ok(objects.collect())
}

/// The object `source` names, in its version of date `at`, built from
/// `object` (the indicator it derives from); `None` when it has no such
/// version.
fn stix_object(source: &Source, at: i64, object: &CollectionObject) -> Option<serde_json::Value> {
    let current = cordon_app::exports::entry(object.summary.clone(), false);
    let indicator = cordon_export::indicator_id(&current.value);
    let modified = Micros(at).to_string();
    // A relationship of marking versions `versions`, in its version `at`.
    let relationship = |kind: &str, target: &str, versions: Vec<(i64, cordon_model::Tlp)>| {
        let tlp = versions.iter().find(|(date, _)| *date == at).map(|(_, tlp)| *tlp)?;
        let created = Micros(versions.first()?.0).to_string();
        Some(cordon_export::relationship_object((kind, &indicator, target), PRODUCER, tlp, &created, &modified))
    };
    match source {
        Source::Indicator(_) => {
            if !object.versions().contains(&at) {
                return None;
            }
            let version = cordon_app::exports::entry(object.as_of(at), false);
            let created = Micros(object.created_us).to_string();
            cordon_export::indicator_object(&version, PRODUCER, &created, &modified)
        }
        Source::Observable(_) => (object.modified_us == at).then(|| cordon_export::observable_object(&current))?,
        Source::BasedOn(_) => {
            relationship("based-on", &cordon_export::observable_id(&current)?, object.marking_versions(None))
        }
        Source::Indicates(_, family) => {
            relationship("indicates", &cordon_export::malware_id(family), object.marking_versions(Some(family)))
        }
        Source::Fixed(object) => Some(object.as_ref().clone()),
    }
}

/// `GET …/objects/`.
pub(crate) async fn objects(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
    uri: Uri,
) -> Answer {
    let query = parse(&uri, Endpoint::Objects)?;
    let (collection, view) = readable(&taxii, &caller, id).await?;
    let page = cut(&taxii, &caller, &query, &format!("{}/objects", collection.uuid), &view.entries)?;
    let objects = stix_objects(&taxii, &caller, collection, &page.entries).await?;
    let envelope = Envelope { more: page.next.is_some(), next: page.next, objects };
    Ok(taxii_json(StatusCode::OK, &envelope, page.dates))
}

/// `GET …/manifest/`.
pub(crate) async fn manifest(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
    uri: Uri,
) -> Answer {
    let query = parse(&uri, Endpoint::Manifest)?;
    let (collection, view) = readable(&taxii, &caller, id).await?;
    let page = cut(&taxii, &caller, &query, &format!("{}/manifest", collection.uuid), &view.entries)?;
    let objects = page
        .entries
        .iter()
        .map(|e| ManifestRecord {
            id: e.id.to_string(),
            date_added: e.date_added.to_string(),
            version: e.version.to_string(),
            media_type: STIX_MEDIA_TYPE.to_string(),
        })
        .collect();
    let manifest = Manifest { more: page.next.is_some(), next: page.next, objects };
    Ok(taxii_json(StatusCode::OK, &manifest, page.dates))
}

/// Every version of object `object_id` in `view`, oldest first (404
/// without one).
fn the_object(view: &View, object_id: &str) -> Result<Vec<Entry>, TaxiiError> {
    let wanted = StixId::parse(object_id);
    let versions: Vec<Entry> = view.entries.iter().filter(|e| Some(e.id) == wanted).cloned().collect();
    if versions.is_empty() {
        return Err(TaxiiError::new(StatusCode::NOT_FOUND, "there is no such object in this collection"));
    }
    Ok(versions)
}

/// The page of object `object_id` of collection `id` that a request to
/// `endpoint` (`what`: its name in the cursor's scope) asks for.
async fn object_page(
    taxii: &Arc<Taxii>,
    caller: &Principal,
    (id, object_id): (String, String),
    uri: &Uri,
    endpoint: Endpoint,
    what: &str,
) -> Result<(Collection, Cut), TaxiiError> {
    let mut query = parse(uri, endpoint)?;
    if endpoint == Endpoint::Versions {
        // `versions/` lists every version (it takes no `match[version]`).
        query.versions = vec![VersionMatch::All];
    }
    let (collection, view) = readable(taxii, caller, id).await?;
    let entries = the_object(&view, &object_id)?;
    let page = cut(taxii, caller, &query, &format!("{}/{what}/{object_id}", collection.uuid), &entries)?;
    Ok((collection, page))
}

/// `GET …/objects/{object_id}/`.
pub(crate) async fn object(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(ids): Path<(String, String)>,
    uri: Uri,
) -> Answer {
    let (collection, page) = object_page(&taxii, &caller, ids, &uri, Endpoint::Object, "objects").await?;
    let objects = stix_objects(&taxii, &caller, collection, &page.entries).await?;
    let envelope = Envelope { more: page.next.is_some(), next: page.next, objects };
    Ok(taxii_json(StatusCode::OK, &envelope, page.dates))
}

/// `GET …/objects/{object_id}/versions/`: every version of the object
/// the caller may see (see [`super::views`]), oldest first.
pub(crate) async fn versions(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(ids): Path<(String, String)>,
    uri: Uri,
) -> Answer {
    let (_, page) = object_page(&taxii, &caller, ids, &uri, Endpoint::Versions, "versions").await?;
    let versions = Versions {
        more: page.next.is_some(),
        next: page.next,
        versions: page.entries.iter().map(|e| e.version.to_string()).collect(),
    };
    Ok(taxii_json(StatusCode::OK, &versions, page.dates))
}

/// `DELETE …/objects/{object_id}/`: deletes the sightings behind the
/// object that the caller's organisation submitted (the hub: all that the
/// collection selects): an indicator's, its observable's and its
/// `based-on` relationship's are the indicator's sightings, an `indicates`
/// relationship's those of the indicator naming the family. The
/// identity, the marking definitions and a malware family (built from
/// many indicators' sightings) cannot be deleted.
///
/// `match[version]` (default: every version, as TAXII has it for a
/// deletion) chooses among the versions the caller sees: only the
/// sightings that made the chosen ones (entered, or were last written,
/// at their dates) are deleted; choosing none answers 404.
pub(crate) async fn delete_object(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path((id, object_id)): Path<(String, String)>,
    uri: Uri,
) -> Answer {
    let mut query = parse(&uri, Endpoint::DeleteObject)?;
    if query.versions.is_empty() {
        query.versions = vec![VersionMatch::All];
    }
    let (collection, access) = collection(&taxii, &caller, id).await?;
    if !access.write {
        return Err(TaxiiError::new(StatusCode::FORBIDDEN, "the caller may not delete objects of this collection"));
    }
    let (app_taxii, viewer, of) = (taxii.clone(), caller.viewer, collection.clone());
    let view = blocking(move || app_taxii.views.get(&app_taxii.state.app, viewer, &of)).await?;
    let versions = the_object(&view, &object_id)?;
    let chosen: Vec<i64> = versions
        .iter()
        .filter(|e| query.matches_spec_version(SPEC_VERSION) && query.matches_version(e.version, e.first, e.last))
        .map(|e| e.version.0)
        .collect();
    if chosen.is_empty() {
        return Err(TaxiiError::new(StatusCode::NOT_FOUND, "the object has no version that the filters choose"));
    }
    let versions_chosen = (chosen.len() < versions.len()).then_some(chosen);
    let (indicator, family) = match versions.into_iter().next().map(|e| e.source) {
        None => return Err(TaxiiError::new(StatusCode::NOT_FOUND, "there is no such object in this collection")),
        Some(source) => match source {
            Source::Indicator(id) | Source::Observable(id) | Source::BasedOn(id) => (id, None),
            Source::Indicates(id, family) => (id, Some(family)),
            Source::Fixed(_) => {
                return Err(TaxiiError::new(
                    StatusCode::FORBIDDEN,
                    "the identity, the marking definitions and malware families cannot be deleted",
                ))
            }
        },
    };
    let deleted = blocking(move || {
        let app = &taxii.state.app;
        app.delete_from_collection(&viewer, &collection, indicator, family.as_deref(), versions_chosen.as_deref())
    })
    .await?;
    if deleted == 0 {
        return Err(TaxiiError::new(
            StatusCode::NOT_FOUND,
            "the caller's organisation submitted nothing behind this object",
        ));
    }
    Ok(empty(StatusCode::OK))
}

/// Why a POSTed body is no envelope of STIX objects (422), or the ids and
/// versions of its objects.
fn envelope_objects(body: &[u8]) -> Result<Vec<(String, String)>, TaxiiError> {
    let unprocessable = |why: String| TaxiiError::new(StatusCode::UNPROCESSABLE_ENTITY, why);
    let document: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| TaxiiError::new(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")))?;
    let objects = document
        .get("objects")
        .and_then(|o| o.as_array())
        .ok_or_else(|| unprocessable("the body is not a TAXII envelope: it has no \"objects\" list".into()))?;
    let mut out = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        let at = index + 1;
        let field = |name: &str| object.get(name).and_then(|v| v.as_str());
        let object_type = field("type").ok_or_else(|| unprocessable(format!("object {at} has no \"type\"")))?;
        let id = field("id").ok_or_else(|| unprocessable(format!("object {at} has no \"id\"")))?;
        let well_formed = id.split_once("--").is_some_and(|(t, uuid)| t == object_type && uuid.len() == 36);
        if !well_formed {
            return Err(unprocessable(format!(
                "object {at}: \"{}\" is not an id of a {object_type}",
                id.escape_debug()
            )));
        }
        if field("spec_version").is_some_and(|v| v != SPEC_VERSION) {
            return Err(unprocessable(format!("object {at}: only STIX {SPEC_VERSION} objects are taken")));
        }
        let version = field("modified").or_else(|| field("created")).unwrap_or("");
        out.push((id.to_string(), version.to_string()));
    }
    Ok(out)
}

/// `POST …/objects/`: an import as the caller's organisation, answered 202
/// with its (complete) status: an object the import rejected is a failure
/// saying why, every other a success.
pub(crate) async fn add_objects(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Answer {
    let body = body.map_err(|e| TaxiiError::new(e.status(), e.body_text()))?;
    let requested = Micros(cordon_app::now().saturating_mul(1_000_000));
    let (collection, access) = collection(&taxii, &caller, id).await?;
    if !access.write {
        return Err(TaxiiError::new(StatusCode::FORBIDDEN, "the caller may not add objects to this collection"));
    }
    let objects = envelope_objects(&body)?;
    let (app_taxii, viewer, into) = (taxii.clone(), caller.viewer, collection.clone());
    let report = match blocking(move || app_taxii.state.app.post_to_collection(&viewer, &into, &body)).await {
        Err(failed) if failed.status == StatusCode::BAD_REQUEST => {
            return Err(TaxiiError::new(StatusCode::UNPROCESSABLE_ENTITY, "the objects could not be read as STIX 2.1"))
        }
        other => other?,
    };
    let mut reasons: HashMap<u64, String> = HashMap::new();
    for rejection in &report.errors {
        reasons.entry(rejection.line).or_insert_with(|| rejection.reason.clone());
    }
    let (mut successes, mut failures) = (Vec::new(), Vec::new());
    for (index, (object_id, version)) in objects.into_iter().enumerate() {
        let version = if version.is_empty() { requested.to_string() } else { version };
        match reasons.remove(&(index as u64 + 1)) {
            Some(reason) => failures.push(StatusDetail { id: object_id, version, message: Some(reason) }),
            None => successes.push(StatusDetail { id: object_id, version, message: None }),
        }
    }
    let status = Status::new(uuid::Uuid::new_v4().to_string(), requested, successes, failures, Vec::new());
    let body = serde_json::to_string(&status).unwrap_or_default();
    let (status_id, viewer) = (status.id.clone(), caller.viewer);
    blocking(move || taxii.state.app.put_status(&viewer, &collection, &status_id, &body)).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &status, None))
}

/// `GET …/status/{status_id}/`: the caller's organisation's own only.
pub(crate) async fn status(
    State(taxii): Shared,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
) -> Answer {
    let viewer = caller.viewer;
    let body = blocking(move || taxii.state.app.status(&viewer, &id)).await?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
    Ok(response)
}
