//! The pages: each parses its query or form, calls the application layer as
//! the signed-in organisation's viewer (on the blocking pool) and renders.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use cordon_app::access::Role;
use cordon_app::operations::{cursor_text, parse_cursor, TargetSelection};
use cordon_app::query::LookupAnswer;
use cordon_app::view::{FileReportView, ImportView, IndicatorView, TargetView};
use cordon_app::AppError;
use cordon_model::{Category, Kind, Tlp};
use cordon_ops::lifecycle::RejectReason;
use cordon_ops::report::thousands;
use cordon_store::ops::{TargetCursor, TargetOrder, TargetPage as PageOfTargets, TargetState};
use cordon_store::IndicatorFilter;
use serde::Deserialize;

use crate::render::{self, Cell, Field, FormSpec, Nav, TablePage};
use crate::{Shared, Signed};

/// Rows on one page of a long list.
pub(crate) const PAGE_SIZE: usize = 100;

/// Runs `work` on the blocking pool; an error becomes its page: what does
/// not exist and what the caller may not know exist are the same 404.
async fn call<T: Send + 'static>(
    signed: &Signed,
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, Response> {
    let answer = tokio::task::spawn_blocking(work).await;
    let error = match answer {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(e)) => e,
        Err(_) => AppError::Storage("the task failed".into()),
    };
    Err(match error {
        AppError::NotFound(_) | AppError::Forbidden(_) => {
            render::error(StatusCode::NOT_FOUND, Some(signed), "There is no such page.")
        }
        AppError::Invalid(m) => render::error(StatusCode::BAD_REQUEST, Some(signed), &m),
        AppError::Conflict(m) => render::error(StatusCode::CONFLICT, Some(signed), &m),
        AppError::Busy(_) => {
            render::error(StatusCode::SERVICE_UNAVAILABLE, Some(signed), "The store is busy: try again in a moment.")
        }
        _ => render::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(signed),
            "The page could not be made; the server's log says why.",
        ),
    })
}

fn ok(template: &impl Template) -> Response {
    render::page(StatusCode::OK, template)
}

fn is_hub(signed: &Signed) -> bool {
    matches!(signed.principal.role, Role::Admin | Role::Analyst)
}

/// Any path of the table without a handler.
pub(crate) async fn not_found(Extension(signed): Extension<Signed>) -> Response {
    render::error(StatusCode::NOT_FOUND, Some(&signed), "There is no such page.")
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Option<Nav>,
    name: String,
    operations: Vec<String>,
    report: String,
    map: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Option<Nav>,
    heading: String,
    intro: Vec<String>,
    operations: Vec<OperationRow>,
    contribution: Vec<[String; 5]>,
    lookup: bool,
}

