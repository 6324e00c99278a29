//! `cordon feed`: feeds the hub pulls on a schedule (`cordon serve` runs
//! them when due), and running them now.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cordon_app::feeds::{FeedRunView, NewFeed};
use cordon_model::{Category, Tlp};

use crate::cli::{Cli, JsonArg};
use crate::output::{human, json_line, stdout};

/// `cordon feed`.
#[derive(Subcommand, Debug)]
pub(crate) enum FeedCommand {
    /// Define a feed: an HTTP(S) file in any format cordon reads (gzip and
    /// zip unpacked), a TAXII 2.1 collection (taxii2+https://…/collections/ID/)
    /// or a MISP feed directory (--format misp-feed, or …/manifest.json).
    Add(FeedAddArgs),
    /// List the feeds: last run, last success, last error, next run.
    List(JsonArg),
    /// Remove a feed (its imports stay).
    Remove(FeedRemoveArgs),
    /// Run feeds now (all of them without names); exits 1 if one failed.
    Run(FeedRunArgs),
}

#[derive(Args, Debug)]
pub(crate) struct FeedAddArgs {
    /// Its unique name (letters, digits, '-', '_', '.').
    name: String,
    /// Where to pull it from.
    #[arg(long)]
    url: String,
    /// The partner or feed the records are recorded under.
    #[arg(long, value_name = "NAME")]
    source: String,
    /// The format (default: detected), as for `cordon ingest`; misp-feed for
    /// a MISP feed directory.
    #[arg(long, value_name = "FORMAT")]
    format: Option<cordon_formats::Format>,
    /// TLP of records that carry none (default: amber).
    #[arg(long, value_name = "TLP")]
    tlp: Option<Tlp>,
    /// Category of records the feed does not categorise (default: other).
    #[arg(long, value_name = "CATEGORY")]
    category: Option<Category>,
    /// How often it runs: `1h`, `30m`, `1d` (at least a minute).
    #[arg(long, default_value = "1h", value_parser = crate::access::parse_duration)]
    every: i64,
    /// A request header, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// The environment variable holding `user:password` for HTTP Basic
    /// authentication (read at each run, never stored).
    #[arg(long, value_name = "VAR")]
    basic_auth_env: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct FeedRemoveArgs {
    /// The feed's name.
    name: String,
}

#[derive(Args, Debug)]
pub(crate) struct FeedRunArgs {
    /// The feeds to run (default: every feed).
    names: Vec<String>,
    /// One JSON object per feed.
    #[arg(long)]
    json: bool,
}

fn parse_header(raw: &str) -> Result<(String, String), String> {
    let (name, value) = raw.split_once(':').ok_or_else(|| format!("'{raw}' is not 'Name: value'"))?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

pub(crate) fn run(cli: &Cli, cmd: &FeedCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    let mut status = ExitCode::SUCCESS;
    match cmd {
        FeedCommand::Add(args) => {
            let new = NewFeed {
                name: args.name.clone(),
                url: args.url.clone(),
                source: args.source.clone(),
                format: args.format,
                tlp: args.tlp,
                category: args.category,
                every: args.every,
                headers: args.headers.clone(),
                basic_auth_env: args.basic_auth_env.clone(),
            };
            let feed = app.add_feed(&viewer, &new)?;
            if args.json {
                json_line(&mut json, &feed)?;
            } else {
                writeln!(out, "feed '{}' ({}) added, due now", feed.name, feed.kind)?;
            }
        }
        FeedCommand::List(args) => {
            for feed in app.feeds(&viewer)? {
                if args.json {
                    json_line(&mut json, &feed)?;
                    continue;
                }
                let never = || "never".to_string();
                writeln!(
                    out,
                    "{}\t{}\t{}\tlast success {}\tnext {}\t{}",
                    feed.name,
                    feed.kind,
                    feed.url,
                    feed.last_success.unwrap_or_else(never),
                    feed.next_run,
                    feed.last_error.map_or_else(String::new, |e| format!("last error: {e}"))
                )?;
            }
        }
        FeedCommand::Remove(args) => {
            app.remove_feed(&viewer, &args.name)?;
            writeln!(out, "feed '{}' removed", args.name)?;
        }
        FeedCommand::Run(args) => {
            for outcome in app.run_feeds(&viewer, &args.names)? {
                if outcome.error.is_some() {
                    status = ExitCode::FAILURE;
                }
                if args.json {
                    json_line(&mut json, &outcome)?;
                } else {
                    writeln!(out, "{}", summary(&outcome))?;
                }
            }
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(status)
}

/// One line about one run.
fn summary(run: &FeedRunView) -> String {
    let status = run.status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
    match (&run.error, &run.import) {
        (Some(error), _) => format!("{}: failed ({status}): {error}", run.feed),
        (None, Some(import)) => format!(
            "{}: {status}, {} bytes: {} read, {} new, {} updated, {} rejected, {} skipped (import {})",
            run.feed,
            run.bytes,
            import.read,
            import.new,
            import.updated,
            import.rejected,
            import.skipped,
            import.import.map_or_else(|| "-".to_string(), |id| id.to_string())
        ),
        (None, None) => format!("{}: {status}, unchanged: nothing imported", run.feed),
    }
}
