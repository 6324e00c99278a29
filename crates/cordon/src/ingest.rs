//! `cordon ingest`: feed files into the store, one import per file.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use cordon_ingest::{ingest_file, ingest_reader, FileReport, IngestError, IngestOptions};
use cordon_store::ops::OpsStore;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::cli::{Cli, IngestArgs};
use crate::enrichment::Scope;
use crate::output::{json_line, stdout};
use crate::query::open_store;

/// Files larger than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// Rejections printed per file in the human summary.
const SHOWN_ERRORS: usize = 10;

pub(crate) fn run(cli: &Cli, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(cli)?;
    if let Some(name) = &args.operation {
        if store.operation(name)?.is_none() {
            eprintln!("cordon: no operation named '{name}' (create it with `cordon operation create`)");
            return Ok(ExitCode::from(crate::EXIT_INPUT));
        }
    }
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
    let mut out = stdout();
    for path in &args.files {
        let display = path.display().to_string();
        let result = if display == "-" {
            ingest_reader(&mut store, "-", &mut std::io::stdin().lock(), &options, &mut |_| {})
        } else {
            let bar = progress_bar(path);
            let result = ingest_file(&mut store, path, &options, &mut |n| {
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
                if let (Some(name), Some(id)) = (&args.operation, report.import_id) {
                    store.attach_import(name, id)?;
                }
                if args.json {
                    files.push(report_json(&report));
                } else {
                    print_summary(&mut out, &report)?;
                }
            }
            Err(err) => {
                let code = match &err {
                    IngestError::Format(_) => crate::EXIT_INPUT,
                    IngestError::Strict { .. } | IngestError::Store(_) => 1,
                };
                exit = exit.max(code);
                eprintln!("cordon: {err}");
                if args.json {
                    files.push(json!({"path": display, "error": err.to_string()}));
                }
            }
        }
    }
    let enrichment = if imports.is_empty() { None } else { enrich_after_ingest(cli, &mut store, imports) };
    if args.json {
        json_line(&mut out, &json!({ "files": files, "enrichment": enrichment }))?;
    } else if let Some(e) = &enrichment {
        writeln!(out, "enriched {} indicators; flagged: {}", e["indicators"], e["flagged"])?;
    }
    out.flush()?;
    Ok(ExitCode::from(exit))
}

/// Enriches what the imports changed when a geo snapshot exists. A failure
/// here does not undo the imports: it is reported and `cordon enrich` can
/// be run later.
fn enrich_after_ingest(cli: &Cli, store: &mut cordon_store::SqliteStore, imports: Vec<i64>) -> Option<Value> {
    match crate::protect::refresh(cli, store, &Scope::Imports(imports)) {
        Ok(summary) => summary.map(|s| json!({"indicators": s.indicators, "flagged": s.flagged})),
        Err(e) => {
            eprintln!("cordon: the import is stored, but enrichment failed: {e:#}");
            None
        }
    }
}

fn progress_bar(path: &std::path::Path) -> Option<ProgressBar> {
    let len = std::fs::metadata(path).ok().filter(|m| m.is_file())?.len();
    if len < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})").ok()?;
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(path.display().to_string());
    Some(bar)
}

fn report_json(r: &FileReport) -> Value {
    let c = r.counts;
    json!({
        "path": r.path,
        "format": r.format.name(),
        "read": c.read,
        "accepted": c.accepted,
        "new": c.new,
        "updated": c.updated,
        "rejected": c.rejected,
        "skipped": c.skipped,
        "errors": r.errors.iter().map(|e| json!({"line": e.line, "reason": e.reason})).collect::<Vec<_>>(),
        "warnings": r.warnings.iter().map(|e| json!({"line": e.line, "message": e.reason})).collect::<Vec<_>>(),
        "skip_reasons": r.skip_reasons,
        "import": r.import_id,
    })
}

fn print_summary(out: &mut impl Write, r: &FileReport) -> std::io::Result<()> {
    let c = r.counts;
    writeln!(
        out,
        "{} ({}): {} read, {} accepted ({} new, {} updated), {} rejected, {} skipped",
        r.path, r.format, c.read, c.accepted, c.new, c.updated, c.rejected, c.skipped
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