struct OperationRow {
    name: String,
    window: String,
    links: Vec<(String, &'static str)>,
}

/// `GET /`: the hub's overview of its newest operation; an agency's
/// operations; a partner's reports and what became of them; a reader's
/// lookup.
pub(crate) async fn home(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    if is_hub(&signed) {
        let app = web.app.clone();
        let viewer = signed.principal.viewer;
        let newest = match call(&signed, move || app.operations(&viewer)).await {
            Ok(operations) => operations.into_iter().max_by_key(|o| (o.created, o.id)),
            Err(answer) => return answer,
        };
        return match newest {
            Some(op) => overview_of(&web, &signed, op.name).await,
            None => {
                let mut page = TablePage::new(&signed, "No operation yet");
                page.intro.push(
                    "Start one with `cordon operation create`, or load the demo with `cordon demo --serve`.".into(),
                );
                ok(&page)
            }
        };
    }
    let app = web.app.clone();
    let principal = signed.principal.clone();
    let gathered = call(&signed, move || {
        let operations = match principal.role {
            Role::Agency => app.operations(&principal.viewer)?,
            _ => Vec::new(),
        };
        let contribution = match principal.role {
            Role::Submitter => app.contribution(&principal.viewer)?,
            _ => Vec::new(),
        };
        Ok((operations, contribution))
    })
    .await;
    let (operations, contribution) = match gathered {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let heading = format!("{} · {}", signed.principal.org, signed.principal.role);
    let intro = match signed.principal.role {
        Role::Agency => vec![
            "Your country's targets and package for each operation: record takedowns, rejections and outcomes there."
                .to_string(),
        ],
        Role::Submitter => {
            vec!["Submit feeds, see your submissions and their rejected lines, and what became of your reports."
                .to_string()]
        }
        _ => vec!["Look addresses up and download blocklists of what your organisation may see.".to_string()],
    };
    let operations = operations
        .iter()
        .map(|o| OperationRow {
            name: o.name.clone(),
            window: format!("{} – {}", date(o.start), date(o.end)),
            links: vec![
                (format!("/operations/{}/targets", o.name), "targets"),
                (format!("/operations/{}/packages", o.name), "package and outcomes"),
            ],
        })
        .collect();
    let contribution = contribution
        .iter()
        .map(|c| {
            [
                c.operation.clone(),
                c.row.partner.clone(),
                thousands(c.row.reported),
                thousands(c.row.confirmed),
                thousands(c.row.false_positives),
            ]
        })
        .collect();
    let page = HomePage {
        nav: Some(Nav::of(&signed)),
        heading,
        intro,
        operations,
        contribution,
        lookup: matches!(signed.principal.role, Role::Reader | Role::Agency),
    };
    ok(&page)
}

fn date(ts: i64) -> String {
    cordon_model::format_timestamp(ts).chars().take(10).collect()
}

/// `GET /operations/{name}`: the overview (the hub's).
pub(crate) async fn overview(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
) -> Response {
    overview_of(&web, &signed, name).await
}

async fn overview_of(web: &Shared, signed: &Signed, name: String) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let found = call(signed, move || {
        let operation = app.operation(&name)?;
        let report = app.report(&viewer, &operation)?;
        let names = app.operations(&viewer)?.into_iter().map(|o| o.name).collect::<Vec<_>>();
        Ok((report, names))
    })
    .await;
    let (report, operations) = match found {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let page = OverviewPage {
        nav: Some(Nav::of(signed)),
        name: report.operation.clone(),
        operations,
        map: crate::map::world(&report.by_country),
        report: cordon_ops::report::html_body(&report),
    };
    ok(&page)
}

/// The filters, order and page of the targets table.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TargetQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    /// The position the page starts after (`cordon_app::operations::cursor_text`).
    #[serde(default)]
    after: String,
    /// The position the page ends before (the previous page).
    #[serde(default)]
    before: String,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    nav: Option<Nav>,
    csrf: String,
    name: String,
    summary: String,
    message: Option<String>,
    states: Vec<(&'static str, bool)>,
    filter_country: String,
    filter_category: String,
    filter_q: String,
    sorts: Vec<(&'static str, bool)>,
    rows: Vec<TargetRow>,
    moves: Vec<&'static str>,
    reasons: Vec<&'static str>,
    page_text: String,
    pager: Vec<(String, String)>,
}

/// A target as a row or a page shows it.
pub(crate) struct TargetRow {
    id: i64,
    key: String,
    kind: &'static str,
    state: &'static str,
    country: String,
    asn: String,
    provider: String,
    hosting: String,
    categories: String,
    malware: String,
    partners: String,
    first_seen: String,
    last_seen: String,
}

impl From<&TargetView> for TargetRow {
    fn from(t: &TargetView) -> TargetRow {
        TargetRow {
            id: t.id,
            key: t.key.clone(),
            kind: t.kind,
            state: t.state,
            country: t.country.clone().unwrap_or_default(),
            asn: t.asn.map(|a| format!("AS{a}")).unwrap_or_default(),
            provider: t.as_org.clone().unwrap_or_default(),
            hosting: t.hosting.clone().unwrap_or_default(),
            categories: t.categories.join(", "),
            malware: t.malware.join(", "),
            partners: t.partners.join(", "),
            first_seen: t.first_seen.clone(),
            last_seen: t.last_seen.clone(),
        }
    }
}

/// The states a role may move targets to: an agency reports takedowns and
/// rejections; the hub moves them anywhere the lifecycle allows.
fn moves_for(signed: &Signed) -> Vec<&'static str> {
    if is_hub(signed) {
        TargetState::ALL.iter().map(|s| s.as_str()).collect()
    } else {
        vec![TargetState::TakenDown.as_str(), TargetState::Rejected.as_str()]
    }
}

fn parse_opt<T: std::str::FromStr>(what: &str, raw: &str) -> Result<Option<T>, AppError>
where
    T::Err: std::fmt::Display,
{
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|e| AppError::Invalid(format!("{what}: {e}")))
}

/// `GET /operations/{name}/targets`: filtered, sorted, a page at a time
/// (keyset paging through `App::target_page`: a page costs the same
/// wherever it is in 30,000 targets).
pub(crate) async fn targets(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
    query: Result<Query<TargetQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let (op, state, country, category) = (name.clone(), q.state.clone(), q.country.clone(), q.category.clone());
    let order = TargetOrder::from_name(&q.sort).unwrap_or_default();
    let needle = Some(q.q.trim().to_string()).filter(|n| !n.is_empty());
    let (after, before) = (q.after.clone(), q.before.clone());
    let listed = call(&signed, move || {
        let selection = TargetSelection {
            operation: Some(op),
            country: Some(country.trim().to_string()).filter(|c| !c.is_empty()),
            state: parse_opt::<TargetState>("state", &state)?,
            category: parse_opt::<Category>("category", &category)?,
            key_contains: needle,
            ..TargetSelection::default()
        };
        let backward = after.is_empty() && !before.is_empty();
        let position = if backward { before } else { after };
        let after = Some(position).filter(|p| !p.is_empty()).map(|p| parse_cursor(order, &p)).transpose()?;
        app.target_page(&viewer, &selection, &PageOfTargets { order, after, backward, limit: PAGE_SIZE })
    })
    .await;
    let listed = match listed {
        Ok(listed) => listed,
        Err(answer) => return answer,
    };
    let rows: Vec<TargetRow> = listed.targets.iter().map(TargetRow::from).collect();
    let link = |direction: &str, cursor: &TargetCursor| {
        let filters = [("state", &q.state), ("country", &q.country), ("category", &q.category), ("q", &q.q)];
        let query = filters
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .chain([format!("sort={}", order.as_str()), format!("{direction}={}", encode(&cursor_text(cursor)))])
            .collect::<Vec<_>>()
            .join("&");
        format!("/operations/{}/targets?{query}", encode(&name))
    };
    let mut pager = Vec::new();
    if let (true, Some(first)) = (listed.more_before, &listed.first) {
        pager.push((link("before", first), "Previous page".to_string()));
    }
    if let (true, Some(last)) = (listed.more_after, &listed.last) {
        pager.push((link("after", last), "Next page".to_string()));
    }
    let summary = match listed.total {
        Some(total) => format!("{} targets match.", thousands(total)),
        None => "Your country's targets that match, built from what may go to your agency.".to_string(),
    };
    let page = TargetsPage {
        nav: Some(Nav::of(&signed)),
        csrf: signed.csrf.clone(),
        summary,
        name,
        message: q.message,
        states: TargetState::ALL.iter().map(|s| (s.as_str(), s.as_str() == q.state)).collect(),
        filter_country: q.country.clone(),
        filter_category: q.category.clone(),
        filter_q: q.q.clone(),
        sorts: TargetOrder::ALL.iter().map(|o| (o.as_str(), *o == order)).collect(),
        rows,
        moves: moves_for(&signed),
        reasons: RejectReason::ALL.iter().map(|r| r.as_str()).collect(),
        page_text: format!("{} on this page.", thousands(listed.targets.len() as u64)),
        pager,
    };
    ok(&page)
}

/// Percent-encodes a query value or a path segment: every byte but
/// ASCII letters, digits and `-_.~` as `%XX`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The fields of a move (one target or many).
fn move_fields(form: &[(String, String)]) -> (Vec<String>, String, String, String) {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let ids = form.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.clone()).collect();
    (ids, get("to"), get("reason"), get("note"))
}

