//! Limits that protect the server from a runaway or hostile client: requests per second per
//! caller, counted in token buckets (the middleware that applies them is in `app`), and the
//! body size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use ardoise_core::sync::protocol::MAX_BODY_BYTES;

/// Past this many remembered callers, full buckets (callers idle long enough to be back to
/// a full burst) are forgotten: they would behave the same as new ones.
const PRUNE_AT: usize = 10_000;

/// A token bucket per caller: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// 0 disables the limit.
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { per_second: 50, burst: 100 }
    }
}

/// What one device may put into its shop's log: events per UTC day (429 past it, until the
/// next day) and bytes of payload stored in all (413 past it, until the operator raises it).
/// A till records a few hundred events on a busy day and a few KiB per hundred: the defaults
/// leave a wide margin for a till back from weeks offline, and stop a runaway or hostile one
/// long before it fills the disk. 0 disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub events_per_day: u64,
    pub bytes_stored: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota { events_per_day: 200_000, bytes_stored: 1 << 30 }
    }
}

#[derive(Debug)]
pub(crate) struct Limiter {
    rate: RateLimit,
    state: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    map: HashMap<String, Bucket>,
    pruned: Instant,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    pub(crate) fn new(rate: RateLimit) -> Limiter {
        Limiter { rate, state: Mutex::new(Buckets { map: HashMap::new(), pruned: Instant::now() }) }
    }

    /// Takes one request from `key`'s bucket; false when it is empty.
    pub(crate) fn allow(&self, key: &str) -> bool {
        if self.rate.per_second == 0 {
            return true;
        }
        let (rate, burst) = (f64::from(self.rate.per_second), f64::from(self.rate.burst.max(1)));
        let refill = |b: &Bucket, now: Instant| (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.map.len() >= PRUNE_AT && now.duration_since(state.pruned) >= Duration::from_secs(1) {
            state.map.retain(|_, b| refill(b, now) < burst);
            state.pruned = now;
        }
        let bucket = state.map.entry(key.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        bucket.tokens = refill(bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals_and_other_callers_are_not_affected() {
        let limiter = Limiter::new(RateLimit { per_second: 1, burst: 3 });
        assert!((0..3).all(|_| limiter.allow("a")));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
    }

    #[test]
    fn zero_disables_the_limit() {
        let limiter = Limiter::new(RateLimit { per_second: 0, burst: 0 });
        assert!((0..1000).all(|_| limiter.allow("a")));
    }
}
