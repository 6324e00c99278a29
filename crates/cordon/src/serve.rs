//! `cordon serve`: the hub as an HTTP server on the embedded store.

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
}

/// Serves until SIGINT or SIGTERM; requests in flight then finish.
pub(crate) fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let app = cordon_app::App::open(&cli.config())?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(cordon_server::tls::config(cert, key)?),
        _ => None,
    };
    if args.rate_limit.is_nan() || args.rate_limit <= 0.0 {
        anyhow::bail!(cordon_app::AppError::Invalid("--rate-limit must be above 0".into()));
    }
    let limit = cordon_server::RateLimit { per_second: args.rate_limit, burst: 2.0 * args.rate_limit };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let bound = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!("cordon: serving on {scheme}://{bound} (the store {})", cli.db.display());
        match tls {
            Some(config) => {
                let listener = cordon_server::tls::TlsListener::new(listener, config)?;
                cordon_server::serve(listener, app, limit, shutdown()).await
            }
            None => cordon_server::serve(listener, app, limit, shutdown()).await,
        }
        .context("the server failed")
    })?;
    eprintln!("cordon: stopped");
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