/// `POST /operations/{name}/targets`: moves the selected targets with one
/// note, all or none, then back to the table.
pub(crate) async fn move_targets(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (ids, to, reason, note) = move_fields(&form);
    let app = web.app.clone();
    let principal = signed.principal.clone();
    let op = name.clone();
    let moved = call(&signed, move || {
        let ids = ids
            .iter()
            .map(|id| id.parse::<i64>().map_err(|_| AppError::Invalid(format!("'{id}' is not a target id"))))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(AppError::Invalid("select at least one target".into()));
        }
        let to = parse_opt::<TargetState>("to", &to)?.ok_or_else(|| AppError::Invalid("to: choose a state".into()))?;
        let reason = parse_opt::<RejectReason>("reason", &reason)?;
        let actor = cordon_ops::workflow::Actor::new(&principal.user, cordon_app::now(), &note);
        app.transition_many(&principal.viewer, &op, &ids, to, reason, &actor)
    })
    .await;
    let bulk = match moved {
        Ok(bulk) => bulk,
        Err(answer) => return answer,
    };
    let message = if bulk.applied {
        format!("Moved {} targets.", thousands(bulk.results.len() as u64))
    } else {
        let refused: Vec<String> = bulk
            .results
            .iter()
            .filter(|r| r.outcome != "movable" && r.outcome != "moved")
            .map(|r| format!("#{} {}", r.id, r.detail.clone().unwrap_or_else(|| r.outcome.to_string())))
            .collect();
        format!("Nothing was moved: {}", refused.join("; "))
    };
    Redirect::to(&format!("/operations/{}/targets?message={}", encode(&name), encode(&message))).into_response()
}

#[derive(Template)]
#[template(path = "target.html")]
struct TargetPage {
    nav: Option<Nav>,
    csrf: String,
    message: Option<String>,
    t: TargetRow,
    moves: Vec<&'static str>,
    reasons: Vec<&'static str>,
    evidence: Vec<EvidenceRow>,
    history: Vec<[String; 6]>,
    checks: Vec<[String; 3]>,
}

struct EvidenceRow {
    value: String,
    source: String,
    category: String,
    tlp: String,
    seen: String,
}

/// A target's page message.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MessageQuery {
    message: Option<String>,
}

/// `GET /targets/{id}`: members with their evidence (each sighting the
/// viewer may see, with source and TLP), history and checks.
pub(crate) async fn target(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(id): Path<String>,
    query: Result<Query<MessageQuery>, QueryRejection>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return render::error(StatusCode::NOT_FOUND, Some(&signed), "There is no such page.");
    };
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let found = call(&signed, move || {
        let detail = app.target(&viewer, id)?;
        let mut evidence = Vec::new();
        for member in &detail.members {
            // The member as the viewer may see it: its visible sightings.
            let Ok(indicator) = app.indicator(member, &IndicatorFilter::new(viewer)) else {
                continue;
            };
            let sightings = cordon_app::view::IndicatorDetailView::from(&indicator).sightings;
            for s in sightings {
                evidence.push(EvidenceRow {
                    value: member.clone(),
                    source: s.source,
                    category: s.category.to_string(),
                    tlp: s.tlp.to_string(),
                    seen: format!("{} – {}", s.first_seen, s.last_seen),
                });
            }
        }
        Ok((detail, evidence))
    })
    .await;
    let (detail, evidence) = match found {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let page = TargetPage {
        nav: Some(Nav::of(&signed)),
        csrf: signed.csrf.clone(),
        message: query.ok().and_then(|Query(q)| q.message),
        t: TargetRow::from(&detail.target),
        moves: moves_for(&signed),
        reasons: RejectReason::ALL.iter().map(|r| r.as_str()).collect(),
        evidence,
        history: detail
            .history
            .iter()
            .map(|h| {
                [
                    h.time.clone(),
                    h.from.unwrap_or("").to_string(),
                    h.to.to_string(),
                    h.actor.clone(),
                    h.reason.clone().unwrap_or_default(),
                    h.note.clone(),
                ]
            })
            .collect(),
        checks: detail
            .checks
            .iter()
            .map(|c| [c.time.clone(), if c.up { "yes" } else { "no" }.to_string(), c.detail.clone()])
            .collect(),
    };
    ok(&page)
}

/// `POST /targets/{id}`: one move with a note.
pub(crate) async fn move_target(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return render::error(StatusCode::NOT_FOUND, Some(&signed), "There is no such page.");
    };
    let (_, to, reason, note) = move_fields(&form);
    let app = web.app.clone();
    let principal = signed.principal.clone();
    let moved = call(&signed, move || {
        let to = parse_opt::<TargetState>("to", &to)?.ok_or_else(|| AppError::Invalid("to: choose a state".into()))?;
        let reason = parse_opt::<RejectReason>("reason", &reason)?;
        let target = app.target_for_move(&principal.viewer, id)?;
        let actor = cordon_ops::workflow::Actor::new(&principal.user, cordon_app::now(), &note);
        let moved = app.transition(&principal.viewer, &[target], to, reason, &actor)?;
        Ok(moved.refused.first().map(|(_, refusal)| refusal.to_string()))
    })
    .await;
    let message = match moved {
        Ok(None) => "Moved.".to_string(),
        Ok(Some(refusal)) => format!("Not moved: {refusal}"),
        Err(answer) => return answer,
    };
    Redirect::to(&format!("/targets/{id}?message={}", encode(&message))).into_response()
}

