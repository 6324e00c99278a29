//! `verify`, `package build` and `notify`: the steps that act outside the
//! hub (probing servers, writing packages and messages).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use cordon_app::{now, App};
use cordon_model::Viewer;
use cordon_ops::notify::NotifyConfig;
use cordon_ops::verify::VerifyConfig;
use cordon_ops::workflow::Actor;

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// Probes in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Timeout of each connect, TLS handshake, and request with its answer, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout: u64,
    /// Seconds two down checks must be apart for a target to count as verified.
    #[arg(long, default_value_t = 3600)]
    min_interval: i64,
    /// Move eligible targets to verified.
    #[arg(long)]
    apply: bool,
    /// Who verifies (recorded in the history).
    #[arg(long, default_value = "cordon-verify")]
    actor: String,
}

#[derive(Subcommand, Debug)]
pub(crate) enum PackageCommand {
    /// Write `DIR/<CC>/` for each country (or one): report.html, targets.csv,
    /// report.json, bundle.stix.json, manifest.json.
    Build(PackageArgs),
}

#[derive(Args, Debug)]
pub(crate) struct PackageArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// Only this country.
    #[arg(long)]
    country: Option<String>,
    /// The output directory.
    #[arg(long)]
    out: PathBuf,
    /// Who refers the targets (recorded in the history).
    #[arg(long, default_value = "cordon")]
    actor: String,
}

#[derive(Args, Debug)]
pub(crate) struct NotifyArgs {
    /// The operation.
    #[arg(long)]
    operation: String,
    /// Where to write the messages (one `.eml` file each).
    #[arg(long)]
    outbox: PathBuf,
    /// The sender's address.
    #[arg(long, default_value = "abuse-reports@cordon.invalid")]
    from: String,
    /// The sender's name.
    #[arg(long, default_value = "cordon coordination hub")]
    from_name: String,
    /// Days within which a contact is not told again about the same target.
    #[arg(long, default_value_t = 7)]
    interval_days: i64,
    /// Also send each message through this relay: smtp://HOST[:PORT] (plain
    /// SMTP, no authentication: a local relay).
    #[arg(long, value_name = "URL")]
    smtp: Option<String>,
    /// Who notifies (recorded in the history).
    #[arg(long, default_value = "cordon")]
    actor: String,
}

pub(crate) fn verify(app: &App, viewer: &Viewer, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let operation = app.operation(&args.operation)?;
    let config = VerifyConfig {
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_millis(args.timeout.max(1)),
        min_interval: args.min_interval,
    };
    let actor = Actor::new(&args.actor, now(), "down in two checks");
    let summary = app.verify(viewer, &operation, &config, args.apply, &actor)?;
    println!(
        "{} taken-down targets checked: {} still up, {} down; {} not probed ({} refused: they resolve to \
         loopback, private or other special-use addresses); {} eligible for verified{}",
        summary.checked,
        summary.up,
        summary.checked - summary.up,
        summary.skipped,
        summary.refused,
        summary.eligible.len(),
        if args.apply { format!(", {} verified", summary.verified) } else { " (--apply to verify)".to_string() }
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn package(app: &App, viewer: &Viewer, cmd: &PackageCommand) -> anyhow::Result<ExitCode> {
    let PackageCommand::Build(args) = cmd;
    let operation = app.operation(&args.operation)?;
    let actor = Actor::new(&args.actor, now(), "sent in an action package");
    let summary = app.build_packages(viewer, &operation, args.country.as_deref(), &args.out, &actor)?;
    for p in &summary.packages {
        println!(
            "{}\t{} targets\t{} sightings withheld by TLP\t{}",
            p.country,
            p.targets,
            p.withheld_sightings,
            p.dir.display()
        );
    }
    println!(
        "{} packages; {} targets referred; {} withheld (nothing shareable); {} without a country; {} not yet triaged",
        summary.packages.len(),
        summary.referred,
        summary.withheld_targets,
        summary.no_country,
        summary.untriaged
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn notify(app: &App, viewer: &Viewer, args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    let operation = app.operation(&args.operation)?;
    let config = NotifyConfig {
        outbox: args.outbox.clone(),
        from_name: args.from_name.clone(),
        from_address: args.from.clone(),
        interval: args.interval_days * 86_400,
        smtp: args.smtp.clone(),
    };
    let actor = Actor::new(&args.actor, now(), "provider notified");
    let summary = app.notify(viewer, &operation, &config, &actor)?;
    println!(
        "{} messages written to {}{}; {} targets notified; {} without a provider contact; {} told within the \
         interval; {} with nothing shareable",
        summary.messages.len(),
        args.outbox.display(),
        if args.smtp.is_some() { " and sent" } else { "" },
        summary.notified,
        summary.no_contact,
        summary.recently_notified,
        summary.nothing_shareable
    );
    Ok(ExitCode::SUCCESS)
}
