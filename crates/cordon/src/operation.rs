//! Takedown operations on the command line: `operation`, `targets`,
//! `target`, `verify`, `package`, `notify`, `outcome`, `report`, `demo`
//! and `source consent`. The work is done by `cordon-ops`; this module
//! parses, opens the store, prints.

mod actions;
mod demo;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use cordon_model::{format_timestamp, parse_timestamp, Category};
use cordon_ops::lifecycle::RejectReason;
use cordon_ops::report::OUTCOME_KINDS;
use cordon_ops::workflow::{build_targets, operation as find_operation, transition, Actor, BuildSummary};
use cordon_store::ops::{Operation, OpsStore, Outcome, Target, TargetFilter, TargetState};
use cordon_store::SqliteStore;
use serde_json::{json, Value};

use crate::cli::Cli;
use crate::output::{json_line, stdout};
use crate::query::open_store;

/// The operations commands, flattened into the top-level command.
#[derive(Subcommand, Debug)]
pub(crate) enum OpsCommand {
    /// Create or list operations.
    #[command(subcommand)]
    Operation(OperationCommand),
    /// Build or list an operation's takedown targets.
    #[command(subcommand)]
    Targets(TargetsCommand),
    /// Show a target with its history, or move targets through the lifecycle.
    #[command(subcommand)]
    Target(TargetCommand),
    /// Probe taken-down targets (TCP connect, HTTP(S) GET) and record the checks.
    Verify(actions::VerifyArgs),
    /// Write per-country action packages.
    #[command(subcommand)]
    Package(actions::PackageCommand),
    /// Write abuse notifications to providers (RFC 5322 files in an outbox).
    Notify(actions::NotifyArgs),
    /// Record or list an operation's outcomes (counts only).
    #[command(subcommand)]
    Outcome(OutcomeCommand),
    /// The operation report: headline figures, funnel, breakdowns.
    Report(ReportArgs),
    /// Build a Synergia-scale demo operation from the committed IPsum slice
    /// (in a fresh store DIR/cordon.db; --db is not used).
    Demo(demo::DemoArgs),
    /// A partner's sharing consent.
    #[command(subcommand)]
    Source(SourceCommand),
}

#[derive(Subcommand, Debug)]
pub(crate) enum OperationCommand {
    /// Create an operation.
    Create(CreateArgs),
    /// List operations.
    List(JsonFlag),
}

#[derive(Args, Debug)]
pub(crate) struct CreateArgs {
    /// Its unique name.
    name: String,
    /// The window's first day (or timestamp).
    #[arg(long, value_parser = parse_date)]
    start: i64,
    /// The window's last day (inclusive) or timestamp.
    #[arg(long, value_parser = parse_date)]
    end: i64,
    /// What it is about.
    #[arg(long, default_value = "")]
    description: String,
}

#[derive(Args, Debug)]
pub(crate) struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum TargetsCommand {
    /// Build (or rebuild: idempotent, history kept) the operation's targets.
    Build(BuildArgs),
    /// List targets.
    List(ListArgs),
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// Who builds them (recorded in the history).
    #[arg(long, default_value = "cordon")]
    actor: String,
    /// Also make targets of indicators flagged "do not take down" (CDNs,
    /// public resolvers, shared hosting, allowlisted); by default they are
    /// left out and counted.
    #[arg(long)]
    include_flagged: bool,
}

/// Which targets a command acts on (shared by `targets list` and
/// `target transition`).
#[derive(Args, Debug)]
pub(crate) struct Selection {
    /// Only targets of this operation.
    #[arg(long)]
    operation: Option<String>,
    /// Only targets in this country (ISO code).
    #[arg(long)]
    country: Option<String>,
    /// Only targets in this ASN.
    #[arg(long)]
    asn: Option<u32>,
    /// Only targets in this state.
    #[arg(long)]
    state: Option<TargetState>,
}

impl Selection {
    /// The store filter of this selection.
    fn filter(&self, store: &SqliteStore) -> anyhow::Result<TargetFilter> {
        Ok(TargetFilter {
            operation_id: operation_id(store, self.operation.as_deref())?,
            country: self.country.clone(),
            asn: self.asn,
            state: self.state,
            ..TargetFilter::default()
        })
    }
}