/// `GET /operations/{name}/packages`: the packages the viewer may fetch,
/// and the outcome form.
pub(crate) async fn packages(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
    query: Result<Query<MessageQuery>, QueryRejection>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let op = name.clone();
    let packages = match call(&signed, move || app.packages(&viewer, &op)).await {
        Ok(packages) => packages,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, format!("Packages of {name}"));
    page.message = query.ok().and_then(|Query(q)| q.message);
    page.headers = vec!["Country", "Written", "Targets", "Files"];
    page.empty = "No package has been written for you yet.";
    for p in &packages {
        let files = p.files.join(", ");
        page.rows.push(vec![
            Cell::text(&p.country),
            Cell::text(&p.created),
            Cell::number(p.targets),
            Cell::text(files),
        ]);
        for file in &p.files {
            page.rows.push(vec![
                Cell::text(""),
                Cell::text(""),
                Cell::text(""),
                Cell::link(
                    format!("download {file}"),
                    format!("/operations/{}/packages/{}/{file}", encode(&name), encode(&p.country)),
                ),
            ]);
        }
    }
    let mut country = Field::input("country", "Country", "text");
    if let Some(p) = packages.first().filter(|_| !is_hub(&signed)) {
        country.value = p.country.clone();
    }
    page.forms.push(FormSpec {
        id: "outcome",
        method: "post",
        action: format!("/operations/{}/outcomes", encode(&name)),
        fields: vec![
            country,
            Field::select("kind", "Outcome", cordon_ops::report::OUTCOME_KINDS.iter().map(|k| k.to_string()).collect()),
            Field::input("count", "Count", "number"),
            Field { required: false, ..Field::input("note", "Note", "text") },
        ],
        submit: "Record outcome",
    });
    ok(&page)
}

/// `GET /operations/{name}/packages/{country}/{file}`: one file, checked
/// against the package's manifest by the application.
pub(crate) async fn package_file(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path((name, country, file)): Path<(String, String, String)>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let file_name = file.clone();
    match call(&signed, move || app.package_file(&viewer, &name, &country, &file)).await {
        Ok(checked) => attachment(&file_name, checked),
        Err(answer) => answer,
    }
}

fn attachment(name: &str, checked: cordon_app::deliveries::PackageFile) -> Response {
    let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
            (header::CONTENT_LENGTH, checked.len().to_string()),
        ],
        crate::download::streamed(checked),
    )
        .into_response()
}

/// The outcome form.
#[derive(Deserialize)]
pub(crate) struct OutcomeForm {
    #[serde(default)]
    country: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    count: String,
    #[serde(default)]
    note: String,
}

/// `POST /operations/{name}/outcomes`: an arrest, a seizure… (an agency:
/// its own country).
pub(crate) async fn add_outcome(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(name): Path<String>,
    Form(form): Form<OutcomeForm>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let op = name.clone();
    let recorded = call(&signed, move || {
        let kind = form.kind.trim().to_ascii_lowercase();
        if !cordon_ops::report::OUTCOME_KINDS.contains(&kind.as_str()) {
            return Err(AppError::Invalid(format!(
                "outcome: expected one of {}",
                cordon_ops::report::OUTCOME_KINDS.join(", ")
            )));
        }
        let count = form.count.trim().parse::<u64>().map_err(|_| AppError::Invalid("count: a whole number".into()))?;
        let operation = app.operation(&op)?;
        let outcome = cordon_store::ops::Outcome {
            operation_id: operation.id,
            country: form.country,
            kind,
            count,
            date: cordon_app::now(),
            note: form.note,
        };
        app.add_outcome(&viewer, &outcome)
    })
    .await;
    match recorded {
        Ok(()) => {
            Redirect::to(&format!("/operations/{}/packages?message=Outcome+recorded.", encode(&name))).into_response()
        }
        Err(answer) => answer,
    }
}

/// The indicator search.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IndicatorQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    after: String,
}

/// `GET /indicators`: what the organisation may see, a page at a time by
/// value (keyset paging, as the API).
pub(crate) async fn indicators(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    query: Result<Query<IndicatorQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let (kind, category, after) = (q.kind.clone(), q.category.clone(), q.after.clone());
    let items = call(&signed, move || {
        let filter = IndicatorFilter {
            kind: parse_opt::<Kind>("kind", &kind)?,
            category: parse_opt::<Category>("category", &category)?,
            after: Some(after).filter(|a| !a.is_empty()),
            limit: Some(PAGE_SIZE as u64 + 1),
            ..IndicatorFilter::new(viewer)
        };
        let mut items = Vec::new();
        app.indicators(&filter, &mut |i| items.push(IndicatorView::from(&i)))?;
        Ok(items)
    })
    .await;
    let mut items = match items {
        Ok(items) => items,
        Err(answer) => return answer,
    };
    let more = items.len() > PAGE_SIZE;
    items.truncate(PAGE_SIZE);
    let mut page = TablePage::new(&signed, "Indicators");
    page.intro
        .push("Every indicator your organisation may see, with the most restrictive TLP among its sightings.".into());
    page.forms.push(FormSpec {
        id: "search",
        method: "get",
        action: "/indicators".into(),
        fields: vec![
            Field::select(
                "kind",
                "Kind",
                std::iter::once(String::new()).chain(Kind::ALL.iter().map(|k| k.as_str().to_string())).collect(),
            ),
            Field::select(
                "category",
                "Category",
                std::iter::once(String::new()).chain(Category::ALL.iter().map(|c| c.as_str().to_string())).collect(),
            ),
        ],
        submit: "Search",
    });
    page.headers =
        vec!["Indicator", "Kind", "Categories", "Sources", "TLP", "Confidence", "Country", "AS", "Last seen"];
    page.empty = "No indicator matches.";
    for i in &items {
        page.rows.push(vec![
            Cell::link(&i.value, format!("/lookup?q={}", encode(&i.value))),
            Cell::text(i.kind),
            Cell::text(i.categories.join(", ")),
            Cell::text(i.sources.join(", ")),
            Cell::text(i.tlp),
            Cell::number(u64::from(i.confidence)),
            Cell::text(i.country.clone().unwrap_or_default()),
            Cell::text(i.asn.map(|a| format!("AS{a}")).unwrap_or_default()),
            Cell::text(&i.last_seen),
        ]);
    }
    if let (true, Some(last)) = (more, items.last()) {
        let href = format!(
            "/indicators?kind={}&category={}&after={}",
            encode(&q.kind),
            encode(&q.category),
            encode(&last.value)
        );
        page.pager.push((href, "Next page".into()));
    }
    ok(&page)
}

