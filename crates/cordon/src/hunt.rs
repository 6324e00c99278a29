//! `cordon lookup` (is this address listed, and why?) and `cordon scan`
//! (which log lines mention a listed address?).

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use clap::Args;
use cordon_model::Tlp;
use cordon_netset::IpSet;
use cordon_scan::{Hit, Input, Scanner};
use serde_json::{json, Value};

use crate::cli::Cli;
use crate::listing::{from_lists, store_set, Entry, StoreIndex};
use crate::output::{json_line, stdout};

/// `cordon lookup`.
#[derive(Args, Debug)]
pub(crate) struct LookupArgs {
    /// Addresses to look up (default: one per line on standard input).
    #[arg(value_name = "IP")]
    ips: Vec<String>,
    /// See only sightings up to this TLP.
    #[arg(long, default_value = "red")]
    tlp_max: Tlp,
    /// One JSON object per address.
    #[arg(long)]
    json: bool,
}

/// `cordon scan`.
#[derive(Args, Debug)]
pub(crate) struct ScanArgs {
    /// Logs to scan: regular files (memory-mapped, both cores), `.gz` files,
    /// pipes, FIFOs or `-` for standard input (the default). Streams are read
    /// once; their lines over 64 KiB are skipped with a warning.
    #[arg(value_name = "LOG")]
    logs: Vec<String>,
    /// Match against these lists (any format `ingest` reads) instead of the
    /// store's indicators.
    #[arg(long = "list", value_name = "FILE")]
    lists: Vec<String>,
    /// Print only the number of matching lines.
    #[arg(long, conflicts_with = "json")]
    count: bool,
    /// One JSON object per hit: {"file","line","ip","indicator","categories","sources"}.
    #[arg(long)]
    json: bool,
    /// With the store, see only sightings up to this TLP.
    #[arg(long, default_value = "red")]
    tlp_max: Tlp,
}

fn entry_json(e: &Entry) -> Value {
    json!({"indicator": e.indicator, "categories": e.categories, "sources": e.sources, "confidence": e.confidence})
}

