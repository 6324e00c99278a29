//! The `cordon` command: a thin layer that parses arguments, calls the
//! library crates and prints their results for people (`--json` for
//! scripts).
//!
//! Exit status: 0 on success, 1 when processing failed, 2 for usage errors
//! and unreadable or unrecognised input.

mod access;
mod audit;
mod cli;
mod collection;
mod demo;
mod export;
mod feed;
mod geo;
mod hunt;
mod ingest;
mod listing;
mod lists;
mod net;
mod operation;
mod orgs;
mod output;
mod progress;
mod protect;
mod query;
mod serve;
mod warninglists;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The allocator: mimalloc, not glibc's malloc. After a lookup index or a
/// TAXII view of a million entries is built, glibc keeps the millions of
/// small chunks the build freed in its fast bins, and the next large
/// allocation on that thread merges them all (`malloc_consolidate`): a
/// request that should take microseconds took ~0.5 s (perf, issue 13).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for unreadable or unrecognised input (and usage errors).
const EXIT_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("cordon: {}", output::clean(&format!("{err:#}")));
            ExitCode::from(exit_status(&err))
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Ingest(args) => ingest::run(cli, args),
        Command::Indicators(args) => query::indicators(cli, args),
        Command::Show(args) => query::show(cli, args),
        Command::Sources(args) => query::sources(cli, args),
        Command::Imports(args) => query::imports(cli, args),
        Command::Migrate => query::migrate(cli),
        Command::Net(args) => net::run(args),
        Command::Lookup(args) => hunt::lookup(cli, args),
        Command::Scan(args) => hunt::scan(cli, args),
        Command::Geo(args) => geo::run(args, &cli.geo_snapshot()),
        Command::Enrich(args) => protect::enrich(cli, args),
        Command::Allow(args) => protect::allow(cli, args),
        Command::Contacts(args) => protect::contacts(cli, args),
        Command::Route(args) => protect::route(cli, args),
        Command::Export(args) => export::run(cli, args),
        Command::Org(cmd) => orgs::org(cli, cmd),
        Command::Source(cmd) => orgs::source(cli, cmd),
        Command::Demo(args) => demo::run(cli, args),
        Command::Serve(args) => serve::run(cli, args),
        Command::User(cmd) => access::user(cli, cmd),
        Command::Token(cmd) => access::token(cli, cmd),
        Command::Audit(cmd) => audit::run(cli, cmd),
        Command::Ops(cmd) => operation::run(cli, cmd),
        Command::Warninglists(cmd) => warninglists::run(cli, cmd),
        Command::Collection(cmd) => collection::run(cli, cmd),
        Command::Feed(cmd) => feed::run(cli, cmd),
    }
}

/// The exit status of a failed command: 2 for input that makes no sense
/// (usage, unreadable or unrecognised input), 1 for everything else.
fn exit_status(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<cordon_app::AppError>() {
        Some(cordon_app::AppError::Invalid(_)) => EXIT_INPUT,
        _ => 1,
    }
}

/// True when the error is a closed output pipe (`cordon indicators | head`),
/// which is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
