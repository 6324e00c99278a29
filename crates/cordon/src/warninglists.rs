//! `cordon warninglists`: the MISP warninglists cordon flags with (the work
//! is `cordon_app::warninglists`): list them, check values against them.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cli::{Cli, JsonArg};
use crate::output::{human, json_line, stdout};

/// `cordon warninglists`.
#[derive(Subcommand, Debug)]
pub(crate) enum WarninglistsCommand {
    /// List the loaded lists: type, entries, class and the flag they raise.
    List(JsonArg),
    /// Which lists each value is in, and what flag each hit raises.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Addresses, networks, domains or URLs (defanged forms too).
    #[arg(required = true, value_name = "VALUE")]
    values: Vec<String>,
    /// One JSON object per value.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cli: &Cli, command: &WarninglistsCommand) -> anyhow::Result<ExitCode> {
    let app = cordon_app::App::open(&cli.config())?;
    match command {
        WarninglistsCommand::List(args) => {
            let view = app.warninglist_lists()?;
            if args.json {
                let mut out = stdout();
                json_line(&mut out, &view)?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut out = human();
            writeln!(out, "{} lists in {}", view.lists.len(), view.dir)?;
            for list in &view.lists {
                let flag = list.flag.unwrap_or(if list.applies { "-" } else { "- (no address, domain or URL)" });
                writeln!(out, "{}\t{}\t{}\t{}\t{}", list.name, list.list_type, list.entries, list.class, flag)?;
            }
            for problem in &view.problems {
                writeln!(out, "warning: {problem}")?;
            }
            out.flush()?;
        }
        WarninglistsCommand::Check(args) => {
            let mut out = stdout();
            let mut human_out = human();
            for raw in &args.values {
                for answer in app.warninglist_check(raw)? {
                    if args.json {
                        json_line(&mut out, &answer)?;
                    } else if answer.hits.is_empty() {
                        writeln!(human_out, "{}\tin no warninglist", answer.value)?;
                    } else {
                        for hit in &answer.hits {
                            let flag = hit.flag.unwrap_or("no flag");
                            writeln!(
                                human_out,
                                "{}\t{}\t{} ({}, entry {})",
                                answer.value, flag, hit.list, hit.class, hit.entry
                            )?;
                        }
                    }
                }
            }
            out.flush()?;
            human_out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
