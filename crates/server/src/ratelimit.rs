//! Per-user rate limiting: a token bucket per authenticated user; a caller
//! over its rate gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// How many requests a user may make.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests at once, after a quiet spell.
    pub burst: f64,
}

impl Default for RateLimit {
    /// 200 requests a second, 400 at once: far above what a person or a
    /// blocklist fetcher needs, low enough to keep one token from starving
    /// the others.
    fn default() -> RateLimit {
        RateLimit { per_second: 200.0, burst: 400.0 }
    }
}

/// The buckets, by user.
pub(crate) struct Buckets {
    limit: RateLimit,
    levels: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    pub(crate) fn new(limit: RateLimit) -> Buckets {
        Buckets { limit, levels: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `user`'s bucket; `Err(seconds)` to wait when
    /// it is empty.
    pub(crate) fn take(&self, user: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        let (level, last) = levels.entry(user.to_string()).or_insert((self.limit.burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.limit.per_second;
        *level = (*level + refill).min(self.limit.burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - *level) / self.limit.per_second.max(f64::MIN_POSITIVE);
        Err(wait.ceil().max(1.0) as u64)
    }
}
