//! `cordon export`: the store's indicators in the formats defenders load
//! (blocklists, firewall scripts, IDS rules, DNS zones, STIX, MISP, MaxMind
//! DB). The selection is the application layer's
//! ([`cordon_app::App::export_entries`]); this module picks the output and
//! prints the summary; the writers are in cordon-export.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use cordon_app::exports::{ExportSelection, Omitted};
use cordon_export::{Format, Options, Summary};
use cordon_model::{parse_timestamp, Timestamp, Tlp};
use serde_json::json;

use crate::cli::{Cli, IndicatorSelection};

/// `cordon export --format F [-o PATH]`.
#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// The format: plain, cidr, csv, jsonl, nft, ipset, iptables, ip6tables,
    /// suricata, rpz, hosts, stix, misp (a feed directory) or mmdb (a MaxMind
    /// DB). Formats that cannot carry a kind leave it out (see the summary).
    #[arg(long, value_name = "FORMAT")]
    pub(crate) format: Format,
    /// Where to write (default: standard output). Required for misp (a
    /// directory, created if missing) and mmdb. A file is written beside PATH
    /// and renamed over it, so readers never see half an export.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) selection: IndicatorSelection,
    /// Only indicators whose combined confidence is at least N (0-100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub(crate) min_confidence: Option<u8>,
    /// Only indicators last seen on or after DATE (2024-03-11, RFC 3339 or
    /// Unix seconds).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) since: Option<Timestamp>,
    /// The most restrictive TLP exported: sightings above it are not shown
    /// and indicators with none left are not exported. Default green: the
    /// most that may go to a community of defenders (never public channels;
    /// use clear for those). Raise it only for your own organisation.
    #[arg(long, default_value = "green", value_name = "TLP")]
    pub(crate) tlp_max: Tlp,
    /// Also export indicators flagged "do not take down" (CDNs, public
    /// resolvers, shared hosting, allowlisted, bogons); by default they are
    /// left out and counted in the summary.
    #[arg(long)]
    pub(crate) include_flagged: bool,
    /// Print the summary (on standard error) as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs `cordon export`. The summary goes to standard error, since the
/// export itself may be on standard output. `SOURCE_DATE_EPOCH`, when set,
/// is the export's generation time (reproducible exports).
pub(crate) fn run(cli: &Cli, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let needs_path = args.format.is_directory() || args.format.is_binary();
    if needs_path && args.output.is_none() {
        eprintln!("cordon: the {} format needs -o PATH", args.format);
        return Ok(ExitCode::from(crate::EXIT_INPUT));
    }
    let (app, viewer) = cli.open()?;
    let selection = ExportSelection {
        filter: args.selection.filter(viewer, args.tlp_max),
        min_confidence: args.min_confidence,
        since: args.since,
        include_flagged: args.include_flagged,
    };
    let options = Options::new(generation_time()?);
    let mut omitted = Omitted::default();
    let mut export = |out: &mut dyn Write| -> anyhow::Result<Summary> {
        let summary;
        (summary, omitted) = app.write_export(&selection, args.format, &options, out)?;
        Ok(summary)
    };
    let summary = match &args.output {
        Some(path) if args.format.is_directory() => {
            let entries;
            (entries, omitted) = app.export_entries(&selection)?;
            cordon_export::write_misp_feed(&entries, &options, path)
                .with_context(|| format!("cannot export to {}", path.display()))?
        }
        Some(path) => write_file(&mut export, path)?,
        None => {
            let stdout = std::io::stdout();
            if args.format.is_binary() && stdout.is_terminal() {
                eprintln!("cordon: the {} format is binary; use -o PATH", args.format);
                return Ok(ExitCode::from(crate::EXIT_INPUT));
            }
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            export(&mut out)?
        }
    };
    report(args, &omitted, &summary);
    Ok(ExitCode::SUCCESS)
}

/// Writes an export to `path` through a temporary file beside it, renamed
/// over `path` once complete.
fn write_file(
    export: &mut dyn FnMut(&mut dyn Write) -> anyhow::Result<Summary>,
    path: &Path,
) -> anyhow::Result<Summary> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let written = export(&mut out)
        .and_then(|summary| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(summary)
        })
        .and_then(|summary| std::fs::rename(&partial, path).map(|()| summary).map_err(anyhow::Error::from));
    if written.is_err() {
        // Best effort: the error that matters is the one being returned.
        let _ = std::fs::remove_file(&partial);
    }
    written.with_context(|| format!("cannot export to {}", path.display()))
}

/// Prints the summary on standard error.
fn report(args: &ExportArgs, omitted: &Omitted, summary: &Summary) {
    let by_kind: BTreeMap<&str, u64> = summary.exported.iter().map(|(kind, n)| (kind.as_str(), *n)).collect();
    let output = args.output.as_ref().map(|p| p.display().to_string());
    if args.json {
        let obj = json!({
            "format": args.format.as_str(),
            "output": output,
            "tlp_max": args.tlp_max.as_str(),
            "read": omitted.read,
            "filtered_out": omitted.filtered,
            "flagged_out": omitted.flagged,
            "flagged_by_reason": omitted.by_flag,
            "exported": summary.total(),
            "by_kind": by_kind,
            "skipped": summary.skipped,
        });
        eprintln!("{obj}");
        return;
    }
    let kinds: Vec<String> = by_kind.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    let kinds = if kinds.is_empty() { String::new() } else { format!(" ({})", kinds.join(", ")) };
    let to = output.map_or_else(String::new, |p| format!(" to {p}"));
    eprintln!("cordon: exported {} indicators{kinds} as {}{to}", summary.total(), args.format);
    if summary.skipped > 0 {
        eprintln!("cordon: {} indicators left out: the {} format cannot carry them", summary.skipped, args.format);
    }
    if omitted.filtered > 0 {
        eprintln!("cordon: {} indicators below --min-confidence or older than --since", omitted.filtered);
    }
    if omitted.flagged > 0 {
        let reasons: Vec<String> = omitted.by_flag.iter().map(|(flag, n)| format!("{flag} {n}")).collect();
        eprintln!(
            "cordon: {} flagged indicators left out ({}); --include-flagged exports them",
            omitted.flagged,
            reasons.join(", ")
        );
    }
}

/// The export's generation time: `SOURCE_DATE_EPOCH` when set, else now.
fn generation_time() -> anyhow::Result<Timestamp> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return epoch.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH '{epoch}' is not Unix seconds"));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).context("the clock is before 1970")?;
    Ok(now.as_secs() as Timestamp)
}

fn parse_date(s: &str) -> Result<Timestamp, String> {
    parse_timestamp(s).ok_or_else(|| format!("'{s}' is not a date (2024-03-11, RFC 3339 or Unix seconds)"))
}
