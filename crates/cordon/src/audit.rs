//! `cordon audit`: read and verify the audit log.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use cordon_model::{format_timestamp, parse_timestamp, Timestamp};
use serde_json::json;

use crate::cli::Cli;
use crate::output::{clean, human, json_line, stdout};

/// `cordon audit`.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Check the hash chain; name the first row that breaks it (exit 1).
    Verify,
    /// List entries, oldest first.
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
        /// Only since this date (2024-03-11, RFC 3339 or Unix seconds).
        #[arg(long, value_parser = parse_date)]
        since: Option<Timestamp>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

fn parse_date(s: &str) -> Result<Timestamp, String> {
    parse_timestamp(s).ok_or_else(|| format!("'{s}' is not a date (2024-03-11, RFC 3339 or Unix seconds)"))
}

pub(crate) fn run(cli: &Cli, cmd: &AuditCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    match cmd {
        AuditCommand::Verify => {
            let (checked, broken) = app.verify_audit(&viewer)?;
            match broken {
                None => println!("the audit log holds: {checked} rows, chain intact"),
                Some(b) => {
                    eprintln!("cordon: the audit log is broken at row #{}: {}", b.id, b.reason);
                    return Ok(ExitCode::from(1));
                }
            }
        }
        AuditCommand::List { user, since, json } => {
            let (mut out_json, mut out) = (stdout(), human());
            for row in app.audit(&viewer, user.as_deref(), *since)? {
                let e = &row.entry;
                if *json {
                    json_line(
                        &mut out_json,
                        &json!({"id": row.id, "time": format_timestamp(e.time), "user": e.user, "org": e.org,
                                "action": e.action, "object": e.object, "result": e.result, "hash": row.hash}),
                    )?;
                } else {
                    let line = format!(
                        "#{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        row.id,
                        format_timestamp(e.time),
                        e.user,
                        e.org,
                        e.action,
                        e.object,
                        e.result
                    );
                    writeln!(out, "{}", clean(&line))?;
                }
            }
            out_json.flush()?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