/// `?q=`: one value to look up.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LookupQuery {
    #[serde(default)]
    q: String,
}

/// The pasted list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LookupForm {
    #[serde(default)]
    values: String,
}

/// The most values one pasted lookup takes (as the API's bulk lookup).
const MAX_LOOKUP_VALUES: usize = 10_000;

/// `GET /lookup?q=`: one value, defanged forms accepted.
pub(crate) async fn lookup(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    query: Result<Query<LookupQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let values: Vec<String> = Some(q.q.trim().to_string()).filter(|v| !v.is_empty()).into_iter().collect();
    lookup_page(&web, &signed, values, q.q).await
}

/// `POST /lookup`: a pasted list, one value a line.
pub(crate) async fn lookup_many(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Form(form): Form<LookupForm>,
) -> Response {
    let values: Vec<String> = form
        .values
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if values.len() > MAX_LOOKUP_VALUES {
        return render::error(StatusCode::PAYLOAD_TOO_LARGE, Some(&signed), "At most 10,000 values at once.");
    }
    lookup_page(&web, &signed, values, String::new()).await
}

async fn lookup_page(web: &Shared, signed: &Signed, values: Vec<String>, single: String) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let asked = values.len();
    let answers = call(signed, move || {
        // The lookup `cordon lookup` and the API answer: an address inside
        // a listed network is listed.
        let answers = app.lookup(&IndicatorFilter::new(viewer), &values)?;
        Ok(values.into_iter().zip(answers).collect::<Vec<_>>())
    })
    .await;
    let answers = match answers {
        Ok(answers) => answers,
        Err(answer) => return answer,
    };
    let listed = answers.iter().filter(|(_, a)| matches!(a, LookupAnswer::Listed(_))).count();
    let mut page = TablePage::new(signed, "Lookup");
    page.intro
        .push("Is a value listed, as your organisation may see it? Defanged forms (hxxp, [.]) are accepted.".into());
    let mut single_field = Field::input("q", "Address, domain or URL", "text");
    single_field.value = single;
    page.forms.push(FormSpec {
        id: "one",
        method: "get",
        action: "/lookup".into(),
        fields: vec![single_field],
        submit: "Look up",
    });
    page.forms.push(FormSpec {
        id: "many",
        method: "post",
        action: "/lookup".into(),
        fields: vec![Field::input("values", "Or paste a list, one value a line", "textarea")],
        submit: "Look all up",
    });
    if asked > 0 {
        page.message = Some(format!("{} of {} listed.", thousands(listed as u64), thousands(asked as u64)));
    }
    page.headers = vec!["Asked", "Answer", "Categories", "Sources", "TLP", "Confidence", "Flags"];
    page.empty = "";
    for (value, answer) in answers {
        let found = match answer {
            LookupAnswer::Listed(found) => found,
            LookupAnswer::NotListed => Vec::new(),
            LookupAnswer::Invalid(why) => {
                page.rows.push(lookup_row(value, format!("not an indicator: {why}"), None));
                continue;
            }
        };
        if found.is_empty() {
            page.rows.push(lookup_row(value.clone(), "not listed".into(), None));
        }
        // One row per indicator that lists it, most specific first.
        for summary in &found {
            let i = IndicatorView::from(summary);
            page.rows.push(lookup_row(value.clone(), format!("listed as {}", i.value), Some(&i)));
        }
    }
    ok(&page)
}

/// One row of the lookup's table: the value asked, the answer, and the
/// listing indicator's details when there is one.
fn lookup_row(asked: String, answer: String, listed: Option<&IndicatorView>) -> Vec<Cell> {
    let Some(i) = listed else {
        return [asked, answer].into_iter().chain(std::iter::repeat_n(String::new(), 5)).map(Cell::text).collect();
    };
    vec![
        Cell::text(asked),
        Cell::text(answer),
        Cell::text(i.categories.join(", ")),
        Cell::text(i.sources.join(", ")),
        Cell::text(i.tlp),
        Cell::number(u64::from(i.confidence)),
        Cell::text(i.flags.iter().map(|f| f.flag.clone()).collect::<Vec<_>>().join(", ")),
    ]
}

