//! The feed scheduler of `cordon serve`: runs the feeds that are due
//! ([`cordon_app::App::run_due_feeds`]) on the blocking pool, then sleeps
//! until the next is due (at most [`IDLE_CHECK`], so feeds added meanwhile
//! by `cordon feed add` are picked up). A failing feed is an outcome of its
//! own (logged, recorded in the store), never a stop of the others or of the
//! scheduler. When the server stops, a run in progress completes (each
//! import is all or nothing) and no other starts.

use std::sync::Arc;
use std::time::Duration;

use cordon_app::App;
use tokio::sync::watch;

/// The longest the scheduler sleeps between two looks at the feeds.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// Runs due feeds until `stop` turns true.
pub(crate) async fn schedule(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let runner = app.clone();
        let next = tokio::task::spawn_blocking(move || {
            match runner.run_due_feeds(cordon_app::now()) {
                Ok(outcomes) => {
                    for run in outcomes {
                        match &run.error {
                            None => tracing::info!(feed = %run.feed, status = run.status, bytes = run.bytes,
                                                   unchanged = run.unchanged, "feed run"),
                            Some(error) => {
                                tracing::warn!(feed = %run.feed, status = run.status, %error, "feed run failed")
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the feeds"),
            }
            runner.next_feed_due().ok().flatten()
        })
        .await
        .ok()
        .flatten();
        let wait = next.map_or(IDLE_CHECK, |due| {
            Duration::from_secs(u64::try_from(due - cordon_app::now()).unwrap_or(0))
                .clamp(Duration::from_secs(1), IDLE_CHECK)
        });
        tokio::select! {
            _ = stop.changed() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
