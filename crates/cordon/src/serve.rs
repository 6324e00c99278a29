//! `cordon serve`: the hub as an HTTP server on its store.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::cli::Cli;

/// `cordon serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Requests per second each user may make (twice that at once).
    #[arg(long, default_value_t = 200.0, value_name = "N")]
    rate_limit: f64,
    /// The longest a request may take, in seconds; past it the answer is a
    /// 503 (an import it started still completes or is undone whole).
    #[arg(long, default_value_t = cordon_server::DEFAULT_TIMEOUT.as_secs_f64(), value_name = "SECONDS")]
    request_timeout: f64,
    /// How long a background job (a feed's run) this server claimed stays
    /// its without renewal (renewed every third of it while it runs): a
    /// replica that dies leaves its job to the others this long after.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = crate::access::parse_duration)]
    job_lease: i64,
    /// How the request log (one event per request, on standard error) is
    /// written; `CORDON_LOG` filters it (default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

impl ServeArgs {
    /// Where it listens.
    pub(crate) fn listen(&self) -> SocketAddr {
        self.listen
    }
}

/// `--log-format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// Sends `tracing` events to standard error in `format`, from a thread of
/// their own: a reader of the log that falls behind (a full pipe) costs
/// log lines, never requests. That thread writes what has queued in one
/// go (buffered, flushed whenever the queue is empty), not a system call
/// per line. Events are written until the guard drops.
fn start_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CORDON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    // Another subscriber set first (a test harness) keeps its place.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}

/// Serves until SIGINT or SIGTERM; requests in flight then finish.
pub(crate) fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    serve(&cli.config(), args)
}

/// Serves the store of `config` until SIGINT or SIGTERM (`cordon serve`,
/// `cordon demo --serve`).
pub(crate) fn serve(config: &cordon_app::Config, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let app = cordon_app::App::open(config)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(cordon_server::tls::config(cert, key)?),
        _ => None,
    };
    if args.rate_limit.is_nan() || args.rate_limit <= 0.0 {
        anyhow::bail!(cordon_app::AppError::Invalid("--rate-limit must be above 0".into()));
    }
    if !(args.request_timeout > 0.0 && args.request_timeout <= 86_400.0) {
        anyhow::bail!(cordon_app::AppError::Invalid("--request-timeout must be above 0 and at most 86400".into()));
    }
    let limit = cordon_server::Limits {
        rate: cordon_server::RateLimit { per_second: args.rate_limit, burst: 2.0 * args.rate_limit },
        timeout: std::time::Duration::from_secs_f64(args.request_timeout),
        job_lease: std::time::Duration::from_secs(args.job_lease.unsigned_abs()),
        ..cordon_server::Limits::default()
    };
    let _log = start_logging(args.log_format);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let bound = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        // A PostgreSQL URL may carry a password: it is never logged.
        let store = if cordon_store::is_postgres_url(&config.db) {
            "postgresql".to_string()
        } else {
            config.db.display().to_string()
        };
        tracing::info!(%store, "serving on {scheme}://{bound}");
        match tls {
            Some(config) => {
                let listener = cordon_server::tls::TlsListener::new(listener, config)?;
                cordon_server::serve(listener, app, limit, shutdown()).await
            }
            None => cordon_server::serve(listener, app, limit, shutdown()).await,
        }
        .context("the server failed")
    })?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                // Without SIGTERM handling, Ctrl-C still stops it.
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