/// `GET /blocklists`: a download link per format.
pub(crate) async fn blocklists(Extension(signed): Extension<Signed>) -> Response {
    let mut page = TablePage::new(&signed, "Blocklists");
    page.intro.push(
        "What your organisation may see, up to TLP:GREEN, flagged indicators left out (as `cordon export`).".into(),
    );
    page.headers = vec!["Format", "Download"];
    for format in cordon_export::Format::ALL.iter().filter(|f| !f.is_directory()) {
        page.rows.push(vec![
            Cell::text(format.as_str()),
            Cell::link(format!("cordon.{}", format.as_str()), format!("/blocklists/{}", format.as_str())),
        ]);
    }
    ok(&page)
}

/// `GET /blocklists/{format}`: one blocklist as a download.
pub(crate) async fn blocklist(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Path(format): Path<String>,
) -> Response {
    let Ok(format) = format.parse::<cordon_export::Format>() else {
        return render::error(StatusCode::NOT_FOUND, Some(&signed), "There is no such page.");
    };
    if format.is_directory() {
        return render::error(StatusCode::NOT_FOUND, Some(&signed), "There is no such page.");
    }
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let selection = cordon_app::exports::ExportSelection {
        filter: IndicatorFilter { max_tlp: cordon_app::exports::BLOCKLIST_TLP_MAX, ..IndicatorFilter::new(viewer) },
        min_confidence: None,
        since: None,
        include_flagged: false,
    };
    // Written by `App::write_export` from the store's cursor straight into
    // the body, 64 KiB a chunk; a failure on the way cuts the body off.
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(64 << 10, Chunks(chunks.clone()));
        let options = cordon_export::Options::new(cordon_app::now());
        let written = app.write_export(&selection, format, &options, &mut out).map(|_| ()).map_err(|e| e.to_string());
        if let Err(why) = written.and_then(|()| std::io::Write::flush(&mut out).map_err(|e| e.to_string())) {
            let _ = chunks.blocking_send(Err(std::io::Error::other(why)));
        }
    });
    let stream = futures_util::stream::unfold(body, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let name = format!("cordon.{}", format.as_str());
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// A `Write` whose every write is one chunk of a response body (behind a
/// `BufWriter`, so chunks are its buffer's size).
struct Chunks(tokio::sync::mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>);

impl std::io::Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let chunk = axum::body::Bytes::copy_from_slice(buf);
        self.0
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `GET /imports`: the organisation's imports (the hub's: all).
pub(crate) async fn imports(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let imports = match call(&signed, move || app.imports(&viewer)).await {
        Ok(imports) => imports,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, if is_hub(&signed) { "Imports" } else { "My submissions" });
    page.intro.push(
        "Each import with what it read, accepted and rejected; a new submission shows its rejected lines.".into(),
    );
    page.headers = vec!["#", "Time", "Source", "File", "Format", "Read", "Accepted", "New", "Rejected", "Skipped"];
    page.empty = "No import yet.";
    for i in imports.iter().rev().take(1_000).map(ImportView::from) {
        page.rows.push(vec![
            Cell::number(i.id as u64),
            Cell::text(i.time),
            Cell::text(i.source),
            Cell::text(i.path),
            Cell::text(i.format),
            Cell::number(i.read),
            Cell::number(i.accepted),
            Cell::number(i.new),
            Cell::number(i.rejected),
            Cell::number(i.skipped),
        ]);
    }
    ok(&page)
}

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    nav: Option<Nav>,
    csrf: String,
    org: String,
    formats: Vec<&'static str>,
    tlps: Vec<(&'static str, bool)>,
    categories: Vec<&'static str>,
    report: Option<SubmitReport>,
}

struct SubmitReport {
    summary: String,
    rejects: Vec<(String, String)>,
}

fn submit_form(signed: &Signed, report: Option<SubmitReport>) -> SubmitPage {
    SubmitPage {
        nav: Some(Nav::of(signed)),
        csrf: signed.csrf.clone(),
        org: signed.principal.org.clone(),
        formats: cordon_formats::Format::ALL.iter().map(|f| f.name()).collect(),
        tlps: Tlp::ALL.iter().map(|t| (t.as_str(), *t == Tlp::Amber)).collect(),
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        report,
    }
}

/// `GET /submit`.
pub(crate) async fn submit_page(Extension(signed): Extension<Signed>) -> Response {
    ok(&submit_form(&signed, None))
}

/// `POST /submit` (`multipart/form-data`): the CSRF field first, then the
/// options, then the file; imported as `POST /api/v1/submissions` does.
pub(crate) async fn submit(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let refused = || {
        render::error(
            StatusCode::FORBIDDEN,
            Some(&signed),
            "The form expired or did not come from this site: reload the page and try again.",
        )
    };
    let Ok(mut multipart) = multipart else {
        return refused();
    };
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut first = true;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return render::error(StatusCode::BAD_REQUEST, Some(&signed), "The upload broke off or was too large.")
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if first && name != "csrf" {
            return refused();
        }
        first = false;
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_string();
            let mut bytes = Vec::new();
            let mut field = field;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) if bytes.len() + chunk.len() <= crate::MAX_UPLOAD => {
                        bytes.extend_from_slice(&chunk)
                    }
                    Ok(Some(_)) => {
                        return render::error(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            Some(&signed),
                            "The file is too large for the form: submit it through the API.",
                        )
                    }
                    Ok(None) => break,
                    Err(_) => return render::error(StatusCode::BAD_REQUEST, Some(&signed), "The upload broke off."),
                }
            }
            file = Some((file_name, bytes));
        } else {
            let Ok(text) = field.text().await else {
                return render::error(StatusCode::BAD_REQUEST, Some(&signed), "The form was not complete.");
            };
            fields.insert(name, text);
        }
    }
    if !fields.get("csrf").is_some_and(|token| crate::session::same_token(token, &signed.csrf)) {
        return refused();
    }
    let Some((file_name, bytes)) = file else {
        return render::error(StatusCode::BAD_REQUEST, Some(&signed), "Choose a file to submit.");
    };
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (format, tlp, category) = (get("format"), get("tlp"), get("category"));
    let report = call(&signed, move || {
        let options = cordon_ingest::IngestOptions {
            format: parse_opt::<cordon_formats::Format>("format", &format)?,
            tlp: parse_opt::<Tlp>("tlp", &tlp)?,
            category: parse_opt::<Category>("category", &category)?,
            ..cordon_ingest::IngestOptions::default()
        };
        let mut reader = std::io::Cursor::new(bytes);
        let input = cordon_app::intake::Input::Reader { name: "submission", reader: &mut reader };
        app.submit(&viewer, None, input, &options).map(|r| FileReportView::from(&r))
    })
    .await;
    let report = match report {
        Ok(report) => report,
        Err(answer) => return answer,
    };
    let summary = format!(
        "{}: {} format, {} lines read, {} accepted ({} new), {} rejected, {} skipped.",
        file_name,
        report.format,
        thousands(report.read),
        thousands(report.accepted),
        thousands(report.new),
        thousands(report.rejected),
        thousands(report.skipped)
    );
    let rejects = report.errors.iter().take(1_000).map(|e| (thousands(e.line), e.reason.clone())).collect();
    ok(&submit_form(&signed, Some(SubmitReport { summary, rejects })))
}

