//! Commands on enrichment and routing: `enrich`, `allow`, `contacts`,
//! `route`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use cordon_enrich::{Contact, ContactBook, ContactKey};
use cordon_model::{normalize, Observable};
use cordon_store::enrichment::{ContactRow, EnrichmentStore};
use cordon_store::{IndicatorFilter, SqliteStore, Store};
use serde_json::{json, Value};

use crate::cli::{Cli, JsonArg};
use crate::enrichment::{enrich_store, load_contacts, EnrichSummary, Enricher, Scope};
use crate::output::{flags_json, json_line, stdout};
use crate::query::open_store;

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

/// Re-runs enrichment after data changed, when a snapshot exists; returns
/// the summary, or `None` without a snapshot.
pub(crate) fn refresh(cli: &Cli, store: &mut SqliteStore, scope: &Scope) -> anyhow::Result<Option<EnrichSummary>> {
    let snapshot = cli.geo_snapshot();
    if !snapshot.exists() {
        return Ok(None);
    }
    enrich_store(store, &snapshot, scope).map(Some)
}

pub(crate) fn enrich(cli: &Cli, args: &JsonArg) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    let summary = enrich_store(&mut store, &cli.geo_snapshot(), &Scope::All)?;
    let mut out = stdout();
    if args.json {
        let obj = json!({"indicators": summary.indicators, "unknown_network": summary.unknown_network,
                         "flagged": summary.flagged});
        json_line(&mut out, &obj)?;
    } else {
        writeln!(out, "{} indicators enriched, {} in no known network", summary.indicators, summary.unknown_network)?;
        for (flag, n) in &summary.flagged {
            writeln!(out, "  flagged {flag}: {n}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn allow(cli: &Cli, args: &AllowArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    let mut out = stdout();
    match &args.command {
        AllowCommand::Add { value, reason } => {
            let canonical = match allow_value(value) {
                Ok(v) => v,
                Err(message) => {
                    eprintln!("cordon: {message}");
                    return Ok(ExitCode::from(crate::EXIT_INPUT));
                }
            };
            store.allow_add(&canonical, reason)?;
            refresh(cli, &mut store, &Scope::All)?;
            writeln!(out, "allowlisted {canonical}")?;
        }
        AllowCommand::List(json) => {
            for e in store.allowlist()? {
                if json.json {
                    json_line(
                        &mut out,
                        &json!({"value": e.value, "reason": e.reason,
                        "added": cordon_model::format_timestamp(e.added)}),
                    )?;
                } else {
                    writeln!(out, "{}\t{}", e.value, e.reason)?;
                }
            }
        }
        AllowCommand::Remove { value } => {
            let canonical = allow_value(value).unwrap_or_else(|_| value.clone());
            if !store.allow_remove(&canonical)? {
                eprintln!("cordon: {canonical} is not in the allowlist");
                return Ok(ExitCode::from(1));
            }
            refresh(cli, &mut store, &Scope::All)?;
            writeln!(out, "removed {canonical}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The canonical allowlist form of an address, CIDR or domain.
fn allow_value(raw: &str) -> Result<String, String> {
    let normalized = normalize(raw).map_err(|e| e.to_string())?;
    match normalized.observables.as_slice() {
        [Observable::Url(_)] => Err(format!("'{raw}' is a URL: allowlist its host instead")),
        [one] => Ok(one.to_string()),
        _ => Err(format!("'{raw}' is a range of several networks: allowlist them one by one")),
    }
}

fn contact_row(c: &Contact) -> ContactRow {
    let (kind, key) = match c.key {
        ContactKey::Prefix(net) => ("prefix", net.to_string()),
        ContactKey::Asn(asn) => ("asn", asn.to_string()),
        ContactKey::Country(country) => ("country", country.to_string()),
    };
    ContactRow {
        kind: kind.into(),
        key,
        name: c.name.clone(),
        email: c.email.clone(),
        pgp_fingerprint: c.pgp_fingerprint.clone(),
        language: c.language.clone(),
    }
}

fn contact_json(c: &Contact) -> Value {
    let row = contact_row(c);
    json!({"kind": row.kind, "key": row.key, "name": row.name, "email": row.email,
           "pgp_fingerprint": row.pgp_fingerprint, "language": row.language})
}

pub(crate) fn contacts(cli: &Cli, args: &ContactsArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    let mut out = stdout();
    match &args.command {
        ContactsCommand::Import { file, json } => {
            let name = file.display().to_string();
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cordon: {name}: {e}");
                    return Ok(ExitCode::from(crate::EXIT_INPUT));
                }
            };
            let (book, diagnostics) = ContactBook::from_csv(&name, &text);
            let rows: Vec<ContactRow> = book.contacts().map(contact_row).collect();
            store.replace_contacts(&rows)?;
            let problems: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            if *json {
                json_line(&mut out, &json!({"path": name, "contacts": rows.len(), "errors": problems}))?;
            } else {
                writeln!(out, "{name}: {} contacts imported, {} rows with problems", rows.len(), problems.len())?;
                for p in &problems {
                    writeln!(out, "  {p}")?;
                }
            }
        }
        ContactsCommand::List(json) => {
            let book = load_contacts(&store)?;
            for c in book.contacts() {
                if json.json {
                    json_line(&mut out, &contact_json(c))?;
                } else {
                    let row = contact_row(c);
                    writeln!(out, "{}\t{}\t{}\t{}", row.kind, row.key, row.name, row.email)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn route(cli: &Cli, args: &RouteArgs) -> anyhow::Result<ExitCode> {
    let normalized = match normalize(&args.value) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("cordon: {e}");
            return Ok(ExitCode::from(crate::EXIT_INPUT));
        }
    };
    let store = open_store(cli)?;
    let enricher = Enricher::load(&store, &cli.geo_snapshot())?;
    let contacts = load_contacts(&store)?;
    let mut ips: Vec<IpAddr> = Vec::new();
    for observable in &normalized.observables {
        match observable {
            Observable::Ip(ip) => ips.push(*ip),
            Observable::Net(net) => ips.push(net.network()),
            other => {
                if let Some(Observable::Ip(ip)) = other.url_host() {
                    ips.push(ip);
                }
                ips.extend(linked_ips(&store, &other.to_string())?);
            }
        }
    }
    ips.sort();
    ips.dedup();
    if ips.is_empty() {
        eprintln!("cordon: no address is known for {} (no feed linked one to it)", args.value);
        return Ok(ExitCode::from(1));
    }
    let mut out = stdout();
    for ip in ips {
        let route = enricher.route(&contacts, ip);
        let enrichment = enricher.enrich_ip(ip, 0);
        let contact = |c: &Option<Contact>| c.as_ref().map(contact_json);
        if args.json {
            let obj = json!({
                "ip": ip.to_string(), "network": enrichment.network, "asn": route.asn, "as_org": route.as_org,
                "country": route.country.map(|c| c.to_string()), "hosting": route.hosting.as_str(),
                "flags": flags_json(&enrichment.flags), "provider_contact": contact(&route.provider_contact),
                "agency": contact(&route.agency),
            });
            json_line(&mut out, &obj)?;
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
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The addresses the feeds linked to a domain or URL, directly or through
/// one observable in between (a domain and an IP seen in one URL).
fn linked_ips(store: &SqliteStore, value: &str) -> anyhow::Result<Vec<IpAddr>> {
    let linked = |v: &str| -> anyhow::Result<Vec<String>> {
        let detail = store.indicator(v, &IndicatorFilter::default()).context("reading the store")?;
        Ok(detail.map(|d| d.linked).unwrap_or_default())
    };
    let mut ips = Vec::new();
    for near in linked(value)? {
        match near.parse::<IpAddr>() {
            Ok(ip) => ips.push(ip),
            Err(_) => ips.extend(linked(&near)?.iter().filter_map(|v| v.parse::<IpAddr>().ok())),
        }
    }
    Ok(ips)
}
