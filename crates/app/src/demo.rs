//! `cordon demo`: an operation at Synergia II scale, built deterministically
//! from the committed IPsum slice (`data/demo/ipsum-30k.txt`, compiled in).
//!
//! Steps: four partner feeds in four formats → ingest → enrichment with the
//! real ASN/country data → simulated abuse contacts (`.invalid` addresses)
//! → targets → triage → packages → notifications → simulated takedowns
//! (about 76 % of servers), verifications and a re-emergence → outcomes →
//! the report, written as HTML and JSON. Everything is written inside the
//! output directory, which the demo creates (or recognises by its marker
//! file as one it made); nothing is ever probed or sent over the network,
//! and no program is run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cordon_ingest::IngestOptions;
use cordon_model::{parse_timestamp, Category, Consent, OrgKind, Viewer};
use cordon_ops::demo::{feeds, ipsum_addresses, stable_hash, DemoFeed};
use cordon_ops::lifecycle::{path, RejectReason};
use cordon_ops::notify::NotifyConfig;
use cordon_ops::report::Report;
use cordon_ops::workflow::{targets_in, Actor, BuildSummary};
use cordon_store::enrichment::{ContactRow, EnrichmentStore};
use cordon_store::ops::{Operation, OpsStore, Outcome, Target, TargetFilter, TargetKind, TargetState};
use cordon_store::orgs::NewOrganisation;

use crate::access::Role;
use crate::intake::Input;
use crate::{App, AppError, Config};

/// The committed slice: 30,000 real IPsum addresses.
const SLICE: &str = include_str!("../../../data/demo/ipsum-30k.txt");

/// The share of server targets the simulation takes down.
const TAKEDOWN_SHARE: f64 = 0.76;

const DAY: i64 = 86_400;

/// The file that marks a directory as the demo's own.
pub const MARKER: &str = ".cordon-demo";

/// How to run the demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The output directory: created, or one an earlier demo made.
    pub out: PathBuf,
    /// The share of the 30,000 addresses to use (0 < scale ≤ 1).
    pub scale: f64,
    /// A compiled geo snapshot to use, if there is one.
    pub geo_snapshot: Option<PathBuf>,
    /// Otherwise: the ip-location-db data directory (`data/geo`), compiled
    /// into the output directory when present.
    pub geo_data: PathBuf,
    /// The MISP warninglists directory (`data/warninglists`); without it
    /// only the built-in rules flag indicators.
    pub warninglists: PathBuf,
}

/// What the demo made.
#[derive(Debug)]
pub struct DemoResult {
    /// The operation report.
    pub report: Report,
    /// Whether geo data was found (without it targets have no country).
    pub enriched: bool,
    /// Where the demo's store and geo snapshot are (for `cordon demo
    /// --serve`).
    pub config: Config,
}

/// A user [`add_users`] made, to sign in to the dashboard with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// The sign-in e-mail.
    pub email: String,
    /// Its organisation.
    pub org: String,
    /// Its role.
    pub role: Role,
}

/// Adds one user per role to the demo's store, all with one new random
/// password (returned, for the caller to show once): the hub's admin and
/// analyst, a partner owning the first demo feed, the agency of the
/// country with the most targets (Romania when none has a country) and a
/// defender. Their organisations are made as needed.
pub fn add_users(app: &App, report: &Report) -> Result<(Vec<DemoUser>, String), AppError> {
    let hub = app.viewer(None)?;
    let password = hex::encode(crate::access::random_bytes::<9>()?);
    let country = report.by_country.iter().map(|r| r.key.as_str()).find(|k| k.len() == 2).unwrap_or("RO");
    let orgs = [
        ("kestrel", OrgKind::Partner, None),
        (&*format!("ncu-{}", country.to_ascii_lowercase()), OrgKind::Agency, Some(country)),
        ("demo-soc", OrgKind::Defender, None),
    ];
    let known: Vec<String> = app.orgs(&hub)?.into_iter().map(|o| o.name).collect();
    for (name, kind, country) in orgs {
        if !known.iter().any(|k| k == name) {
            let org = NewOrganisation { name: name.into(), kind, country: country.map(Into::into), asns: Vec::new() };
            app.add_org(&hub, &org)?;
        }
    }
    app.set_source_org(&hub, "kestrel-cert", "kestrel")?;
    let hub_name = app.orgs(&hub)?.into_iter().find(|o| o.kind == OrgKind::Hub).map(|o| o.name);
    let hub_name = hub_name.unwrap_or_else(|| "hub".into());
    let wanted = [
        ("admin@hub.demo", hub_name.as_str(), Role::Admin),
        ("analyst@hub.demo", hub_name.as_str(), Role::Analyst),
        ("partner@kestrel.demo", "kestrel", Role::Submitter),
        ("officer@ncu.demo", orgs[1].0, Role::Agency),
        ("soc@soc.demo", "demo-soc", Role::Reader),
    ];
    let mut users = Vec::new();
    for (email, org, role) in wanted {
        app.add_user(&hub, email, org, role, Some(&password))?;
        users.push(DemoUser { email: email.into(), org: org.into(), role });
    }
    Ok((users, password))
}

