//! The administration routes (`/api/v1/admin/…`, admins only by the route
//! table): organisations, users, tokens, sources' consents, the allowlist,
//! contacts, and the status of the geo snapshot and the warninglists. Each
//! calls the application function the matching `cordon` command calls, as
//! the caller's viewer (the application refuses anyone but the hub again).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cordon_app::access::{Principal, Role, TokenRequest};
use cordon_app::admin::{AllowView, ConsentView, ContactEntryView, DataStatus, TokenView, UserView};
use cordon_app::view::OrgView;
use cordon_model::{Consent, OrgKind};
use cordon_store::orgs::NewOrganisation;
use serde::{Deserialize, Serialize};

use crate::handlers::{blocking, parsed};
use crate::problem::Problem;

/// A JSON body, or the problem of why it is none.
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    body.map(|Json(value)| value).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))
}

/// `GET /api/v1/admin/organisations`.
pub(crate) async fn organisations(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<OrgView>>, Problem> {
    let orgs = blocking(move || state.app.orgs(&caller.viewer)).await?;
    Ok(Json(orgs.iter().map(OrgView::from).collect()))
}

/// The body of `POST /api/v1/admin/organisations` (`cordon org add`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewOrgRequest {
    name: String,
    kind: String,
    country: Option<String>,
    #[serde(default)]
    asns: Vec<u32>,
}

/// `POST /api/v1/admin/organisations`: 201 with the organisation.
pub(crate) async fn add_organisation(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    body: Result<Json<NewOrgRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<OrgView>), Problem> {
    let request = json_body(body)?;
    let kind = parsed::<OrgKind>("kind", &Some(request.kind))?.unwrap_or(OrgKind::Defender);
    let new = NewOrganisation { name: request.name, kind, country: request.country, asns: request.asns };
    let org = blocking(move || state.app.add_org(&caller.viewer, &new)).await?;
    Ok((StatusCode::CREATED, Json(OrgView::from(&org))))
}

