//! Prometheus metrics: requests by route and status, and their latency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 8] = [0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0, 5.0];

/// One route's latency histogram: counts per bucket, count, sum.
type Histogram = ([u64; BUCKETS.len()], u64, f64);

/// Counters kept in memory.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
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
        out
    }
}
