//! `cordon geo`: compile the free IP→ASN/country data into the snapshot
//! file, and look addresses up. The data itself is fetched by
//! scripts/fetch-geodata.sh in cordon's source tree: cordon never runs a
//! script it finds on disk.
//!
//! The library work is in `cordon-enrich`; this module only finds files,
//! decides exit codes and prints. Policy: `import` writes the snapshot when
//! at least one range was read, prints every diagnostic, and exits 1 when a
//! file was unreadable or a row malformed (overlaps, unsorted rows and
//! unknown country codes are warnings: the real data has a few). `lookup`
//! exits 1 when an argument is not an address.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use cordon_enrich::{
    ip_flags, Allowlist, Contact, ContactBook, Diagnostic, DiagnosticKind, FlagConfig, GeoDb, Hosting, HostingTable,
    Import, Location,
};
use serde_json::{json, Value};

use crate::output::{json_line, stdout};

/// Arguments of `cordon geo`.
#[derive(clap::Args, Debug)]
pub(crate) struct GeoArgs {
    #[command(subcommand)]
    command: GeoCommand,
}

/// The `cordon geo` subcommands.
#[derive(clap::Subcommand, Debug)]
enum GeoCommand {
    /// Compile CSV range files and MaxMind DB files into the snapshot.
    ///
    /// A directory stands for its *.csv and *.mmdb files; in a directory,
    /// a `-num.csv` file is skipped when the same file without `-num` is there
    /// (they hold the same rows).
    Import {
        /// Files or directories, read in this order (later wins on overlaps
        /// of equal width; the narrower range always wins).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Look addresses up in the snapshot: ASN, organisation, country,
    /// hosting type, flags and (with --contacts) whom to tell.
    Lookup {
        /// Addresses to look up.
        #[arg(required = true)]
        ips: Vec<String>,
        /// A CSV `asn,hosting,name` extending the built-in hosting table.
        #[arg(long)]
        hosting: Option<PathBuf>,
        /// A CSV `entry,reason` of networks and domains never to act on.
        #[arg(long)]
        allowlist: Option<PathBuf>,
        /// A CSV `kind,key,name,email[,pgp_fingerprint][,language]` of abuse contacts.
        #[arg(long)]
        contacts: Option<PathBuf>,
        /// Print one JSON object per address instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `cordon geo`; `snapshot` is the configured snapshot file.
pub(crate) fn run(args: &GeoArgs, snapshot: &Path) -> anyhow::Result<ExitCode> {
    match &args.command {
        GeoCommand::Import { paths, json } => import(paths, snapshot, *json),
        GeoCommand::Lookup { ips, hosting, allowlist, contacts, json } => {
            let tables = Tables::load(hosting.as_deref(), allowlist.as_deref(), contacts.as_deref())?;
            lookup(ips, snapshot, &tables, *json)
        }
    }
}

/// The input files `paths` stand for, in order.
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "mmdb"))
            .collect();
        found.sort();
        let plain_exists = |p: &Path| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.strip_suffix("-num.csv").is_some_and(|stem| p.with_file_name(format!("{stem}.csv")).is_file())
        };
        files.extend(found.into_iter().filter(|p| !plain_exists(p)));
    }
    Ok(files)
}

fn diagnostic_json(d: &Diagnostic) -> Value {
    let (line, network) = match &d.location {
        Location::File => (None, None),
        Location::Line(line) => (Some(*line), None),
        Location::Network(net) => (None, Some(net.as_str())),
    };
    json!({"file": d.file, "line": line, "network": network, "kind": d.kind.key(), "message": d.message})
}

