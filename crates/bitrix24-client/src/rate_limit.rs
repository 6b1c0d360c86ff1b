//! A client-side leaky bucket matching the portal's: requests fill the bucket, it drains at a
//! steady rate, and a request that would overflow it waits instead of earning a 503.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Leaky-bucket parameters. The portal's defaults are 2 requests/s with a burst of 50
/// (5/s and 250 on the top plans).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Drain rate: sustained requests per second.
    pub per_second: f64,
    /// Bucket size: requests allowed back to back from an empty bucket.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 2.0,
            burst: 50,
        }
    }
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Requests in the bucket, including ones already admitted but waiting for their turn.
    level: f64,
    updated: Instant,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            state: Mutex::new(Bucket {
                level: 0.0,
                updated: Instant::now(),
            }),
        }
    }

    /// Reserves a slot and returns how long to wait before using it. Reservations are taken in
    /// arrival order, so waiting callers do not starve each other.
    fn reserve(&self) -> Duration {
        let mut b = self.state.lock().expect("not poisoned");
        let now = Instant::now();
        let drained = now.duration_since(b.updated).as_secs_f64() * self.limit.per_second;
        b.level = (b.level - drained).max(0.0);
        b.updated = now;
        b.level += 1.0;
        let over = b.level - f64::from(self.limit.burst.max(1));
        if over <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(over / self.limit.per_second)
        }
    }

    /// Waits for a slot, unless that would take longer than `max_wait`: then the reservation
    /// is given back and the wait it would have needed is returned.
    pub(crate) async fn acquire(&self, max_wait: Duration) -> Result<(), Duration> {
        let wait = self.reserve();
        if wait > max_wait {
            let mut b = self.state.lock().expect("not poisoned");
            b.level = (b.level - 1.0).max(0.0);
            return Err(wait);
        }
        if !wait.is_zero() {
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "rate limit: waiting for a slot"
            );
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// The portal said its bucket is full: assume ours is too, so following calls pace
    /// themselves instead of collecting more 503s.
    pub(crate) fn mark_full(&self) {
        let mut b = self.state.lock().expect("not poisoned");
        let full = f64::from(self.limit.burst.max(1));
        if b.level < full {
            b.level = full;
            b.updated = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let l = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3,
        });
        let start = Instant::now();
        for _ in 0..3 {
            l.acquire(Duration::MAX).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        l.acquire(Duration::MAX).await.unwrap();
        let e = start.elapsed();
        assert!(
            e >= Duration::from_millis(499) && e <= Duration::from_millis(510),
            "{e:?}"
        );
        l.acquire(Duration::MAX).await.unwrap();
        let e = start.elapsed();
        assert!(
            e >= Duration::from_millis(999) && e <= Duration::from_millis(1010),
            "{e:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn drains_while_idle_and_mark_full_throttles() {
        let l = RateLimiter::new(RateLimit {
            per_second: 10.0,
            burst: 2,
        });
        l.acquire(Duration::MAX).await.unwrap();
        l.acquire(Duration::MAX).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let start = Instant::now();
        l.acquire(Duration::MAX).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        l.mark_full();
        l.acquire(Duration::MAX).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(99));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beyond_the_budget_is_refused_and_not_reserved() {
        let l = RateLimiter::new(RateLimit {
            per_second: 1.0,
            burst: 1,
        });
        l.acquire(Duration::ZERO).await.unwrap();
        let wait = l.acquire(Duration::from_millis(500)).await.unwrap_err();
        assert!(wait > Duration::from_millis(900), "{wait:?}");
        // The refused call took no slot: the next one waits one interval, not two.
        let start = Instant::now();
        l.acquire(Duration::from_secs(5)).await.unwrap();
        assert!(
            start.elapsed() <= Duration::from_millis(1010),
            "{:?}",
            start.elapsed()
        );
    }
}
