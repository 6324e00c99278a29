//! Prometheus metrics: requests by route and status, and their latency;
//! the store's imports and their records; the lookup indexes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cordon_app::App;

use crate::lookup::Indexes;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 8] = [0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0, 5.0];

/// One route's counts: requests by status (in status order) and the
/// latency histogram (counts per bucket, count, sum).
#[derive(Default)]
struct RouteCounts {
    statuses: Vec<(u16, u64)>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters kept in memory, and where the others are read.
pub(crate) struct Metrics {
    /// By route template; a request allocates nothing once its route and
    /// status have been seen.
    routes: Mutex<BTreeMap<String, RouteCounts>>,
    app: Arc<App>,
    lookups: Arc<Indexes>,
}

impl Metrics {
    /// Metrics of a server on `app` whose lookups use `lookups`.
    pub(crate) fn new(app: Arc<App>, lookups: Arc<Indexes>) -> Metrics {
        Metrics { routes: Mutex::default(), app, lookups }
    }

    /// Counts one answered request.
    pub(crate) fn record(&self, route: &str, status: u16, took: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), RouteCounts::default());
        }
        let Some(counts) = routes.get_mut(route) else { return };
        match counts.statuses.binary_search_by_key(&status, |(s, _)| *s) {
            Ok(at) => counts.statuses[at].1 += 1,
            Err(at) => counts.statuses.insert(at, (status, 1)),
        }
        let seconds = took.as_secs_f64();
        for (bucket, bound) in counts.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        counts.count += 1;
        counts.sum += seconds;
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from("# TYPE cordon_http_requests_total counter\n");
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        for (route, counts) in routes.iter() {
            for (status, n) in &counts.statuses {
                let _ = writeln!(out, "cordon_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        out.push_str("# TYPE cordon_http_request_duration_seconds histogram\n");
        for (route, RouteCounts { buckets, count, sum, .. }) in routes.iter() {
            for (n, bound) in buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "cordon_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ =
                writeln!(out, "cordon_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "cordon_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "cordon_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        drop(routes);
        self.render_store(&mut out);
        let (views, entries, generation) = self.lookups.stats();
        let _ = writeln!(out, "# TYPE cordon_lookup_index_views gauge\ncordon_lookup_index_views {views}");
        let _ = writeln!(out, "# TYPE cordon_lookup_index_entries gauge\ncordon_lookup_index_entries {entries}");
        if let Some(generation) = generation {
            let _ = writeln!(
                out,
                "# TYPE cordon_lookup_index_generation gauge\ncordon_lookup_index_generation {generation}"
            );
        }
        out
    }

    /// Imports into the store (by any front end) and their records, and
    /// the store's generation; left out when the store cannot be read, so
    /// that a scrape still answers.
    fn render_store(&self, out: &mut String) {
        let hub = match self.app.viewer(None) {
            Ok(hub) => hub,
            Err(_) => return,
        };
        if let Ok(imports) = self.app.imports(&hub) {
            let _ = writeln!(out, "# TYPE cordon_imports_total counter\ncordon_imports_total {}", imports.len());
            let sum =
                |pick: fn(&cordon_store::ImportCounts) -> u64| imports.iter().map(|i| pick(&i.counts)).sum::<u64>();
            out.push_str("# TYPE cordon_import_records_total counter\n");
            for (outcome, n) in
                [("accepted", sum(|c| c.accepted)), ("rejected", sum(|c| c.rejected)), ("skipped", sum(|c| c.skipped))]
            {
                let _ = writeln!(out, "cordon_import_records_total{{outcome=\"{outcome}\"}} {n}");
            }
        }
        if let Ok(generation) = self.app.generation() {
            let _ = writeln!(out, "# TYPE cordon_store_generation gauge\ncordon_store_generation {generation}");
        }
    }
}