/// `GET /admin/allowlist`.
pub(crate) async fn allowlist(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    query: Result<Query<MessageQuery>, QueryRejection>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let entries = match call(&signed, move || app.allowlist(&viewer)).await {
        Ok(entries) => entries,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Allowlist");
    page.message = query.ok().and_then(|Query(q)| q.message);
    page.intro.push("Never taken down, never exported: addresses, networks and domains.".into());
    if signed.principal.role == Role::Admin {
        page.forms.push(FormSpec {
            id: "allow",
            method: "post",
            action: "/admin/allowlist".into(),
            fields: vec![
                Field::input("value", "Address, network or domain", "text"),
                Field::input("reason", "Reason", "text"),
                Field::select("action", "Action", vec!["add".into(), "remove".into()]),
            ],
            submit: "Apply",
        });
    }
    page.headers = vec!["Value", "Reason", "Added"];
    for e in &entries {
        page.rows.push(vec![
            Cell::text(&e.value),
            Cell::text(&e.reason),
            Cell::text(cordon_model::format_timestamp(e.added)),
        ]);
    }
    ok(&page)
}

/// The allowlist form.
#[derive(Deserialize)]
pub(crate) struct AllowForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    action: String,
}

/// `POST /admin/allowlist`: add or remove an entry.
pub(crate) async fn allowlist_change(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Form(form): Form<AllowForm>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let changed = call(&signed, move || match form.action.as_str() {
        "remove" => app.allow_remove(&viewer, &form.value).map(|v| format!("Removed {v}.")),
        _ => app.allow_add(&viewer, &form.value, &form.reason).map(|v| format!("Allowlisted {v}.")),
    })
    .await;
    match changed {
        Ok(message) => Redirect::to(&format!("/admin/allowlist?message={}", encode(&message))).into_response(),
        Err(answer) => answer,
    }
}

