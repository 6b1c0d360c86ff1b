//! The portal's request-rate limit: a leaky bucket per portal. Each call adds one; the bucket
//! drains continuously; a call that would overflow it is refused with 503
//! `QUERY_LIMIT_EXCEEDED` (and does not fill it).

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Leaky-bucket parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Calls drained per second (2 on ordinary plans, 5 on Enterprise).
    pub drain_per_second: f64,
    /// Bucket size: how many calls may arrive at once (50; 250 on Enterprise).
    pub burst: u32,
}

impl RateLimit {
    /// The portal's default: 2 calls/s, burst 50.
    pub const PORTAL: RateLimit = RateLimit {
        drain_per_second: 2.0,
        burst: 50,
    };

    /// Enterprise plans: 5 calls/s, burst 250.
    pub const ENTERPRISE: RateLimit = RateLimit {
        drain_per_second: 5.0,
        burst: 250,
    };
}

impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit::PORTAL
    }
}

#[derive(Debug)]
pub(crate) struct LeakyBucket {
    limit: Option<RateLimit>,
    level: f64,
    last: Instant,
}

impl LeakyBucket {
    pub(crate) fn new(limit: Option<RateLimit>) -> LeakyBucket {
        LeakyBucket {
            limit,
            level: 0.0,
            last: Instant::now(),
        }
    }

    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Changing the limit starts with an empty bucket.
    pub(crate) fn set_limit(&mut self, limit: Option<RateLimit>) {
        *self = LeakyBucket::new(limit);
    }

    /// Whether a call arriving at `now` is admitted.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.level = (self.level - elapsed * limit.drain_per_second).max(0.0);
        if self.level + 1.0 > limit.burst as f64 {
            return false;
        }
        self.level += 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_drain() {
        let mut bucket = LeakyBucket::new(Some(RateLimit {
            drain_per_second: 2.0,
            burst: 3,
        }));
        let t0 = Instant::now();
        assert!(bucket.admit(t0));
        assert!(bucket.admit(t0));
        assert!(bucket.admit(t0));
        assert!(!bucket.admit(t0));
        assert!(bucket.admit(t0 + Duration::from_millis(500)));
        assert!(!bucket.admit(t0 + Duration::from_millis(500)));
    }

    #[test]
    fn no_limit_admits_everything() {
        let mut bucket = LeakyBucket::new(None);
        let t0 = Instant::now();
        assert!((0..1000).all(|_| bucket.admit(t0)));
    }
}