fn import(paths: &[PathBuf], snapshot: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let files = expand(paths)?;
    let mut import = Import::new();
    for file in &files {
        import.add_path(file);
    }
    let report = import.finish();
    let used: u64 = report.files.iter().map(|f| f.used).sum();
    if used == 0 {
        for d in &report.diagnostics {
            eprintln!("{d}");
        }
        anyhow::bail!("no usable range in {} file(s); snapshot {} left unchanged", files.len(), snapshot.display());
    }
    cordon_enrich::write_snapshot(snapshot, &report.snapshot)?;
    let fatal =
        report.diagnostics.iter().any(|d| matches!(d.kind, DiagnosticKind::Malformed | DiagnosticKind::Unreadable));
    let mut out = stdout();
    if as_json {
        let value = json!({
            "snapshot": snapshot.display().to_string(),
            "bytes": report.snapshot.len(),
            "v4_segments": report.v4_segments,
            "v6_segments": report.v6_segments,
            "files": report.files.iter().map(|f| json!({"file": f.name, "format": f.format, "used": f.used})).collect::<Vec<_>>(),
            "diagnostics": report.diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
        });
        json_line(&mut out, &value)?;
    } else {
        for f in &report.files {
            writeln!(out, "{}: {} {} used", f.name, f.used, if f.format == "mmdb" { "networks" } else { "rows" })?;
        }
        for d in &report.diagnostics {
            writeln!(out, "{d}")?;
        }
        writeln!(
            out,
            "wrote {} ({} bytes): {} IPv4 and {} IPv6 segments, {} diagnostics",
            snapshot.display(),
            report.snapshot.len(),
            report.v4_segments,
            report.v6_segments,
            report.diagnostics.len()
        )?;
        writeln!(out, "indicators already stored keep their enrichment until `cordon enrich` is run")?;
    }
    out.flush()?;
    Ok(if fatal { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The optional user tables of `lookup`.
struct Tables {
    hosting: HostingTable,
    allowlist: Allowlist,
    contacts: Option<ContactBook>,
}

impl Tables {
    /// Reads the user tables; bad rows are printed to stderr and skipped.
    fn load(hosting: Option<&Path>, allowlist: Option<&Path>, contacts: Option<&Path>) -> anyhow::Result<Tables> {
        let read =
            |path: &Path| std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
        let warn = |diagnostics: Vec<Diagnostic>| diagnostics.iter().for_each(|d| eprintln!("{d}"));
        let hosting = match hosting {
            Some(path) => {
                let (table, diagnostics) = HostingTable::with_user_csv(&path.display().to_string(), &read(path)?);
                warn(diagnostics);
                table
            }
            None => HostingTable::builtin(),
        };
        let allowlist = match allowlist {
            Some(path) => {
                let (list, diagnostics) = Allowlist::from_csv(&path.display().to_string(), &read(path)?);
                warn(diagnostics);
                list
            }
            None => Allowlist::default(),
        };
        let contacts = match contacts {
            Some(path) => {
                let (book, diagnostics) = ContactBook::from_csv(&path.display().to_string(), &read(path)?);
                warn(diagnostics);
                Some(book)
            }
            None => None,
        };
        Ok(Tables { hosting, allowlist, contacts })
    }
}

fn contact_json(contact: &Contact) -> Value {
    json!({
        "matched": contact.key.to_string(),
        "name": contact.name,
        "email": contact.email,
        "pgp_fingerprint": contact.pgp_fingerprint,
        "language": contact.language,
    })
}

fn lookup(ips: &[String], snapshot: &Path, tables: &Tables, as_json: bool) -> anyhow::Result<ExitCode> {
    let db = GeoDb::load(snapshot).with_context(|| format!("cannot load the geo snapshot {}", snapshot.display()))?;
    let config = FlagConfig::new(&tables.allowlist);
    let mut out = stdout();
    let mut bad = false;
    for raw in ips {
        let Ok(ip) = raw.trim().parse::<IpAddr>() else {
            eprintln!("{raw}: not an IP address");
            bad = true;
            continue;
        };
        let info = db.lookup(ip);
        let hosting = info.and_then(|i| i.asn).map_or(Hosting::Unknown, |asn| tables.hosting.classify(asn));
        let flags = ip_flags(ip, info.as_ref(), hosting, 0, &config);
        let route = tables.contacts.as_ref().map(|book| book.route(ip, info.as_ref(), hosting));
        if as_json {
            let value = json!({
                "ip": ip.to_string(),
                "network": info.map(|i| format!("{}-{}", i.first, i.last)),
                "asn": info.and_then(|i| i.asn),
                "as_org": info.and_then(|i| i.org),
                "country": info.and_then(|i| i.country).map(|c| c.to_string()),
                "hosting": hosting.as_str(),
                "flags": flags.iter().map(|f| json!({"flag": f.kind.key(), "reason": f.reason})).collect::<Vec<_>>(),
                "provider_contact": route.as_ref().and_then(|r| r.provider_contact.as_ref()).map(contact_json),
                "agency": route.as_ref().and_then(|r| r.agency.as_ref()).map(contact_json),
            });
            json_line(&mut out, &value)?;
            continue;
        }
        let dash = || "-".to_string();
        writeln!(
            out,
            "{ip}\t{}\t{}\t{}\t{hosting}\t{}",
            info.and_then(|i| i.asn).map_or_else(dash, |a| format!("AS{a}")),
            info.and_then(|i| i.org).unwrap_or("-"),
            info.and_then(|i| i.country).map_or_else(dash, |c| c.to_string()),
            info.map_or_else(dash, |i| format!("{}-{}", i.first, i.last)),
        )?;
        for flag in &flags {
            writeln!(out, "  {flag}")?;
        }
        if let Some(route) = &route {
            for (role, contact) in [("provider", &route.provider_contact), ("agency", &route.agency)] {
                if let Some(c) = contact {
                    writeln!(out, "  {role}: {} <{}> ({})", c.name, c.email, c.key)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(if bad { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
