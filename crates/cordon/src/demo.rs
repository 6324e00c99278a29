//! `cordon demo`: the Synergia-scale demo operation (the work is
//! `cordon_app::demo`); this module parses, prints each step and the report.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use cordon_app::demo::DemoOptions;

use crate::cli::Cli;
use crate::output::human;

/// `cordon demo`.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Where to write the store, feeds, packages, outbox and report: a new
    /// directory, or one an earlier demo made (its files are replaced).
    /// Anything else is refused; --db is not used.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// The share of the 30,000 addresses to use (0 < SCALE ≤ 1).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The ip-location-db data (fetched by scripts/fetch-geodata.sh in
    /// cordon's source tree), compiled into the demo's own snapshot when
    /// --geo names none. Without it the demo runs without enrichment.
    #[arg(long, default_value = "data/geo", value_name = "DIR")]
    geo_data: PathBuf,
    /// Then add a demo user per role (one new password, printed once) and
    /// serve the demo's store: the dashboard at /, as `cordon serve` does.
    #[arg(long)]
    serve: bool,
    /// How to serve it (with --serve).
    #[command(flatten, next_help_heading = "Serving (with --serve)")]
    server: crate::serve::ServeArgs,
}

pub(crate) fn run(cli: &Cli, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    // The warninglists: the global --warninglists, else data/warninglists
    // (scripts/fetch-warninglists.sh).
    let options = DemoOptions {
        out: args.out.clone(),
        scale: args.scale,
        geo_snapshot: cli.geo.clone(),
        geo_data: args.geo_data.clone(),
        warninglists: cli.warninglists.clone().unwrap_or_else(|| PathBuf::from("data/warninglists")),
    };
    let started = Instant::now();
    let mut step_started = Instant::now();
    let mut out = human();
    let result = cordon_app::demo::run(&options, &mut |what| {
        // A failed progress line is not worth failing the demo for.
        let _ = writeln!(out, "[{:6.1}s] {what}", step_started.elapsed().as_secs_f64());
        let _ = out.flush();
        step_started = Instant::now();
    })?;
    writeln!(out)?;
    write!(out, "{}", cordon_ops::report::text(&result.report))?;
    writeln!(
        out,
        "\nwrote {0}/report.html, {0}/packages/, {0}/outbox/ and the store {0}/cordon.db in {1:.1}s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    )?;
    out.flush()?;
    if !args.serve {
        return Ok(ExitCode::SUCCESS);
    }
    let app = cordon_app::App::open(&result.config)?;
    let (users, password) = cordon_app::demo::add_users(&app, &result.report)?;
    drop(app);
    writeln!(out, "\ndemo users, each with the password {password} (shown only now):")?;
    for user in &users {
        writeln!(out, "  {:<22} {:<10} {}", user.email, user.role.as_str(), user.org)?;
    }
    writeln!(out, "serving on http://{}/ (Ctrl-C stops it)", args.server.listen())?;
    out.flush()?;
    crate::serve::serve(&result.config, &args.server)
}