/// `GET /api/v1/admin/users`.
pub(crate) async fn users(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<UserView>>, Problem> {
    let users = blocking(move || state.app.users(&caller.viewer)).await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// The body of `POST /api/v1/admin/users` (`cordon user add`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    email: String,
    org: String,
    role: String,
    password: Option<String>,
}

/// `POST /api/v1/admin/users`: 201 with the user.
pub(crate) async fn add_user(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    body: Result<Json<NewUserRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), Problem> {
    let request = json_body(body)?;
    let role = parsed::<Role>("role", &Some(request.role))?.unwrap_or(Role::Reader);
    let user = blocking(move || {
        state.app.add_user(&caller.viewer, &request.email, &request.org, role, request.password.as_deref())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// `POST /api/v1/admin/users/{email}/disable`: nothing the user holds
/// authenticates any more (within the server's 250 ms of trust).
pub(crate) async fn disable_user(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(email): Path<String>,
) -> Result<StatusCode, Problem> {
    blocking(move || state.app.disable_user(&caller.viewer, &email)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/tokens`: never the secrets.
pub(crate) async fn tokens(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<TokenView>>, Problem> {
    let tokens = blocking(move || state.app.tokens(&caller.viewer)).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// The body of `POST /api/v1/admin/tokens` (`cordon token create`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTokenRequest {
    user: String,
    /// Seconds until it expires (none: never).
    expires_in: Option<i64>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    allow_ips: Vec<String>,
}

/// `POST /api/v1/admin/tokens`: 201 with the token, whose secret is in
/// this answer and nowhere else.
pub(crate) async fn create_token(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    body: Result<Json<NewTokenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    let request = json_body(body)?;
    if request.expires_in.is_some_and(|s| s <= 0) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "expires_in: a positive number of seconds"));
    }
    let allow_ips = request
        .allow_ips
        .iter()
        .map(|raw| {
            raw.trim()
                .parse::<ipnet::IpNet>()
                .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("allow_ips: '{}': {e}", raw.escape_debug())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let token =
        TokenRequest { user: request.user, expires_in: request.expires_in, read_only: request.read_only, allow_ips };
    let created = blocking(move || state.app.create_token(&caller.viewer, &token)).await?;
    Ok((StatusCode::CREATED, Json(TokenView::from(&created))))
}

/// `DELETE /api/v1/admin/tokens/{id}`: revokes it.
pub(crate) async fn revoke_token(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id: i64 = id.parse().map_err(|_| Problem::new(StatusCode::NOT_FOUND, "there is no such token"))?;
    blocking(move || state.app.revoke_token(&caller.viewer, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/sources`: every source, its organisation and
/// consent.
pub(crate) async fn sources(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<ConsentView>>, Problem> {
    let owners = blocking(move || state.app.source_owners(&caller.viewer)).await?;
    Ok(Json(owners.iter().map(ConsentView::from).collect()))
}

/// `GET /api/v1/admin/sources/{name}/consent`.
pub(crate) async fn consent(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<ConsentView>, Problem> {
    let owner = blocking(move || state.app.source_consent(&caller.viewer, &name)).await?;
    Ok(Json(ConsentView::from(&owner)))
}

/// The body of `PUT /api/v1/admin/sources/{name}/consent`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsentRequest {
    /// `agencies`, `providers`, both or none.
    amber_to: Vec<String>,
}

/// `PUT /api/v1/admin/sources/{name}/consent` (`cordon source consent`):
/// where the source's AMBER sightings may go from now on.
pub(crate) async fn set_consent(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
    body: Result<Json<ConsentRequest>, JsonRejection>,
) -> Result<Json<ConsentView>, Problem> {
    let request = json_body(body)?;
    let mut consent = Consent::default();
    for class in &request.amber_to {
        match class.trim().to_ascii_lowercase().as_str() {
            "agencies" => consent.agencies = true,
            "providers" => consent.providers = true,
            "none" => {}
            _ => {
                let detail = format!("amber_to: '{}' is not agencies, providers or none", class.escape_debug());
                return Err(Problem::new(StatusCode::BAD_REQUEST, detail));
            }
        }
    }
    let owner = blocking(move || {
        state.app.set_consent(&caller.viewer, &name, consent)?;
        state.app.source_consent(&caller.viewer, &name)
    })
    .await?;
    Ok(Json(ConsentView::from(&owner)))
}

/// `GET /api/v1/admin/allowlist`.
pub(crate) async fn allowlist(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<AllowView>>, Problem> {
    let entries = blocking(move || state.app.allowlist(&caller.viewer)).await?;
    Ok(Json(entries.iter().map(AllowView::from).collect()))
}

/// The body of `POST /api/v1/admin/allowlist` (`cordon allow add`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AllowRequest {
    value: String,
    #[serde(default)]
    reason: String,
}

/// What an allowlist change names: the canonical value.
#[derive(Serialize)]
pub(crate) struct Allowed {
    value: String,
}

/// `POST /api/v1/admin/allowlist`: 201 with the canonical value.
pub(crate) async fn allow(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    body: Result<Json<AllowRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Allowed>), Problem> {
    let request = json_body(body)?;
    let value = blocking(move || state.app.allow_add(&caller.viewer, &request.value, &request.reason)).await?;
    Ok((StatusCode::CREATED, Json(Allowed { value })))
}

/// `DELETE /api/v1/admin/allowlist/{value}` (`cordon allow remove`).
pub(crate) async fn disallow(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    Path(value): Path<String>,
) -> Result<StatusCode, Problem> {
    blocking(move || state.app.allow_remove(&caller.viewer, &value)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/contacts`.
pub(crate) async fn contacts(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<ContactEntryView>>, Problem> {
    let book = blocking(move || state.app.contacts(&caller.viewer)).await?;
    Ok(Json(book.contacts().map(ContactEntryView::from).collect()))
}

/// What replacing the contacts did (`cordon contacts import --json`).
#[derive(Serialize)]
pub(crate) struct ContactsAnswer {
    contacts: usize,
    /// Rows with problems, as `contacts.csv:line: reason`.
    errors: Vec<String>,
}

/// `PUT /api/v1/admin/contacts`: the body is a contacts table
/// (`kind,key,name,email[,pgp][,language]`) that replaces the stored one.
pub(crate) async fn set_contacts(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<Json<ContactsAnswer>, Problem> {
    let text = body.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let imported = blocking(move || state.app.import_contacts(&caller.viewer, "contacts.csv", &text)).await?;
    Ok(Json(ContactsAnswer { contacts: imported.contacts, errors: imported.problems }))
}

/// `GET /api/v1/admin/status`: the geo snapshot and the warninglists.
pub(crate) async fn status(
    State(state): State<crate::State>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<DataStatus>, Problem> {
    Ok(Json(blocking(move || state.app.data_status(&caller.viewer)).await?))
}
