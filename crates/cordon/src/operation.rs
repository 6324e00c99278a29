//! Takedown operations on the command line: `operation`, `targets`,
//! `target`, `verify`, `package`, `notify`, `outcome`, `report`.
//! The work is done by the application layer (`cordon-app`); this module
//! parses and prints.

mod actions;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use cordon_app::demo::describe_build;
use cordon_app::operations::TargetSelection;
use cordon_app::view::{ContactView, OperationView, OutcomeView, TargetView};
use cordon_app::{now, App};
use cordon_model::{format_timestamp, parse_timestamp, Category, Viewer};
use cordon_ops::lifecycle::RejectReason;
use cordon_ops::report::OUTCOME_KINDS;
use cordon_ops::workflow::{Actor, SelectionSummary};
use cordon_store::ops::{Outcome, TargetState};

use crate::cli::Cli;
use crate::output::{human, json_line, stdout};

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
    /// The application's form of this selection.
    fn selection(&self) -> TargetSelection {
        TargetSelection {
            operation: self.operation.clone(),
            country: self.country.clone(),
            asn: self.asn,
            state: self.state,
            ..TargetSelection::default()
        }
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

/// Runs one operations command.
pub(crate) fn run(cli: &Cli, cmd: &OpsCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let app = &app;
    match cmd {
        OpsCommand::Operation(OperationCommand::Create(args)) => create(app, &viewer, args),
        OpsCommand::Operation(OperationCommand::List(args)) => list_operations(app, &viewer, args),
        OpsCommand::Targets(TargetsCommand::Build(args)) => build(app, &viewer, args),
        OpsCommand::Targets(TargetsCommand::List(args)) => list_targets(app, &viewer, args),
        OpsCommand::Target(TargetCommand::Show(args)) => show(app, &viewer, args),
        OpsCommand::Target(TargetCommand::Transition(args)) => bulk_transition(app, &viewer, args),
        OpsCommand::Verify(args) => actions::verify(app, &viewer, args),
        OpsCommand::Package(cmd) => actions::package(app, &viewer, cmd),
        OpsCommand::Notify(args) => actions::notify(app, &viewer, args),
        OpsCommand::Outcome(OutcomeCommand::Add(args)) => add_outcome(app, &viewer, args),
        OpsCommand::Outcome(OutcomeCommand::List(args)) => list_outcomes(app, &viewer, args),
        OpsCommand::Report(args) => report(app, &viewer, args),
    }
}

fn create(app: &App, viewer: &Viewer, args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let op = app.create_operation(viewer, &args.name, args.start, args.end, &args.description)?;
    let mut out = human();
    writeln!(
        out,
        "operation '{}' (#{}): {} .. {}",
        op.name,
        op.id,
        format_timestamp(op.start),
        format_timestamp(op.end)
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn list_operations(app: &App, viewer: &Viewer, args: &JsonFlag) -> anyhow::Result<ExitCode> {
    let (mut json, mut out) = (stdout(), human());
    for op in app.operations(viewer)? {
        if args.json {
            json_line(&mut json, &OperationView::from(&op))?;
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
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn build(app: &App, viewer: &Viewer, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let operation = app.operation(&args.operation)?;
    let summary = app.build_targets(viewer, &operation, &Actor::new(&args.actor, now(), ""), args.include_flagged)?;
    let mut out = human();
    writeln!(out, "{}", describe_build(&summary))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn list_targets(app: &App, viewer: &Viewer, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let selection = TargetSelection { category: args.category, ..args.selection.selection() };
    let (mut json, mut out) = (stdout(), human());
    for t in app.targets(viewer, &selection)? {
        if args.json {
            json_line(&mut json, &TargetView::from(&t))?;
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
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn show(app: &App, viewer: &Viewer, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let detail = app.target(viewer, args.id)?;
    if args.json {
        let mut json = stdout();
        json_line(&mut json, &detail)?;
        json.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = human();
    let t = &detail.target;
    writeln!(out, "target #{} {} ({}) — {}", t.id, t.key, t.kind, t.state)?;
    writeln!(
        out,
        "  network:  {} AS{} {} ({})",
        t.country.as_deref().unwrap_or("-"),
        t.asn.map_or("-".to_string(), |a| a.to_string()),
        t.as_org.as_deref().unwrap_or("-"),
        t.hosting.as_deref().unwrap_or("-")
    )?;
    let contact = |c: &Option<ContactView>| c.as_ref().map_or("-".to_string(), |c| format!("{} <{}>", c.name, c.email));
    writeln!(out, "  provider: {}", contact(&t.provider))?;
    writeln!(out, "  agency:   {}", contact(&t.agency))?;
    writeln!(out, "  categories: {}   malware: {}", t.categories.join(", "), t.malware.join(", "))?;
    writeln!(out, "  partners: {}", t.partners.join(", "))?;
    writeln!(out, "  seen:     {} .. {}", t.first_seen, t.last_seen)?;
    writeln!(out, "  members:  {}", detail.members.join(" "))?;
    writeln!(out, "  history:")?;
    for h in &detail.history {
        let reason = h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        writeln!(out, "    {}  {} → {}{reason}  by {}  {}", h.time, h.from.unwrap_or("-"), h.to, h.actor, h.note)?;
    }
    for c in &detail.checks {
        writeln!(out, "    check {} {}: {}", c.time, if c.up { "UP" } else { "down" }, c.detail)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn bulk_transition(app: &App, viewer: &Viewer, args: &TransitionArgs) -> anyhow::Result<ExitCode> {
    let chosen = &args.selection;
    if args.id.is_empty() && chosen.country.is_none() && chosen.asn.is_none() && chosen.state.is_none() {
        eprintln!("cordon: select targets with --id, --country, --asn or --state");
        return Ok(ExitCode::from(crate::EXIT_INPUT));
    }
    let actor = Actor::new(&args.actor, now(), &args.note);
    let result = if args.id.is_empty() {
        app.transition_selection(viewer, &chosen.selection(), args.to, args.reason, &actor)?
    } else {
        let selection = TargetSelection { ids: args.id.clone(), ..chosen.selection() };
        let selected = app.targets(viewer, &selection)?;
        let missing: Vec<String> =
            args.id.iter().filter(|id| !selected.iter().any(|t| t.id == **id)).map(|id| format!("#{id}")).collect();
        if !missing.is_empty() {
            eprintln!("cordon: no such target (or not selected): {}", missing.join(", "));
        }
        SelectionSummary::from(&app.transition(viewer, &selected, args.to, args.reason, &actor)?)
    };
    println!("{} target(s) moved to {}", result.applied, args.to);
    for (why, refused) in &result.refused {
        let shown: Vec<String> = refused.first.iter().map(|id| format!("#{id}")).collect();
        let more = refused.count.saturating_sub(shown.len() as u64);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        eprintln!("cordon: refused {}{more}: {why}", shown.join(", "));
    }
    Ok(if result.refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn add_outcome(app: &App, viewer: &Viewer, args: &OutcomeArgs) -> anyhow::Result<ExitCode> {
    let operation = app.operation(&args.operation)?;
    let outcome = Outcome {
        operation_id: operation.id,
        country: args.country.clone(),
        kind: args.kind.clone(),
        count: args.count,
        date: args.date.unwrap_or_else(now),
        note: args.note.clone(),
    };
    app.add_outcome(viewer, &outcome)?;
    let country = args.country.trim().to_ascii_uppercase();
    let mut out = human();
    writeln!(out, "recorded {} × {} in {country} for operation '{}'", outcome.count, outcome.kind, operation.name)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn list_outcomes(app: &App, viewer: &Viewer, args: &OutcomeListArgs) -> anyhow::Result<ExitCode> {
    let operation = app.operation(&args.operation)?;
    let (mut json, mut out) = (stdout(), human());
    for o in app.outcomes(viewer, &operation)? {
        if args.json {
            json_line(&mut json, &OutcomeView::from(&o))?;
        } else {
            writeln!(out, "{}\t{}\t{}\t{}\t{}", format_timestamp(o.date), o.country, o.kind, o.count, o.note)?;
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn report(app: &App, viewer: &Viewer, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let operation = app.operation(&args.operation)?;
    let report = app.report(viewer, &operation)?;
    if args.json {
        let mut out = stdout();
        json_line(&mut out, &report)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = human();
    write!(out, "{}", cordon_ops::report::text(&report))?;
    if let Some(path) = &args.html {
        std::fs::write(path, cordon_ops::report::html(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(out, "wrote {}", path.display())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
