//! [`Lease`]: a value read from the store and trusted for a while (an
//! authentication, the store's generation). Past half its time the next
//! user renews it in the background, one at a time, while the others go on
//! with it: a busy server never has its callers queue for the store when a
//! lease runs out, and an unused lease simply ends.

use std::time::{Duration, Instant};

/// A value and when the read that gave it began.
pub(crate) struct Lease<T> {
    value: T,
    read: Instant,
    /// Whether a renewal is under way.
    renewing: bool,
}

impl<T: Clone> Lease<T> {
    /// `value`, as read from `read` on.
    pub(crate) fn new(value: T, read: Instant) -> Lease<T> {
        Lease { value, read, renewing: false }
    }

    /// The value while it holds (`ttl` from its read), and whether this
    /// caller is to renew it: true past half of `ttl`, for one caller until
    /// the renewal is [`settled`](Lease::settle).
    pub(crate) fn take(&mut self, ttl: Duration) -> Option<(T, bool)> {
        let age = self.read.elapsed();
        if age >= ttl {
            return None;
        }
        let renew = age >= ttl / 2 && !self.renewing;
        self.renewing |= renew;
        Some((self.value.clone(), renew))
    }

    /// The value while it holds, renewing nothing.
    pub(crate) fn peek(&self, ttl: Duration) -> Option<T> {
        (self.read.elapsed() < ttl).then(|| self.value.clone())
    }

    /// A read that began at `read` gave `value` (kept unless this lease is
    /// of a later read), or failed (`None`: the lease ages on); either ends
    /// the renewal under way.
    pub(crate) fn settle(&mut self, value: Option<T>, read: Instant) {
        if let Some(value) = value.filter(|_| read >= self.read) {
            self.value = value;
            self.read = read;
        }
        self.renewing = false;
    }

    /// Whether it still holds.
    pub(crate) fn holds(&self, ttl: Duration) -> bool {
        self.read.elapsed() < ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_millis(250);

    fn ago(ms: u64) -> Instant {
        Instant::now().checked_sub(Duration::from_millis(ms)).unwrap_or_else(Instant::now)
    }

    /// Fresh: nobody renews. Half spent: one caller renews, the others go
    /// on with the value. Renewed: fresh again. A spent lease is nothing.
    #[test]
    fn a_half_spent_lease_is_renewed_once_and_a_spent_one_ends() {
        let mut lease = Lease::new(1, Instant::now());
        assert_eq!(lease.take(TTL), Some((1, false)));
        let mut lease = Lease::new(1, ago(150));
        assert_eq!(lease.take(TTL), Some((1, true)), "this caller renews");
        assert_eq!(lease.take(TTL), Some((1, false)), "one renewal at a time");
        lease.settle(Some(2), ago(300));
        assert_eq!(lease.take(TTL), Some((1, true)), "an older read never replaces a newer");
        lease.settle(Some(2), Instant::now());
        assert_eq!(lease.take(TTL), Some((2, false)), "renewed");
        let mut spent = Lease::new(1, ago(260));
        assert_eq!((spent.take(TTL), spent.peek(TTL), spent.holds(TTL)), (None, None, false));
        let mut failed = Lease::new(1, ago(150));
        assert_eq!(failed.take(TTL), Some((1, true)));
        failed.settle(None, Instant::now());
        assert_eq!(failed.take(TTL), Some((1, true)), "a failed renewal lets the next caller try");
    }
}
