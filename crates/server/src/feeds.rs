//! The feed scheduler of `cordon serve`: on the blocking pool, queues a run
//! of every feed that is due ([`cordon_app::App::enqueue_due_feeds`]) and
//! claims and runs queued jobs ([`cordon_app::App::run_jobs`]) through the
//! store's job queue, so that replicas over one database never run one
//! job twice; then sleeps until the next feed is due, at most
//! [`IDLE_CHECK`] (feeds added meanwhile by `cordon feed add` are picked
//! up) and at most the job lease (a dead replica's job is taken over soon
//! after its lease runs out). A failing feed is an outcome of its own
//! (logged, recorded in the store), never a stop of the others or of the
//! scheduler. When the server stops, the runs in progress complete (each
//! import is all or nothing) and no other is claimed.

use std::sync::Arc;
use std::time::Duration;

use cordon_app::jobs::Worker;
use cordon_app::App;
use tokio::sync::watch;

/// The longest the scheduler sleeps between two looks at the feeds.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// Runs due feeds as `worker` until `stop` turns true.
pub(crate) async fn schedule(app: Arc<App>, worker: Worker, mut stop: watch::Receiver<bool>) {
    let worker = Arc::new(worker);
    while !*stop.borrow() {
        let (runner, working, stopping) = (app.clone(), worker.clone(), stop.clone());
        let next = tokio::task::spawn_blocking(move || {
            if let Err(error) = runner.enqueue_due_feeds(cordon_app::now()) {
                tracing::warn!(%error, "cannot queue the due feeds");
            }
            for outcome in runner.run_jobs(&working, &|| !*stopping.borrow()) {
                match (&outcome.run, &outcome.error) {
                    (Some(run), None) => tracing::info!(feed = %run.feed, status = run.status, bytes = run.bytes,
                                                       unchanged = run.unchanged, "feed run"),
                    (Some(run), Some(error)) => {
                        tracing::warn!(feed = %run.feed, status = run.status, %error, "feed run failed")
                    }
                    (None, error) => tracing::warn!(job = outcome.job, error = error.as_deref(), "job failed"),
                }
            }
            runner.next_feed_due().ok().flatten()
        })
        .await
        .ok()
        .flatten();
        let longest = IDLE_CHECK.min(worker.lease).max(Duration::from_secs(1));
        let wait = next.map_or(longest, |due| {
            Duration::from_secs(u64::try_from(due - cordon_app::now()).unwrap_or(0))
                .clamp(Duration::from_secs(1), longest)
        });
        tokio::select! {
            _ = stop.changed() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
