//! Read-only commands: `indicators`, `show`, `sources`, `imports`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use cordon_model::{format_timestamp, normalize};
use cordon_store::{IndicatorFilter, SqliteStore, Store};
use serde_json::json;

use crate::cli::{Cli, IndicatorsArgs, JsonArg, ShowArgs};
use crate::output::{indicator_json, json_line, stdout};

/// Opens the store named on the command line.
pub(crate) fn open_store(cli: &Cli) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(&cli.db).with_context(|| format!("cannot open the store {}", cli.db.display()))
}

pub(crate) fn indicators(cli: &Cli, args: &IndicatorsArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let filter = IndicatorFilter {
        country: args.country.as_ref().map(|c| c.to_ascii_uppercase()),
        asn: args.asn,
        flagged: match (args.flagged, args.unflagged) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        ..args.selection.filter(args.tlp_max)
    };
    let mut out = stdout();
    let mut result = Ok(());
    store.indicators(&filter, &mut |i| {
        if result.is_err() {
            return;
        }
        result = if args.json {
            json_line(&mut out, &indicator_json(&i))
        } else {
            let categories: Vec<&str> = i.categories.iter().map(|c| c.as_str()).collect();
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}",
                i.value,
                i.kind,
                categories.join(","),
                i.sources.join(","),
                i.tlp,
                i.confidence
            )
        };
    })?;
    result?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn show(cli: &Cli, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let normalized = match normalize(&args.value) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("cordon: {e}");
            return Ok(ExitCode::from(crate::EXIT_INPUT));
        }
    };
    let [observable] = normalized.observables.as_slice() else {
        eprintln!("cordon: '{}' is a range of several networks; show takes one indicator", args.value);
        return Ok(ExitCode::from(crate::EXIT_INPUT));
    };
    let value = observable.to_string();
    let store = open_store(cli)?;
    let filter = IndicatorFilter { max_tlp: args.tlp_max, ..IndicatorFilter::default() };
    let Some(detail) = store.indicator(&value, &filter)? else {
        eprintln!("cordon: {value} is not in the store");
        return Ok(ExitCode::from(1));
    };
    let mut out = stdout();
    if args.json {
        let mut obj = indicator_json(&detail.summary);
        obj["sightings"] = detail
            .sightings
            .iter()
            .map(|s| {
                json!({
                    "source": s.source, "category": s.category.as_str(), "label": s.label,
                    "malware": s.malware, "first_seen": format_timestamp(s.first_seen),
                    "last_seen": format_timestamp(s.last_seen), "confidence": s.confidence,
                    "tlp": s.tlp.as_str(), "port": s.port, "derived_from": s.derived_from,
                    "file": s.file, "line": s.line,
                })
            })
            .collect();
        obj["linked"] = json!(detail.linked);
        json_line(&mut out, &obj)?;
    } else {
        let s = &detail.summary;
        let categories: Vec<&str> = s.categories.iter().map(|c| c.as_str()).collect();
        writeln!(out, "{} ({})", s.value, s.kind)?;
        writeln!(out, "  categories: {}", categories.join(", "))?;
        writeln!(out, "  sources:    {}", s.sources.join(", "))?;
        writeln!(out, "  tlp:        {}   confidence: {}", s.tlp, s.confidence)?;
        writeln!(out, "  seen:       {} .. {}", format_timestamp(s.first_seen), format_timestamp(s.last_seen))?;
        writeln!(out, "  sightings:")?;
        for r in &detail.sightings {
            let mut extra = Vec::new();
            if let Some(l) = &r.label {
                extra.push(format!("label {l}"));
            }
            if let Some(m) = &r.malware {
                extra.push(format!("malware {m}"));
            }
            if let Some(p) = r.port {
                extra.push(format!("port {p}"));
            }
            if let Some(d) = &r.derived_from {
                extra.push(format!("from {d}"));
            }
            writeln!(
                out,
                "    {} {} tlp:{} conf {} [{}:{}] {}",
                r.source,
                r.category,
                r.tlp,
                r.confidence,
                r.file,
                r.line,
                extra.join(", ")
            )?;
        }
        if !detail.linked.is_empty() {
            writeln!(out, "  linked:     {}", detail.linked.join(", "))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn sources(cli: &Cli, args: &JsonArg) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let mut out = stdout();
    for s in store.sources()? {
        if args.json {
            let last = s.last_import.map(format_timestamp);
            let obj = json!({"name": s.name, "imports": s.imports, "indicators": s.indicators,
                             "sightings": s.sightings, "last_import": last});
            json_line(&mut out, &obj)?;
        } else {
            writeln!(out, "{}\t{} imports\t{} indicators\t{} sightings", s.name, s.imports, s.indicators, s.sightings)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn imports(cli: &Cli, args: &JsonArg) -> anyhow::Result<ExitCode> {
    let store = open_store(cli)?;
    let mut out = stdout();
    for i in store.imports()? {
        let c = i.counts;
        if args.json {
            let obj = json!({"id": i.id, "source": i.source, "path": i.path, "sha256": i.sha256,
                "format": i.format, "time": format_timestamp(i.time), "read": c.read, "accepted": c.accepted,
                "new": c.new, "updated": c.updated, "rejected": c.rejected, "skipped": c.skipped});
            json_line(&mut out, &obj)?;
        } else {
            writeln!(
                out,
                "#{}\t{}\t{}\t{}\t{}\t{} read, {} accepted ({} new, {} updated), {} rejected, {} skipped",
                i.id,
                format_timestamp(i.time),
                i.source,
                i.path,
                i.format,
                c.read,
                c.accepted,
                c.new,
                c.updated,
                c.rejected,
                c.skipped
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
