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

/// One route's latency histogram: counts per bucket, count, sum.
type Histogram = ([u64; BUCKETS.len()], u64, f64);

/// Counters kept in memory, and where the others are read.
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    app: Arc<App>,
    lookups: Arc<Indexes>,
}

impl Metrics {
    /// Metrics of a server on `app` whose lookups use `lookups`.
    pub(crate) fn new(app: Arc<App>, lookups: Arc<Indexes>) -> Metrics {
        Metrics { requests: Mutex::default(), latency: Mutex::default(), app, lookups }
    }

    /// Counts one answered request.
    pub(crate) fn record(&self, route: &str, status: u16, took: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests.entry((route.to_string(), status)).or_default() += 1;
        drop(requests);
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let (buckets, count, sum) = latency.entry(route.to_string()).or_insert(([0; BUCKETS.len()], 0, 0.0));
        let seconds = took.as_secs_f64();
        for (bucket, bound) in buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        *count += 1;
        *sum += seconds;
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from("# TYPE cordon_http_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "cordon_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# TYPE cordon_http_request_duration_seconds histogram\n");
        for (route, (buckets, count, sum)) in self.latency.lock().unwrap_or_else(|p| p.into_inner()).iter() {
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
