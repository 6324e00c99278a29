//! `cordon serve`: the hub as an HTTP server. A thin front end like the
//! command line: it authenticates the caller, checks the route's policy,
//! calls the application layer ([`cordon_app::App`]) as the caller's
//! [`cordon_model::Viewer`] and serializes the answer.
//!
//! * [`routes::ROUTES`] is the one table of routes: method, path, the roles
//!   that may call it, and the handler. The router is built from it, so a
//!   route cannot exist without a policy.
//! * Every error is an RFC 9457 problem document ([`problem::Problem`]):
//!   never a stack trace or SQL. 401 answers carry `WWW-Authenticate`.
//! * Another organisation's object is a 404, never a 403.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let app = cordon_app::App::open(&cordon_app::Config::new("cordon.db".into())).unwrap();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! cordon_server::serve(listener, app, cordon_server::Limits::default(), std::future::pending()).await
//! # }
//! ```
#![deny(missing_docs)]

mod admin;
mod audit;
mod auth;
mod coordination;
mod feeds;
mod handlers;
mod lease;
mod lookup;
mod metrics;
pub mod problem;
mod ratelimit;
pub mod routes;
mod streaming;
pub mod taxii;
mod telemetry;
pub mod tls;

pub use ratelimit::RateLimit;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use cordon_app::App;

/// What every request handler shares.
pub struct Shared {
    app: Arc<App>,
    audit: audit::AuditQueue,
    metrics: metrics::Metrics,
    lookups: Arc<lookup::Indexes>,
    telemetry: telemetry::Telemetry,
    buckets: ratelimit::Buckets,
    sessions: auth::Sessions,
}

/// The handle handlers get.
pub type State = Arc<Shared>;

/// How a server treats its callers.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests each user may make.
    pub rate: RateLimit,
    /// The longest a request may take; past it the answer is a 503.
    pub timeout: std::time::Duration,
    /// Failed dashboard sign-ins allowed per address and per user.
    pub logins: cordon_web::LoginLimit,
    /// How long a background job (a feed's run) that this server claimed
    /// stays its without renewal: a replica that dies leaves its job to
    /// the others this long after its last renewal.
    pub job_lease: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            rate: RateLimit::default(),
            timeout: DEFAULT_TIMEOUT,
            logins: cordon_web::LoginLimit::default(),
            job_lease: cordon_app::jobs::DEFAULT_LEASE,
        }
    }
}

impl From<RateLimit> for Limits {
    fn from(rate: RateLimit) -> Limits {
        Limits { rate, ..Limits::default() }
    }
}

/// The default of [`Limits::timeout`]: long enough for a 256 MiB
/// submission over a slow link.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The server's router over `app`: the API, TAXII and the dashboard
/// (`cordon_web`, at `/`). Every request gets a request id, a log event
/// and a deadline (see the `telemetry` module).
pub fn router(app: App, limits: impl Into<Limits>) -> axum::Router {
    shared_router(Arc::new(app), limits.into(), Arc::default())
}

fn shared_router(app: Arc<App>, limits: Limits, lookups: Arc<lookup::Indexes>) -> axum::Router {
    let state = Arc::new(Shared {
        audit: audit::AuditQueue::start(app.clone()),
        metrics: metrics::Metrics::new(app.clone(), lookups.clone()),
        app,
        lookups,
        buckets: ratelimit::Buckets::new(limits.rate),
        sessions: auth::Sessions::default(),
        telemetry: telemetry::Telemetry { ids: telemetry::RequestIds::new(), timeout: limits.timeout },
    });
    let audit = state.clone();
    let web = cordon_web::Web::new(state.app.clone(), Arc::new(move |entry| audit.audit.push(entry)), limits.logins);
    let web = cordon_web::router(web).layer(axum::middleware::from_fn(client));
    routes::build(state.clone())
        .merge(taxii::router(state.clone()))
        .merge(web)
        .layer(axum::middleware::from_fn_with_state(state, telemetry::around))
}

/// Tells the dashboard who is calling over what (its session cookies are
/// `Secure` under TLS).
async fn client(mut request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<Peer>>().map(|info| info.0);
    if let Some(Peer(addr, tls)) = peer {
        request.extensions_mut().insert(cordon_web::Client { addr: addr.ip(), tls });
    }
    next.run(request).await
}

/// The caller's address, from a plain or a TLS connection, and whether it
/// is TLS.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr, pub bool);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*stream.remote_addr(), false)
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tls::TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr(), true)
    }
}

/// Serves `app` on `listener` (a `tokio::net::TcpListener`, or a
/// [`tls::TlsListener`]) until `shutdown` completes; requests in flight
/// then finish (each store write is one transaction: it commits or rolls
/// back, never half). Meanwhile the feeds run when due, claimed through the
/// store's job queue (the `feeds` module); a feed run in progress at
/// shutdown completes, no other starts. On PostgreSQL the lookup index also
/// follows the generation's notifications (`lookup::follow_notifications`).
pub async fn serve<L>(
    listener: L,
    app: App,
    limits: impl Into<Limits>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let app = Arc::new(app);
    let limits = limits.into();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    let worker = cordon_app::jobs::Worker::new(limits.job_lease);
    let scheduler = tokio::spawn(feeds::schedule(app.clone(), worker, stopped.clone()));
    let lookups = Arc::new(lookup::Indexes::default());
    let watcher = tokio::task::spawn_blocking({
        let (app, lookups) = (app.clone(), lookups.clone());
        move || lookup::follow_notifications(&app, &lookups, &stopped)
    });
    let stop_on_signal = stop.clone();
    let served =
        axum::serve(listener, shared_router(app, limits, lookups).into_make_service_with_connect_info::<Peer>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stop_on_signal.send(true);
            })
            .await;
    let _ = stop.send(true);
    let _ = scheduler.await;
    let _ = watcher.await;
    served
}