pub(crate) fn lookup(cli: &Cli, args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    // "Do not take down" flags of the address itself (warninglists; the
    // allowlist for the hub): a listed resolver or scanner says so.
    let checker = app.flag_checker(&viewer)?;
    let index = StoreIndex::open(&app, viewer, &cli.db, args.tlp_max)?;
    let mut out = stdout();
    let mut bad = false;
    let mut answer = |raw: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(());
        }
        let Ok(ip) = raw.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else {
            eprintln!("cordon: '{raw}' is not an IP address");
            bad = true;
            return Ok(());
        };
        let matches = index.covering(ip)?;
        let kind = if ip.is_ipv4() { cordon_model::Kind::Ipv4 } else { cordon_model::Kind::Ipv6 };
        let flags = checker.flags(kind, &ip.to_string());
        let flagged: String = flags.iter().map(|f| format!("\tflagged {}: {}", f.flag, f.reason)).collect();
        if args.json {
            let obj = json!({"ip": ip.to_string(), "listed": !matches.is_empty(),
                             "matches": matches.iter().map(entry_json).collect::<Vec<_>>(), "flags": flags});
            serde_json::to_writer(&mut *out, &obj)?;
            Ok(writeln!(out)?)
        } else if matches.is_empty() {
            Ok(writeln!(out, "{ip}\tnot listed{flagged}")?)
        } else {
            for e in &matches {
                let confidence = e.confidence.map_or_else(String::new, |c| format!(" confidence {c}"));
                writeln!(
                    out,
                    "{ip}\tlisted\t{}\t{}\t{}{confidence}{flagged}",
                    e.indicator,
                    e.categories.join(","),
                    e.sources.join(",")
                )?;
            }
            Ok(())
        }
    };
    if args.ips.is_empty() {
        for line in std::io::stdin().lock().lines() {
            answer(&line?, &mut out)?;
        }
    } else {
        for ip in &args.ips {
            answer(ip, &mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::from(if bad { crate::EXIT_INPUT } else { 0 }))
}

/// The most specific listed indicator covering an address, for `--json`
/// hits.
type Explain<'a> = &'a dyn Fn(IpAddr) -> anyhow::Result<Option<Entry>>;

pub(crate) fn scan(cli: &Cli, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    if args.lists.is_empty() {
        // The store: the scanner needs only the set; explanations (for
        // `--json`) come from the lookup index and the store.
        let (app, viewer) = cli.open()?;
        let set = store_set(&app, viewer, &cli.db, args.tlp_max)?;
        let index = if args.json { Some(StoreIndex::open(&app, viewer, &cli.db, args.tlp_max)?) } else { None };
        let explain = |ip| match &index {
            Some(index) => Ok(index.covering(ip)?.into_iter().next()),
            None => Ok(None),
        };
        return scan_logs(args, &set, &explain);
    }
    let listing = match from_lists(&args.lists) {
        Ok(listing) => listing,
        Err(e) => match e.downcast_ref::<crate::lists::ListError>() {
            Some(list_error) => {
                eprintln!("cordon: {list_error}");
                return Ok(ExitCode::from(crate::EXIT_INPUT));
            }
            None => return Err(e),
        },
    };
    scan_logs(args, &listing.set, &|ip| Ok(listing.covering(ip).into_iter().next()))
}

/// Scans the logs of `args` for addresses in `set`.
fn scan_logs(args: &ScanArgs, set: &IpSet, explain: Explain<'_>) -> anyhow::Result<ExitCode> {
    let logs = if args.logs.is_empty() { vec!["-".to_string()] } else { args.logs.clone() };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scanner = Scanner::new(set);
    let mut out = stdout();
    let mut total = 0u64;
    let mut unreadable = false;
    for log in &logs {
        let input = match Input::open(log) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("cordon: {}", with_causes(&e));
                unreadable = true;
                continue;
            }
        };
        let mut write_error = None;
        let mut emit = |hit: &Hit, line: &[u8]| {
            if write_error.is_some() {
                return;
            }
            let result = if args.json {
                write_hits(&mut out, explain, log, hit)
            } else {
                write_line(&mut out, line).map_err(Into::into)
            };
            if let Err(e) = result {
                write_error = Some(e);
            }
        };
        match input.as_bytes() {
            Some(bytes) if args.count => total += scanner.count(bytes, threads),
            Some(bytes) => {
                let hits =
                    if args.json { scanner.hits(bytes, threads) } else { lines_as_hits(&scanner, bytes, threads) };
                total += hits.len() as u64;
                for hit in &hits {
                    emit(hit, &bytes[hit.line.start..hit.line.end]);
                }
            }
            None => {
                let Input::Stream(reader) = input else { continue };
                let counted = scanner.scan_reader(reader, args.json, |hit, line| {
                    if !args.count {
                        emit(hit, line);
                    }
                });
                match counted {
                    Ok(summary) => {
                        total += summary.matching_lines;
                        for line in &summary.first_overlong {
                            eprintln!("cordon: {log}:{line}: line longer than 64 KiB, not scanned");
                        }
                        let unlisted = summary.overlong_lines.saturating_sub(summary.first_overlong.len() as u64);
                        if unlisted > 0 {
                            eprintln!("cordon: {log}: {unlisted} more lines longer than 64 KiB, not scanned");
                        }
                    }
                    Err(e) => {
                        eprintln!("cordon: {log}: {}", with_causes(&e));
                        unreadable = true;
                    }
                }
            }
        }
        if let Some(e) = write_error {
            return Err(e);
        }
    }
    if args.count {
        writeln!(out, "{total}")?;
    }
    out.flush()?;
    Ok(ExitCode::from(if unreadable { crate::EXIT_INPUT } else { 0 }))
}

/// An error and its causes, `: `-separated (the scanner's errors keep the
/// I/O cause apart from their message).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Matching lines as hits without addresses (print mode needs only lines).
fn lines_as_hits(scanner: &Scanner<'_, cordon_netset::IpSet>, bytes: &[u8], threads: usize) -> Vec<Hit> {
    scanner.matching_lines(bytes, threads).into_iter().map(|line| Hit { line, addrs: Vec::new() }).collect()
}

fn write_line(out: &mut impl Write, line: &[u8]) -> std::io::Result<()> {
    out.write_all(line)?;
    if !line.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_hits(out: &mut impl Write, explain: Explain<'_>, file: &str, hit: &Hit) -> anyhow::Result<()> {
    for (ip, _) in &hit.addrs {
        let Some(entry) = explain(*ip)? else { continue };
        let obj = json!({"file": file, "line": hit.line.number, "ip": ip.to_string(), "indicator": entry.indicator,
                         "categories": entry.categories, "sources": entry.sources});
        json_line(out, &obj)?;
    }
    Ok(())
}