/// Runs the demo; `step` is told each step's outcome as it ends.
pub fn run(options: &DemoOptions, step: &mut dyn FnMut(String)) -> Result<DemoResult, AppError> {
    if !(options.scale > 0.0 && options.scale <= 1.0) {
        return Err(AppError::Invalid("--scale must be in (0, 1]".into()));
    }
    let out = &options.out;
    fresh_output(out)?;
    let geo = geo_snapshot(options);
    let config = Config {
        db: out.join("cordon.db"),
        db_read: None,
        geo: geo.clone().unwrap_or_else(|| out.join(crate::GEO_SNAPSHOT)),
        warninglists: options.warninglists.clone(),
        collect: cordon_collect::Settings::default(),
    };
    let app = App::open(&config)?;
    let hub = app.viewer(None)?;
    let start = parse_timestamp("2024-04-01").unwrap_or(0);
    let description = "Demo at Synergia II scale: real IPsum addresses, simulated partners and lifecycle";
    let operation = app.create_operation(&hub, "synergia-ii-demo", start, start + 153 * DAY - 1, description)?;

    let all = ipsum_addresses(SLICE);
    let count = ((all.len() as f64 * options.scale).ceil() as usize).clamp(1, all.len());
    let addresses = &all[..count];
    let demo_feeds = feeds(addresses, start);
    let feed_dir = out.join("feeds");
    std::fs::create_dir_all(&feed_dir).map_err(|e| io_error(&feed_dir, e))?;
    for feed in &demo_feeds {
        ingest(&app, &hub, &operation, &feed_dir, feed)?;
        if feed.share_amber {
            app.set_consent(&hub, feed.source, Consent { agencies: true, providers: true })?;
        }
    }
    let records: usize = demo_feeds.iter().map(|f| f.records).sum();
    step(format!("{count} addresses → 4 partner feeds, {records} records ingested"));

    if geo.is_some() {
        let summary = app.enrich(&hub, &mut |_, _| {})?;
        step(format!(
            "enriched {} indicators ({} without network data) from {}",
            summary.indicators,
            summary.unknown_network,
            config.geo.display()
        ));
    } else {
        step(format!(
            "no geo data at {} ({}): continuing without enrichment, so targets have no country, contacts, \
             packages or notifications",
            options.geo_data.display(),
            crate::GEO_HELP
        ));
    }
    let contacts = simulated_contacts(&app, &operation)?;
    app.store.replace_contacts(&contacts)?;
    let at = |day: i64, note: &str| Actor::new("demo", start + day * DAY, note);
    let summary = app.build_targets(&hub, &operation, &at(14, ""), false)?;
    step(format!("{} ({} simulated abuse/agency contacts)", describe_build(&summary), contacts.len()));

    triage(&app, &hub, &operation, &at(21, "triaged"))?;
    let packages = app.build_packages(&hub, &operation, None, &out.join("packages"), &at(28, "package"))?;
    step(format!(
        "triage; {} country packages, {} targets referred, {} withheld by TLP",
        packages.packages.len(),
        packages.referred,
        packages.withheld_targets
    ));
    let notify_config = NotifyConfig {
        outbox: out.join("outbox"),
        from_name: "cordon demo hub".into(),
        from_address: "abuse-reports@cordon.invalid".into(),
        interval: 7 * DAY,
        smtp: None,
    };
    let notified = app.notify(&hub, &operation, &notify_config, &at(35, "provider notified"))?;
    step(format!("{} provider notifications, {} targets notified", notified.messages.len(), notified.notified));

    let servers = summary.by_kind.get(&TargetKind::Server).copied().unwrap_or(0);
    let comeback = (servers / 1000).clamp(1, 25);
    let (down, verified) = simulate_takedowns(&app, &hub, &operation, start, comeback)?;
    let reemerged = simulate_reemergence(&app, &hub, &operation, &feed_dir, comeback, &at(150, ""))?;
    record_outcomes(&app, &hub, &operation, start)?;
    step(format!("simulated {down} takedowns, {verified} verifications, {reemerged} re-emerged; outcomes"));

    let report = app.report(&hub, &operation)?;
    let html = out.join("report.html");
    std::fs::write(&html, cordon_ops::report::html(&report)).map_err(|e| io_error(&html, e))?;
    let json = out.join("report.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| AppError::Storage(e.to_string()))?;
    std::fs::write(&json, text).map_err(|e| io_error(&json, e))?;
    step("report".to_string());
    Ok(DemoResult { report, enriched: geo.is_some(), config })
}

fn io_error(path: &Path, e: std::io::Error) -> AppError {
    AppError::Storage(format!("{}: {e}", path.display()))
}

/// One line about a build.
pub fn describe_build(summary: &BuildSummary) -> String {
    let kinds: Vec<String> = summary.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let mut text = format!("{} targets ({}), {} new", summary.targets, kinds.join(", "), summary.new);
    if summary.reemerged > 0 {
        text.push_str(&format!(", {} re-emerged (back to triaged)", summary.reemerged));
    }
    if summary.withdrawn > 0 {
        text.push_str(&format!(", {} withdrawn (now flagged: rejected as out-of-scope)", summary.withdrawn));
    }
    let total: u64 = summary.left_out.values().sum();
    if total > 0 {
        let why: Vec<String> = summary.left_out.iter().map(|(k, n)| format!("{n} {k}")).collect();
        text.push_str(&format!("; {total} indicators left out: {}", why.join(", ")));
    }
    text
}

/// Makes `out` ready for a new demo: creates it (with the marker), or,
/// when an earlier demo made it, removes that demo's files. Refuses any
/// other existing directory that is not empty: the demo never overwrites a
/// store it did not make.
fn fresh_output(out: &Path) -> Result<(), AppError> {
    let marker = out.join(MARKER);
    if out.exists() && !marker.is_file() {
        let empty = std::fs::read_dir(out).map_err(|e| io_error(out, e))?.next().is_none();
        if !empty {
            return Err(AppError::Conflict(format!(
                "{} exists and was not made by `cordon demo`: give --out a new directory",
                out.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| io_error(out, e))?;
    std::fs::write(&marker, "made by cordon demo; its files here are rewritten by the next demo\n")
        .map_err(|e| io_error(&marker, e))?;
    for name in ["cordon.db", "cordon.db-wal", "cordon.db-shm", "cordon-geo.snap", "report.html", "report.json"] {
        let file = out.join(name);
        if file.exists() {
            std::fs::remove_file(&file).map_err(|e| io_error(&file, e))?;
        }
    }
    for dir in ["packages", "outbox", "feeds"] {
        let dir = out.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        }
    }
    Ok(())
}

fn ingest(app: &App, hub: &Viewer, operation: &Operation, dir: &Path, feed: &DemoFeed) -> Result<(), AppError> {
    let path = dir.join(feed.file);
    std::fs::write(&path, &feed.text).map_err(|e| io_error(&path, e))?;
    let options = IngestOptions {
        source: feed.source.to_string(),
        format: Some(feed.format.parse().map_err(|e| AppError::Invalid(format!("{e}")))?),
        tlp: Some(feed.default_tlp),
        category: Some(Category::Botnet),
        ..IngestOptions::default()
    };
    app.ingest(hub, Input::Path(&path), &options, Some(&operation.name), &mut |_| {})
        .map_err(|e| AppError::Storage(e.to_string()))?;
    Ok(())
}

/// The geo snapshot: the one given if it exists, else one compiled into the
/// output directory from the ip-location-db data directory, if present.
fn geo_snapshot(options: &DemoOptions) -> Option<PathBuf> {
    if let Some(given) = options.geo_snapshot.as_ref().filter(|p| p.is_file()) {
        return Some(given.clone());
    }
    let data = &options.geo_data;
    if !data.join("asn-country/asn-country-ipv4.csv").is_file() {
        return None;
    }
    let mut import = cordon_enrich::Import::new();
    for file in
        ["asn/asn-ipv4.csv", "asn/asn-ipv6.csv", "asn-country/asn-country-ipv4.csv", "asn-country/asn-country-ipv6.csv"]
    {
        let path = data.join(file);
        if path.exists() {
            import.add_path(&path);
        }
    }
    let report = import.finish();
    let built = options.out.join(crate::GEO_SNAPSHOT);
    cordon_enrich::write_snapshot(&built, &report.snapshot).ok()?;
    Some(built)
}

/// One abuse desk per ASN and one agency per country seen in the
/// operation, at `.invalid` addresses (RFC 2606: never deliverable).
fn simulated_contacts(app: &App, operation: &Operation) -> Result<Vec<ContactRow>, AppError> {
    let scope = app.store.scope(operation.id)?;
    let mut asns = BTreeMap::new();
    let mut countries = BTreeSet::new();
    for indicator in &scope.indicators {
        if let Some(asn) = indicator.asn {
            asns.entry(asn).or_insert_with(|| indicator.as_org.clone().unwrap_or_else(|| format!("AS{asn}")));
        }
        countries.extend(indicator.country.clone());
    }
    let row = |kind: &str, key: String, name: String, email: String| ContactRow {
        kind: kind.into(),
        key,
        name,
        email,
        pgp_fingerprint: None,
        language: None,
    };
    let mut rows: Vec<ContactRow> = asns
        .into_iter()
        .map(|(asn, org)| {
            row("asn", asn.to_string(), format!("{org} abuse desk"), format!("abuse@as{asn}.demo.invalid"))
        })
        .collect();
    rows.extend(countries.into_iter().map(|cc| {
        let lower = cc.to_ascii_lowercase();
        row(
            "country",
            cc.clone(),
            format!("National cybercrime unit {cc} (demo)"),
            format!("ncu-{lower}@agency.demo.invalid"),
        )
    }));
    Ok(rows)
}

/// Triage: about 4 % rejected (false positive, duplicate, out of scope),
/// the rest triaged.
fn triage(app: &App, hub: &Viewer, operation: &Operation, actor: &Actor) -> Result<(), AppError> {
    let identified = targets_in(&app.store, operation.id, TargetState::Identified)?;
    let mut groups: BTreeMap<u64, Vec<Target>> = BTreeMap::new();
    for target in identified {
        groups.entry(stable_hash(&target.spec.key, 51) % 100).or_default().push(target);
    }
    let reasons = [
        (0, RejectReason::FalsePositive),
        (1, RejectReason::FalsePositive),
        (2, RejectReason::Duplicate),
        (3, RejectReason::OutOfScope),
    ];
    for (bucket, reason) in reasons {
        if let Some(targets) = groups.remove(&bucket) {
            let note = Actor { note: "simulated triage".into(), ..actor.clone() };
            app.transition(hub, &targets, TargetState::Rejected, Some(reason), &note)?;
        }
    }
    let rest: Vec<Target> = groups.into_values().flatten().collect();
    app.transition(hub, &rest, TargetState::Triaged, None, actor)?;
    Ok(())
}

/// Walks `targets` along the lifecycle to `to`, one legal step at a time.
fn advance(
    app: &App,
    hub: &Viewer,
    mut targets: Vec<Target>,
    to: TargetState,
    actor: &Actor,
) -> Result<usize, AppError> {
    let mut moved = 0;
    loop {
        let mut by_next: BTreeMap<TargetState, Vec<Target>> = BTreeMap::new();
        for target in targets.drain(..) {
            if let Some(next) = path(target.state, to).and_then(|p| p.first().copied()) {
                by_next.entry(next).or_default().push(target);
            }
        }
        if by_next.is_empty() {
            return Ok(moved);
        }
        for (next, group) in by_next {
            let done = app.transition(hub, &group, next, None, actor)?;
            moved += usize::from(next == to) * done.applied.len();
            targets.extend(group.into_iter().filter(|t| done.applied.contains(&t.id)).map(|mut t| {
                t.state = next;
                t
            }));
        }
    }
}

/// Takes down about 76 % of the server targets (plus `comeback`, which will
/// re-emerge), spread over weeks 6–20, and verifies 40 % of those a week
/// later (simulated: nothing is probed).
fn simulate_takedowns(
    app: &App,
    hub: &Viewer,
    operation: &Operation,
    start: i64,
    comeback: usize,
) -> Result<(usize, usize), AppError> {
    let all = app.store.targets(&TargetFilter { operation_id: Some(operation.id), ..TargetFilter::default() })?;
    let servers = all.iter().filter(|t| t.spec.kind == TargetKind::Server).count();
    let wanted = (servers as f64 * TAKEDOWN_SHARE).round() as usize + comeback;
    let mut candidates: Vec<Target> = all
        .into_iter()
        .filter(|t| t.spec.kind == TargetKind::Server && path(t.state, TargetState::TakenDown).is_some())
        .collect();
    candidates.sort_by_key(|t| stable_hash(&t.spec.key, 61));
    candidates.truncate(wanted);
    let mut weeks: BTreeMap<i64, Vec<Target>> = BTreeMap::new();
    for target in candidates {
        weeks.entry(6 + (stable_hash(&target.spec.key, 62) % 15) as i64).or_default().push(target);
    }
    let (mut down, mut verified) = (0, 0);
    for (week, targets) in weeks {
        let actor = Actor::new("demo", start + week * 7 * DAY + 3600, "simulated takedown");
        let chosen: Vec<Target> = targets.iter().filter(|t| stable_hash(&t.spec.key, 63) % 100 < 40).cloned().collect();
        down += advance(app, hub, targets, TargetState::TakenDown, &actor)?;
        let ids: BTreeSet<i64> = chosen.iter().map(|t| t.id).collect();
        let now_down: Vec<Target> = targets_in(&app.store, operation.id, TargetState::TakenDown)?
            .into_iter()
            .filter(|t| ids.contains(&t.id))
            .collect();
        let later = Actor::new("demo", actor.time + 7 * DAY, "simulated: down in two checks a week apart");
        verified += app.transition(hub, &now_down, TargetState::Verified, None, &later)?.applied.len();
    }
    Ok((down, verified))
}

/// A partner reports `count` taken-down servers again: rebuilding the
/// targets moves them to `reemerged`, then back to `triaged`.
fn simulate_reemergence(
    app: &App,
    hub: &Viewer,
    operation: &Operation,
    feed_dir: &Path,
    count: usize,
    actor: &Actor,
) -> Result<usize, AppError> {
    let mut down: Vec<Target> = targets_in(&app.store, operation.id, TargetState::TakenDown)?;
    down.extend(targets_in(&app.store, operation.id, TargetState::Verified)?);
    down.sort_by_key(|t| stable_hash(&t.spec.key, 71));
    // Seen again the week before the rebuild, inside the window.
    let seen = cordon_model::format_timestamp(actor.time - 5 * DAY);
    let rows: String = down.iter().take(count).map(|t| format!("{},{seen},{seen}\n", t.spec.key)).collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let feed = DemoFeed {
        source: "kestrel-cert",
        file: "kestrel-cert-update.csv",
        format: "csv",
        default_tlp: cordon_model::Tlp::Clear,
        share_amber: false,
        text: format!("ip,first_seen,last_seen\n{rows}"),
        records: count,
    };
    ingest(app, hub, operation, feed_dir, &feed)?;
    Ok(app.build_targets(hub, operation, actor, false)?.reemerged)
}

/// 41 arrests and 59 seized servers, shared among the countries with the
/// most takedowns (largest remainder), as the press release counted them.
fn record_outcomes(app: &App, hub: &Viewer, operation: &Operation, start: i64) -> Result<(), AppError> {
    let report = app.report(hub, operation)?;
    let top: Vec<(String, u64)> = report
        .by_country
        .iter()
        .filter(|r| r.key != "unknown" && r.taken_down > 0)
        .take(12)
        .map(|r| (r.key.clone(), r.taken_down))
        .collect();
    for (kind, total) in [("arrest", 41u64), ("server-seized", 59)] {
        for (country, count) in share(total, &top) {
            let outcome = Outcome {
                operation_id: operation.id,
                country,
                kind: kind.into(),
                count,
                date: start + 140 * DAY,
                note: "simulated".into(),
            };
            app.add_outcome(hub, &outcome)?;
        }
    }
    Ok(())
}

/// Splits `total` in proportion to the weights (largest remainder).
fn share(total: u64, weights: &[(String, u64)]) -> Vec<(String, u64)> {
    let sum: u64 = weights.iter().map(|w| w.1).sum();
    if sum == 0 {
        return Vec::new();
    }
    let mut parts: Vec<(String, u64, u64)> =
        weights.iter().map(|(k, w)| (k.clone(), total * w / sum, (total * w) % sum)).collect();
    let mut left = total - parts.iter().map(|p| p.1).sum::<u64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].2.cmp(&parts[*a].2));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i].1 += 1;
        left -= 1;
    }
    parts.into_iter().filter(|p| p.1 > 0).map(|p| (p.0, p.1)).collect()
}
