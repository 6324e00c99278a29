//! Commands on enrichment and routing: `enrich`, `allow`, `contacts`,
//! `route`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cordon_app::protect::{contact_row, RouteAnswer};
use cordon_enrich::Contact;
use serde_json::{json, Value};

use crate::cli::{Cli, JsonArg};
use crate::output::{clean, human, json_line, stdout};

/// `cordon allow`: networks and domains that must never be taken down.
#[derive(Args, Debug)]
pub(crate) struct AllowArgs {
    #[command(subcommand)]
    command: AllowCommand,
}

#[derive(Subcommand, Debug)]
enum AllowCommand {
    /// Allowlist an address, CIDR or domain (a domain covers its subdomains).
    Add {
        /// The address, CIDR or domain.
        value: String,
        /// Why it must never be acted on.
        #[arg(long)]
        reason: String,
    },
    /// List the allowlist.
    List(JsonArg),
    /// Remove an entry.
    Remove {
        /// The entry as listed.
        value: String,
    },
}

/// `cordon contacts`: provider abuse desks and national agencies.
#[derive(Args, Debug)]
pub(crate) struct ContactsArgs {
    #[command(subcommand)]
    command: ContactsCommand,
}

#[derive(Subcommand, Debug)]
enum ContactsCommand {
    /// Replace the contacts with a CSV `kind,key,name,email[,pgp_fingerprint][,language]`
    /// (kind: prefix, asn or country; a country row is its national agency).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the contacts.
    List(JsonArg),
}

/// `cordon route VALUE`.
#[derive(Args, Debug)]
pub(crate) struct RouteArgs {
    /// An IP, CIDR, domain or URL (domains and URLs route through the IPs
    /// the feeds linked to them).
    value: String,
    /// One JSON object per address.
    #[arg(long)]
    json: bool,
}

pub(crate) fn enrich(cli: &Cli, args: &JsonArg) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let mut bar = crate::progress::counter("enriching");
    let summary = app.enrich(&viewer, &mut |done, total| bar.update(done, total))?;
    bar.finish();
    if args.json {
        let mut out = stdout();
        json_line(&mut out, &summary)?;
        out.flush()?;
    } else {
        let mut out = human();
        writeln!(out, "{} indicators enriched, {} in no known network", summary.indicators, summary.unknown_network)?;
        for (flag, n) in &summary.flagged {
            writeln!(out, "  flagged {flag}: {n}")?;
        }
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn allow(cli: &Cli, args: &AllowArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    match &args.command {
        AllowCommand::Add { value, reason } => {
            let canonical = app.allow_add(&viewer, value, reason)?;
            writeln!(out, "allowlisted {canonical}")?;
        }
        AllowCommand::List(as_json) => {
            for e in app.allowlist(&viewer)? {
                if as_json.json {
                    let added = cordon_model::format_timestamp(e.added);
                    json_line(&mut json, &json!({"value": e.value, "reason": e.reason, "added": added}))?;
                } else {
                    writeln!(out, "{}\t{}", e.value, e.reason)?;
                }
            }
        }
        AllowCommand::Remove { value } => {
            let canonical = app.allow_remove(&viewer, value)?;
            writeln!(out, "removed {canonical}")?;
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn contact_json(c: &Contact) -> Value {
    let row = contact_row(c);
    json!({"kind": row.kind, "key": row.key, "name": row.name, "email": row.email,
           "pgp_fingerprint": row.pgp_fingerprint, "language": row.language})
}

pub(crate) fn contacts(cli: &Cli, args: &ContactsArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    match &args.command {
        ContactsCommand::Import { file, json: as_json } => {
            let name = file.display().to_string();
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cordon: {}: {e}", clean(&name));
                    return Ok(ExitCode::from(crate::EXIT_INPUT));
                }
            };
            let imported = app.import_contacts(&viewer, &name, &text)?;
            if *as_json {
                let obj = json!({"path": name, "contacts": imported.contacts, "errors": imported.problems});
                json_line(&mut json, &obj)?;
            } else {
                let problems = imported.problems.len();
                writeln!(out, "{name}: {} contacts imported, {problems} rows with problems", imported.contacts)?;
                for p in &imported.problems {
                    writeln!(out, "  {p}")?;
                }
            }
        }
        ContactsCommand::List(as_json) => {
            let book = app.contacts(&viewer)?;
            for c in book.contacts() {
                if as_json.json {
                    json_line(&mut json, &contact_json(c))?;
                } else {
                    let row = contact_row(c);
                    writeln!(out, "{}\t{}\t{}\t{}", row.kind, row.key, row.name, row.email)?;
                }
            }
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn route(cli: &Cli, args: &RouteArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let answers = app.route(&viewer, &args.value)?;
    let (mut json, mut out) = (stdout(), human());
    for RouteAnswer { ip, enrichment, route } in answers {
        let contact = |c: &Option<Contact>| c.as_ref().map(contact_json);
        if args.json {
            let obj = json!({
                "ip": ip.to_string(), "network": enrichment.network, "asn": route.asn, "as_org": route.as_org,
                "country": route.country.map(|c| c.to_string()), "hosting": route.hosting.as_str(),
                "flags": cordon_app::view::flags(&enrichment.flags), "provider_contact": contact(&route.provider_contact),
                "agency": contact(&route.agency),
            });
            json_line(&mut json, &obj)?;
        } else {
            writeln!(
                out,
                "{ip}\t{}\tAS{} {}\t{}\t{}",
                enrichment.network.as_deref().unwrap_or("-"),
                route.asn.map_or_else(|| "?".into(), |a| a.to_string()),
                route.as_org.as_deref().unwrap_or("-"),
                route.country.map_or_else(|| "-".into(), |c| c.to_string()),
                route.hosting
            )?;
            for (flag, reason) in &enrichment.flags {
                writeln!(out, "  flag {flag}: {reason}")?;
            }
            if let Some(c) = &route.provider_contact {
                writeln!(out, "  provider: {} <{}> ({})", c.name, c.email, c.key)?;
            }
            if let Some(c) = &route.agency {
                writeln!(out, "  agency:   {} <{}>", c.name, c.email)?;
            }
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
