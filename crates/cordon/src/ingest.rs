//! `cordon ingest`: feed files into the store, one import per file.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use cordon_app::intake::{Input, InputError};
use cordon_app::view::FileReportView;
use cordon_ingest::{FileReport, IngestOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::cli::{Cli, IngestArgs};
use crate::output::{clean, human, json_line, stdout};

/// Files larger than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Rejections printed per file in the human summary.
const SHOWN_ERRORS: usize = 10;

pub(crate) fn run(cli: &Cli, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    app.check_ingest(&viewer, args.operation.as_deref())?;
    let options = IngestOptions {
        source: args.source.clone(),
        format: args.format,
        tlp: args.tlp,
        category: args.category,
        strict: args.strict,
        parse: cordon_formats::Options { columns: args.columns.clone(), delimiter: args.delimiter },
    };
    let mut exit = 0u8;
    let mut imports = Vec::new();
    let mut files = Vec::new();
    let mut out = human();
    for path in &args.files {
        let display = path.display().to_string();
        let result = if display == "-" {
            app.ingest(
                &viewer,
                Input::Reader { name: "-", reader: &mut std::io::stdin().lock() },
                &options,
                args.operation.as_deref(),
                &mut |_| {},
            )
        } else {
            let bar = progress_bar(path);
            let result = app.ingest(&viewer, Input::Path(path), &options, args.operation.as_deref(), &mut |n| {
                if let Some(bar) = &bar {
                    bar.set_position(n);
                }
            });
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            result
        };
        match result {
            Ok(report) => {
                imports.extend(report.import_id);
                if args.json {
                    files.push(serde_json::to_value(FileReportView::from(&report))?);
                } else {
                    print_summary(&mut out, &report)?;
                }
            }
            Err(err) => {
                let code = match &err {
                    InputError::Unreadable(_) => crate::EXIT_INPUT,
                    _ => 1,
                };
                exit = exit.max(code);
                eprintln!("cordon: {}", clean(&err.to_string()));
                if args.json {
                    files.push(json!({"path": display, "error": err.to_string()}));
                }
            }
        }
    }
    let enrichment = match app.enrich_imports(imports, &mut |_, _| {}) {
        Ok(summary) => summary.map(|s| json!({"indicators": s.indicators, "flagged": s.flagged, "geo": s.geo})),
        Err(e) => {
            // The imports are stored; `cordon enrich` can be run later.
            eprintln!("cordon: the import is stored, but enrichment failed: {e}");
            None
        }
    };
    if args.json {
        let mut json = stdout();
        json_line(&mut json, &json!({ "files": files, "enrichment": enrichment }))?;
        json.flush()?;
    } else if let Some(e) = &enrichment {
        if e["geo"] == true {
            writeln!(out, "enriched {} indicators; flagged: {}", e["indicators"], e["flagged"])?;
        } else if e["flagged"].as_object().is_some_and(|f| !f.is_empty()) {
            writeln!(out, "flagged (no geo data to enrich with): {}", e["flagged"])?;
        }
    }
    out.flush()?;
    Ok(ExitCode::from(exit))
}

fn progress_bar(path: &std::path::Path) -> Option<ProgressBar> {
    let len = std::fs::metadata(path).ok().filter(|m| m.is_file())?.len();
    if len < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})").ok()?;
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(clean(&path.display().to_string()).into_owned());
    Some(bar)
}

fn print_summary(out: &mut impl Write, r: &FileReport) -> std::io::Result<()> {
    let c = r.counts;
    writeln!(
        out,
        "{} ({}): {} read, {} accepted ({} from records, {} derived; {} new, {} updated), {} rejected, {} skipped",
        r.path,
        r.format,
        c.read,
        c.accepted,
        c.accepted.saturating_sub(r.derived),
        r.derived,
        c.new,
        c.updated,
        c.rejected,
        c.skipped
    )?;
    if !r.skip_reasons.is_empty() {
        let reasons: Vec<String> = r.skip_reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(out, "  skipped: {}", reasons.join(", "))?;
    }
    for e in r.errors.iter().take(SHOWN_ERRORS) {
        writeln!(out, "  {}:{}: {}", r.path, e.line, e.reason)?;
    }
    if c.rejected as usize > SHOWN_ERRORS {
        writeln!(out, "  … and {} more rejected (see --json)", c.rejected as usize - SHOWN_ERRORS)?;
    }
    Ok(())
}