#[derive(Args, Debug)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    selection: Selection,
    /// Only this category.
    #[arg(long)]
    category: Option<Category>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum TargetCommand {
    /// A target with its members and full history.
    Show(ShowArgs),
    /// Move the selected targets to a state (refused where the lifecycle forbids it).
    Transition(TransitionArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ShowArgs {
    /// The target id.
    id: i64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct TransitionArgs {
    /// The state to move to.
    #[arg(long)]
    to: TargetState,
    /// Why (required for --to rejected): false-positive, out-of-scope, duplicate.
    #[arg(long)]
    reason: Option<RejectReason>,
    /// Select these targets.
    #[arg(long)]
    id: Vec<i64>,
    #[command(flatten)]
    selection: Selection,
    /// Who decides (recorded in the history).
    #[arg(long)]
    actor: String,
    /// A note for the history.
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Subcommand, Debug)]
pub(crate) enum OutcomeCommand {
    /// Record an outcome.
    Add(OutcomeArgs),
    /// List an operation's outcomes.
    List(OutcomeListArgs),
}

#[derive(Args, Debug)]
pub(crate) struct OutcomeArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// The reporting country (ISO code).
    #[arg(long)]
    country: String,
    /// arrest, house-search, server-seized, device-seized, data-seized-gb,
    /// suspect-identified or under-investigation.
    #[arg(long, value_parser = parse_outcome_kind)]
    kind: String,
    /// How many.
    #[arg(long)]
    count: u64,
    /// When (default: now).
    #[arg(long, value_parser = parse_date)]
    date: Option<i64>,
    /// A note (no personal data).
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Args, Debug)]
pub(crate) struct OutcomeListArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// Print the report as JSON.
    #[arg(long, conflicts_with = "html")]
    json: bool,
    /// Write the report as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum SourceCommand {
    /// Record whether a partner consents to its AMBER sightings going to national agencies.
    Consent(ConsentArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ConsentArgs {
    /// The source (partner) name.
    name: String,
    /// It consents.
    #[arg(long, conflicts_with = "no_share_amber", required_unless_present = "no_share_amber")]
    share_amber: bool,
    /// It withdraws consent.
    #[arg(long)]
    no_share_amber: bool,
}

fn parse_date(raw: &str) -> Result<i64, String> {
    parse_timestamp(raw).ok_or_else(|| format!("'{raw}' is not a date (YYYY-MM-DD or RFC 3339)"))
}

fn parse_outcome_kind(raw: &str) -> Result<String, String> {
    let kind = raw.trim().to_ascii_lowercase();
    if OUTCOME_KINDS.contains(&kind.as_str()) {
        return Ok(kind);
    }
    Err(format!("unknown outcome '{raw}' (expected {})", OUTCOME_KINDS.join(", ")))
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Runs one operations command.
pub(crate) fn run(cli: &Cli, cmd: &OpsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OpsCommand::Operation(OperationCommand::Create(args)) => create(cli, args),
        OpsCommand::Operation(OperationCommand::List(args)) => list_operations(cli, args),
        OpsCommand::Targets(TargetsCommand::Build(args)) => build(cli, args),
        OpsCommand::Targets(TargetsCommand::List(args)) => list_targets(cli, args),
        OpsCommand::Target(TargetCommand::Show(args)) => show(cli, args),
        OpsCommand::Target(TargetCommand::Transition(args)) => bulk_transition(cli, args),
        OpsCommand::Verify(args) => actions::verify(cli, args),
        OpsCommand::Package(cmd) => actions::package(cli, cmd),
        OpsCommand::Notify(args) => actions::notify(cli, args),
        OpsCommand::Outcome(OutcomeCommand::Add(args)) => add_outcome(cli, args),
        OpsCommand::Outcome(OutcomeCommand::List(args)) => list_outcomes(cli, args),
        OpsCommand::Report(args) => report(cli, args),
        OpsCommand::Demo(args) => demo::run(cli, args),
        OpsCommand::Source(SourceCommand::Consent(args)) => consent(cli, args),
    }
}

fn create(cli: &Cli, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    if args.end < args.start {
        bail!("the operation ends before it starts");
    }
    let mut store = open_store(cli)?;
    if store.operation(&args.name)?.is_some() {
        bail!("there is already an operation '{}'", args.name);
    }
    // A bare end date means the whole of that day.
    let end = if args.end % 86_400 == 0 { args.end + 86_399 } else { args.end };
    let operation = Operation {
        id: 0,
        name: args.name.clone(),
        start: args.start,
        end,
        description: args.description.clone(),
        created: now(),
    };
    let id = store.create_operation(&operation)?;
    println!("operation '{}' (#{id}): {} .. {}", args.name, format_timestamp(args.start), format_timestamp(end));
    Ok(ExitCode::SUCCESS)
}

fn list_operations(cli: &Cli, args: &JsonFlag) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let mut out = stdout();
    for op in store.operations()? {
        if args.json {
            let value = json!({"id": op.id, "name": op.name, "start": format_timestamp(op.start),
                               "end": format_timestamp(op.end), "description": op.description});
            json_line(&mut out, &value)?;
        } else {
            writeln!(
                out,
                "{}\t{} .. {}\t{}",
                op.name,
                format_timestamp(op.start),
                format_timestamp(op.end),
                op.description
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the targets of `operation`, routed through the stored contacts.
pub(crate) fn build_with_contacts(
    store: &mut SqliteStore,
    operation: &Operation,
    actor: &Actor,
    include_flagged: bool,
) -> anyhow::Result<BuildSummary> {
    let contacts = crate::enrichment::load_contacts(store)?;
    Ok(build_targets(store, operation, &contacts, actor, include_flagged)?)
}

/// One line about a build.
pub(crate) fn describe_build(summary: &BuildSummary) -> String {
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

fn build(cli: &Cli, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    let operation = find_operation(&store, &args.operation)?;
    let summary =
        build_with_contacts(&mut store, &operation, &Actor::new(&args.actor, now(), ""), args.include_flagged)?;
    println!("{}", describe_build(&summary));
    Ok(ExitCode::SUCCESS)
}

fn operation_id(store: &SqliteStore, name: Option<&str>) -> anyhow::Result<Option<i64>> {
    name.map(|n| find_operation(store, n).map(|op| op.id)).transpose().map_err(Into::into)
}

/// A target as JSON.
fn target_json(t: &Target) -> Value {
    let s = &t.spec;
    json!({
        "id": t.id, "key": s.key, "kind": s.kind.as_str(), "state": t.state.as_str(),
        "country": s.country, "asn": s.asn, "as_org": s.as_org, "hosting": s.hosting,
        "provider": s.provider.as_ref().map(|c| json!({"name": c.name, "email": c.email})),
        "agency": s.agency.as_ref().map(|c| json!({"name": c.name, "email": c.email})),
        "categories": s.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "malware": s.malware, "partners": s.partners, "ports": s.ports,
        "first_seen": format_timestamp(s.first_seen), "last_seen": format_timestamp(s.last_seen),
    })
}

fn list_targets(cli: &Cli, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let filter = TargetFilter { category: args.category, ..args.selection.filter(&store)? };
    let mut out = stdout();
    for t in store.targets(&filter)? {
        if args.json {
            json_line(&mut out, &target_json(&t))?;
        } else {
            let s = &t.spec;
            let categories: Vec<&str> = s.categories.iter().map(|c| c.as_str()).collect();
            writeln!(
                out,
                "#{}\t{}\t{}\t{}\t{}\tAS{}\t{}\t{}",
                t.id,
                s.key,
                s.kind,
                t.state,
                s.country.as_deref().unwrap_or("-"),
                s.asn.map_or("-".to_string(), |a| a.to_string()),
                categories.join(","),
                s.partners.join(",")
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn show(cli: &Cli, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let Some(target) = store.targets(&TargetFilter { id: Some(args.id), ..TargetFilter::default() })?.pop() else {
        eprintln!("cordon: there is no target #{}", args.id);
        return Ok(ExitCode::from(1));
    };
    let members = store.members(target.id)?;
    let history = store.history(target.id)?;
    let checks = store.checks(target.id)?;
    let mut out = stdout();
    if args.json {
        let mut value = target_json(&target);
        value["members"] = json!(members);
        value["history"] = history
            .iter()
            .map(|h| {
                json!({"time": format_timestamp(h.time), "from": h.from.map(|s| s.as_str()), "to": h.to.as_str(),
                       "reason": h.reason, "actor": h.actor, "note": h.note})
            })
            .collect();
        value["checks"] =
            checks.iter().map(|c| json!({"time": format_timestamp(c.time), "up": c.up, "detail": c.detail})).collect();
        json_line(&mut out, &value)?;
    } else {
        let s = &target.spec;
        writeln!(out, "target #{} {} ({}) — {}", target.id, s.key, s.kind, target.state)?;
        writeln!(
            out,
            "  network:  {} AS{} {} ({})",
            s.country.as_deref().unwrap_or("-"),
            s.asn.map_or("-".to_string(), |a| a.to_string()),
            s.as_org.as_deref().unwrap_or("-"),
            s.hosting.as_deref().unwrap_or("-")
        )?;
        let contact = |c: &Option<cordon_store::ops::ContactRef>| {
            c.as_ref().map_or("-".to_string(), |c| format!("{} <{}>", c.name, c.email))
        };
        writeln!(out, "  provider: {}", contact(&s.provider))?;
        writeln!(out, "  agency:   {}", contact(&s.agency))?;
        let categories: Vec<&str> = s.categories.iter().map(|c| c.as_str()).collect();
        writeln!(out, "  categories: {}   malware: {}", categories.join(", "), s.malware.join(", "))?;
        writeln!(out, "  partners: {}", s.partners.join(", "))?;
        writeln!(out, "  seen:     {} .. {}", format_timestamp(s.first_seen), format_timestamp(s.last_seen))?;
        writeln!(out, "  members:  {}", members.join(" "))?;
        writeln!(out, "  history:")?;
        for h in &history {
            let reason = h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            writeln!(
                out,
                "    {}  {} → {}{reason}  by {}  {}",
                format_timestamp(h.time),
                h.from.map_or("-", |s| s.as_str()),
                h.to,
                h.actor,
                h.note
            )?;
        }
        for c in &checks {
            writeln!(out, "    check {} {}: {}", format_timestamp(c.time), if c.up { "UP" } else { "down" }, c.detail)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn bulk_transition(cli: &Cli, args: &TransitionArgs) -> anyhow::Result<ExitCode> {
    let chosen = &args.selection;
    if args.id.is_empty() && chosen.country.is_none() && chosen.asn.is_none() && chosen.state.is_none() {
        eprintln!("cordon: select targets with --id, --country, --asn or --state");
        return Ok(ExitCode::from(crate::EXIT_INPUT));
    }
    let mut store = open_store(cli)?;
    let filter = chosen.filter(&store)?;
    let mut selected = store.targets(&filter)?;
    if !args.id.is_empty() {
        selected.retain(|t| args.id.contains(&t.id));
        let missing: Vec<String> =
            args.id.iter().filter(|id| !selected.iter().any(|t| t.id == **id)).map(|id| format!("#{id}")).collect();
        if !missing.is_empty() {
            eprintln!("cordon: no such target (or not selected): {}", missing.join(", "));
        }
    }
    let actor = Actor::new(&args.actor, now(), &args.note);
    let result = transition(&mut store, &selected, args.to, args.reason, &actor).context("transition failed")?;
    println!("{} target(s) moved to {}", result.applied.len(), args.to);
    let mut refusals: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (id, err) in &result.refused {
        refusals.entry(err.to_string()).or_default().push(format!("#{id}"));
    }
    for (why, ids) in &refusals {
        let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
        let more = if ids.len() > 10 { format!(" and {} more", ids.len() - 10) } else { String::new() };
        eprintln!("cordon: refused {}{more}: {why}", shown.join(", "));
    }
    Ok(if result.refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn add_outcome(cli: &Cli, args: &OutcomeArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    let operation = find_operation(&store, &args.operation)?;
    let country = args.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        bail!("'{}' is not a two-letter country code", args.country);
    }
    let outcome = Outcome {
        operation_id: operation.id,
        country,
        kind: args.kind.clone(),
        count: args.count,
        date: args.date.unwrap_or_else(now),
        note: args.note.clone(),
    };
    store.add_outcome(&outcome)?;
    println!("recorded {} × {} in {} for operation '{}'", outcome.count, outcome.kind, outcome.country, operation.name);
    Ok(ExitCode::SUCCESS)
}

fn list_outcomes(cli: &Cli, args: &OutcomeListArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let operation = find_operation(&store, &args.operation)?;
    let mut out = stdout();
    for o in store.outcomes(operation.id)? {
        if args.json {
            let value = json!({"country": o.country, "kind": o.kind, "count": o.count,
                               "date": format_timestamp(o.date), "note": o.note});
            json_line(&mut out, &value)?;
        } else {
            writeln!(out, "{}\t{}\t{}\t{}\t{}", format_timestamp(o.date), o.country, o.kind, o.count, o.note)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn report(cli: &Cli, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let operation = find_operation(&store, &args.operation)?;
    let report = cordon_ops::report::load(&store, &operation)?;
    if args.json {
        let mut out = stdout();
        json_line(&mut out, &serde_json::to_value(&report)?)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", cordon_ops::report::text(&report));
    if let Some(path) = &args.html {
        std::fs::write(path, cordon_ops::report::html(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn consent(cli: &Cli, args: &ConsentArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    let share = args.share_amber && !args.no_share_amber;
    if !store.set_share_amber(&args.name, share)? {
        eprintln!("cordon: there is no source '{}'", args.name);
        return Ok(ExitCode::from(1));
    }
    let what = if share { "shares" } else { "does not share" };
    println!("{} {what} its AMBER sightings with national agencies", args.name);
    Ok(ExitCode::SUCCESS)
}
