//! `cordon org` (the hub's community) and `cordon source` (which
//! organisation a source belongs to, and where its AMBER may go).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cordon_app::view::OrgView;
use cordon_model::{Consent, OrgKind};
use cordon_store::orgs::NewOrganisation;

use crate::cli::{Cli, JsonArg};
use crate::output::{human, json_line, stdout};

/// `cordon org`.
#[derive(Subcommand, Debug)]
pub(crate) enum OrgCommand {
    /// Add an organisation: a partner that submits, a national agency, a
    /// provider, a defender. (The hub organisation exists from the start.)
    Add(OrgAddArgs),
    /// List the organisations (as `--as ORG`: its own).
    List(JsonArg),
}

#[derive(Args, Debug)]
pub(crate) struct OrgAddArgs {
    /// Its unique name.
    name: String,
    /// partner, agency, provider or defender.
    #[arg(long)]
    kind: OrgKind,
    /// For an agency: the country it acts for (ISO code). An agency needs
    /// to know about indicators in its country.
    #[arg(long, value_name = "CC")]
    country: Option<String>,
    /// For a provider: an AS number of its networks (repeatable). A
    /// provider needs to know about indicators in its networks.
    #[arg(long = "asn", value_name = "N")]
    asns: Vec<u32>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `cordon source`.
#[derive(Subcommand, Debug)]
pub(crate) enum SourceCommand {
    /// Move a source to an organisation (a new source belongs to a partner
    /// organisation of its own name).
    Set(SourceSetArgs),
    /// Record where a partner's AMBER sightings may go: to national agencies
    /// (in their country's packages) and to providers (in notifications
    /// about their networks). AMBER+STRICT and RED never leave the hub.
    Consent(ConsentArgs),
}

#[derive(Args, Debug)]
pub(crate) struct SourceSetArgs {
    /// The source.
    name: String,
    /// The organisation it belongs to.
    #[arg(long)]
    org: String,
}

#[derive(Args, Debug)]
pub(crate) struct ConsentArgs {
    /// The source (partner) name.
    name: String,
    /// `agencies`, `providers`, both (`agencies,providers`) or `none`.
    #[arg(long, value_name = "CLASSES", value_parser = parse_consent)]
    amber_to: Consent,
}

fn parse_consent(raw: &str) -> Result<Consent, String> {
    let mut consent = Consent::default();
    for class in raw.split(',').map(|c| c.trim().to_ascii_lowercase()) {
        match class.as_str() {
            "none" => {}
            "agencies" | "agency" => consent.agencies = true,
            "providers" | "provider" => consent.providers = true,
            _ => return Err(format!("'{class}' is no recipient class (expected agencies, providers or none)")),
        }
    }
    Ok(consent)
}

pub(crate) fn org(cli: &Cli, cmd: &OrgCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    match cmd {
        OrgCommand::Add(args) => {
            let new = NewOrganisation {
                name: args.name.clone(),
                kind: args.kind,
                country: args.country.clone(),
                asns: args.asns.clone(),
            };
            let org = app.add_org(&viewer, &new)?;
            if args.json {
                json_line(&mut json, &OrgView::from(&org))?;
            } else {
                writeln!(out, "organisation '{}' (#{}, {})", org.name, org.id, org.kind)?;
            }
        }
        OrgCommand::List(args) => {
            for org in app.orgs(&viewer)? {
                if args.json {
                    json_line(&mut json, &OrgView::from(&org))?;
                } else {
                    let asns: Vec<String> = org.asns.iter().map(|a| format!("AS{a}")).collect();
                    let country = org.country.as_deref().unwrap_or("-");
                    writeln!(out, "{}\t{}\t{country}\t{}", org.name, org.kind, asns.join(","))?;
                }
            }
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn source(cli: &Cli, cmd: &SourceCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let mut out = human();
    match cmd {
        SourceCommand::Set(args) => {
            app.set_source_org(&viewer, &args.name, &args.org)?;
            writeln!(out, "source '{}' belongs to '{}'", args.name, args.org)?;
        }
        SourceCommand::Consent(args) => {
            app.set_consent(&viewer, &args.name, args.amber_to)?;
            let to: Vec<&str> = [(args.amber_to.agencies, "national agencies"), (args.amber_to.providers, "providers")]
                .into_iter()
                .filter_map(|(on, who)| on.then_some(who))
                .collect();
            let to = if to.is_empty() { "nobody outside the hub".to_string() } else { to.join(" and ") };
            writeln!(out, "{}'s AMBER sightings may go to {to}", args.name)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
