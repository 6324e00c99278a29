//! Read-only commands: `indicators`, `show`, `sources`, `imports`, each as
//! the `--as` organisation may see it.

use std::io::Write;
use std::process::ExitCode;

use cordon_app::view::{ImportView, IndicatorDetailView, IndicatorView, SourceView};
use cordon_model::format_timestamp;
use cordon_store::IndicatorFilter;

use crate::cli::{Cli, IndicatorsArgs, JsonArg, ShowArgs};
use crate::output::{human, json_line, stdout};

pub(crate) fn indicators(cli: &Cli, args: &IndicatorsArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let filter = IndicatorFilter {
        country: args.country.as_ref().map(|c| c.to_ascii_uppercase()),
        asn: args.asn,
        flagged: match (args.flagged, args.unflagged) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        ..args.selection.filter(viewer, args.tlp_max)
    };
    let (mut json, mut text) = (stdout(), human());
    let mut result = Ok(());
    app.indicators(&filter, &mut |i| {
        if result.is_err() {
            return;
        }
        result = if args.json {
            json_line(&mut json, &IndicatorView::from(&i))
        } else {
            let categories: Vec<&str> = i.categories.iter().map(|c| c.as_str()).collect();
            writeln!(
                text,
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
    json.flush()?;
    text.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn show(cli: &Cli, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let filter = IndicatorFilter { max_tlp: args.tlp_max, ..IndicatorFilter::new(viewer) };
    let detail = app.indicator(&args.value, &filter)?;
    if args.json {
        let mut out = stdout();
        json_line(&mut out, &IndicatorDetailView::from(&detail))?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = human();
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
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `cordon migrate`: opening the store migrates it.
pub(crate) fn migrate(cli: &Cli) -> anyhow::Result<ExitCode> {
    cli.open()?;
    println!("the store's schema is up to date");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn sources(cli: &Cli, args: &JsonArg) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut text) = (stdout(), human());
    for s in app.sources(&viewer)? {
        if args.json {
            json_line(&mut json, &SourceView::from(&s))?;
        } else {
            let imports = s.imports.map_or_else(String::new, |n| format!("\t{n} imports"));
            writeln!(text, "{}\t{}{imports}\t{} indicators\t{} sightings", s.name, s.org, s.indicators, s.sightings)?;
        }
    }
    json.flush()?;
    text.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn imports(cli: &Cli, args: &JsonArg) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut text) = (stdout(), human());
    for i in app.imports(&viewer)? {
        let c = i.counts;
        if args.json {
            json_line(&mut json, &ImportView::from(&i))?;
        } else {
            writeln!(
                text,
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
    json.flush()?;
    text.flush()?;
    Ok(ExitCode::SUCCESS)
}