/// `GET /admin/contacts`.
pub(crate) async fn contacts(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let book = match call(&signed, move || {
        app.contacts(&viewer).map(|b| b.contacts().map(cordon_app::admin::ContactEntryView::from).collect::<Vec<_>>())
    })
    .await
    {
        Ok(book) => book,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Contacts");
    page.intro.push(
        "Where targets are routed: providers by network or AS, agencies by country (`cordon contacts import`).".into(),
    );
    page.headers = vec!["Kind", "Key", "Name", "E-mail", "Language"];
    for c in &book {
        page.rows.push(vec![
            Cell::text(&c.kind),
            Cell::text(&c.key),
            Cell::text(&c.name),
            Cell::text(&c.email),
            Cell::text(c.language.clone().unwrap_or_default()),
        ]);
    }
    ok(&page)
}

/// `GET /admin/organisations`.
pub(crate) async fn organisations(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let orgs = match call(&signed, move || app.orgs(&viewer)).await {
        Ok(orgs) => orgs,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Organisations");
    page.headers = vec!["Name", "Kind", "Country", "ASNs"];
    for o in orgs.iter().map(cordon_app::view::OrgView::from) {
        let asns = o.asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(", ");
        page.rows.push(vec![
            Cell::text(o.name),
            Cell::text(o.kind),
            Cell::text(o.country.unwrap_or_default()),
            Cell::text(asns),
        ]);
    }
    ok(&page)
}

/// `GET /admin/users`.
pub(crate) async fn users(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    query: Result<Query<MessageQuery>, QueryRejection>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let users = match call(&signed, move || app.users(&viewer)).await {
        Ok(users) => users,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Users");
    page.message = query.ok().and_then(|Query(q)| q.message);
    page.forms.push(FormSpec {
        id: "user",
        method: "post",
        action: "/admin/users".into(),
        fields: vec![
            Field::input("email", "E-mail address", "email"),
            Field::input("org", "Organisation", "text"),
            Field::select("role", "Role", Role::ALL.iter().map(|r| r.as_str().to_string()).collect()),
            Field::input("password", "Password", "password"),
        ],
        submit: "Add user",
    });
    page.headers = vec!["E-mail", "Organisation", "Role", "Password", "Disabled", "Created"];
    for u in users.iter().map(cordon_app::admin::UserView::from) {
        page.rows.push(vec![
            Cell::text(u.email),
            Cell::text(u.org),
            Cell::text(u.role),
            Cell::text(if u.password { "set" } else { "none" }),
            Cell::text(if u.disabled { "yes" } else { "no" }),
            Cell::text(u.created),
        ]);
    }
    ok(&page)
}

/// The new user form.
#[derive(Deserialize)]
pub(crate) struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users`.
pub(crate) async fn add_user(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Form(form): Form<UserForm>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let added = call(&signed, move || {
        let role: Role =
            form.role.parse().map_err(|e: cordon_app::access::UnknownRole| AppError::Invalid(e.to_string()))?;
        let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
        app.add_user(&viewer, &form.email, &form.org, role, password).map(|u| format!("Added {}.", u.email))
    })
    .await;
    match added {
        Ok(message) => Redirect::to(&format!("/admin/users?message={}", encode(&message))).into_response(),
        Err(answer) => answer,
    }
}

/// `GET /admin/tokens`.
pub(crate) async fn tokens(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    query: Result<Query<MessageQuery>, QueryRejection>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let tokens = match call(&signed, move || app.tokens(&viewer)).await {
        Ok(tokens) => tokens,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "API tokens");
    page.message = query.ok().and_then(|Query(q)| q.message);
    page.intro.push(
        "Tokens are created with `cordon token create` or the API (their secret is shown once); revoke one here."
            .into(),
    );
    page.forms.push(FormSpec {
        id: "revoke",
        method: "post",
        action: "/admin/tokens".into(),
        fields: vec![Field::input("id", "Token number", "number")],
        submit: "Revoke",
    });
    page.headers = vec!["#", "User", "Prefix", "Created", "Expires", "Revoked", "Read only", "Networks"];
    for t in tokens.iter().map(cordon_app::admin::TokenView::from) {
        page.rows.push(vec![
            Cell::number(t.id as u64),
            Cell::text(t.user),
            Cell::text(t.prefix),
            Cell::text(t.created),
            Cell::text(t.expires.unwrap_or_default()),
            Cell::text(t.revoked.unwrap_or_default()),
            Cell::text(if t.read_only { "yes" } else { "no" }),
            Cell::text(t.allow_ips.join(", ")),
        ]);
    }
    ok(&page)
}

/// The revoke form.
#[derive(Deserialize)]
pub(crate) struct RevokeForm {
    #[serde(default)]
    id: String,
}

/// `POST /admin/tokens`: revokes a token.
pub(crate) async fn revoke_token(
    State(web): State<Shared>,
    Extension(signed): Extension<Signed>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let revoked = call(&signed, move || {
        let id = form
            .id
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::Invalid("the token number is a whole number".into()))?;
        app.revoke_token(&viewer, id).map(|()| format!("Revoked token #{id}."))
    })
    .await;
    match revoked {
        Ok(message) => Redirect::to(&format!("/admin/tokens?message={}", encode(&message))).into_response(),
        Err(answer) => answer,
    }
}

/// `GET /admin/collections`: the TAXII collections.
pub(crate) async fn collections(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let collections = match call(&signed, move || app.collections(&viewer)).await {
        Ok(collections) => collections,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Collections");
    page.intro.push("The TAXII 2.1 collections under /taxii2/ (`cordon collection add`).".into());
    page.headers = vec!["Name", "Title", "Id", "Up to", "Operation"];
    for c in &collections {
        page.rows.push(vec![
            Cell::text(&c.spec.name),
            Cell::text(&c.spec.title),
            Cell::text(&c.uuid),
            Cell::text(c.spec.tlp_max.as_str()),
            Cell::text(c.spec.operation.clone().unwrap_or_default()),
        ]);
    }
    ok(&page)
}

/// `GET /admin/feeds`: the feeds the hub pulls, with their last success,
/// last error and next run (read only: `cordon feed add|remove|run`).
pub(crate) async fn feeds(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let feeds = match call(&signed, move || app.feeds(&viewer)).await {
        Ok(feeds) => feeds,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Feeds");
    page.intro.push("The feeds the hub pulls on their schedule (`cordon feed add`, `cordon feed run`).".into());
    page.headers = vec!["Name", "Kind", "URL", "Source", "Every", "Last success", "Last error", "Next run"];
    page.empty = "No feed yet.";
    for f in &feeds {
        page.rows.push(vec![
            Cell::text(&f.name),
            Cell::text(f.kind),
            Cell::text(&f.url),
            Cell::text(&f.source),
            Cell::text(format!("{} s", thousands(f.every.max(0) as u64))),
            Cell::text(f.last_success.clone().unwrap_or_else(|| "never".into())),
            Cell::text(f.last_error.clone().unwrap_or_default()),
            Cell::text(&f.next_run),
        ]);
    }
    ok(&page)
}

/// `GET /admin/audit`: the newest rows of the audit log.
pub(crate) async fn audit(State(web): State<Shared>, Extension(signed): Extension<Signed>) -> Response {
    let app = web.app.clone();
    let viewer = signed.principal.viewer;
    let rows = match call(&signed, move || app.audit(&viewer, None, None)).await {
        Ok(rows) => rows,
        Err(answer) => return answer,
    };
    let mut page = TablePage::new(&signed, "Audit log");
    page.intro.push(format!(
        "The newest of {} rows (`cordon audit list` and `cordon audit verify` for all).",
        thousands(rows.len() as u64)
    ));
    page.headers = vec!["#", "Time", "User", "Organisation", "Action", "Object", "Result"];
    for r in rows.iter().rev().take(PAGE_SIZE * 5) {
        page.rows.push(vec![
            Cell::number(r.id as u64),
            Cell::text(cordon_model::format_timestamp(r.entry.time)),
            Cell::text(&r.entry.user),
            Cell::text(&r.entry.org),
            Cell::text(&r.entry.action),
            Cell::text(&r.entry.object),
            Cell::text(&r.entry.result),
        ]);
    }
    ok(&page)
}
