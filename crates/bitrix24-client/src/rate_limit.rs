//! A client-side leaky bucket matching the portal's: requests fill the bucket, it drains at a
//! steady rate, and a request that would overflow it waits instead of earning a 503.
//!
//! Two priorities share the bucket. [`Priority::Background`] calls (the work that settles money
//! already taken: marking payments paid) may fill all of it; [`Priority::Customer`] calls (a
//! customer is waiting) only up to a share of it, so that a flood of customers, or of anonymous
//! requests, can never leave the background work without a slot. Customers queue among
//! themselves first, in arrival order, and take their place in the shared bucket only when they
//! are about to be sent, so queued customers never delay a background call.
//!
//! A reservation belongs to its waiter: a waiter that is dropped (its request cancelled or timed
//! out) hands its slot back.

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

/// Who a call is for, when the bucket is contended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Priority {
    /// A customer (or any caller that can retry later) is waiting: may use the customer share
    /// of the bucket only ([`ClientBuilder::customer_share`](crate::ClientBuilder::customer_share)).
    #[default]
    Customer,
    /// Work that must get through (the outbox confirming charged payments): may use the whole
    /// bucket, including the part customers may not.
    Background,
}

/// Slack for floating-point drift, so a caller whose turn has come is not sent back to sleep
/// for a nanosecond.
const EPSILON: f64 = 1e-9;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    /// How full customer calls may make the shared bucket (at least 1).
    customer_cap: f64,
    state: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    /// The portal's bucket as we model it: requests sent, plus background reservations that
    /// are waiting for their turn.
    shared: f64,
    /// Customers' own queue (reservations in arrival order), draining at the same rate.
    customers: f64,
    updated: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    Shared,
    Customers,
}

impl Buckets {
    fn drain(&mut self, per_second: f64) {
        let now = Instant::now();
        let drained = now.duration_since(self.updated).as_secs_f64() * per_second;
        self.shared = (self.shared - drained).max(0.0);
        self.customers = (self.customers - drained).max(0.0);
        self.updated = now;
    }

    fn level(&mut self, bucket: Bucket) -> &mut f64 {
        match bucket {
            Bucket::Shared => &mut self.shared,
            Bucket::Customers => &mut self.customers,
        }
    }
}

/// A slot taken in one bucket; handed back when dropped before [`Reservation::keep`].
struct Reservation<'a> {
    limiter: &'a RateLimiter,
    bucket: Bucket,
    kept: bool,
}

impl Reservation<'_> {
    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.limiter.give_back(self.bucket);
        }
    }
}

/// `seconds` as a `Duration`, saturating instead of panicking on absurd values.
fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
}

impl RateLimiter {
    /// `share` (0, 1] of the bucket is open to [`Priority::Customer`] calls.
    pub(crate) fn with_customer_share(limit: RateLimit, share: f64) -> RateLimiter {
        let burst = f64::from(limit.burst.max(1));
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            1.0
        };
        RateLimiter {
            limit,
            customer_cap: (burst * share).floor().max(1.0),
            state: Mutex::new(Buckets {
                shared: 0.0,
                customers: 0.0,
                updated: Instant::now(),
            }),
        }
    }

    fn burst(&self) -> f64 {
        f64::from(self.limit.burst.max(1))
    }

    /// Takes a slot in `bucket` whose capacity is `cap`; how long until it may be used.
    fn reserve(&self, bucket: Bucket, cap: f64) -> (Reservation<'_>, Duration) {
        let mut b = self.state.lock().expect("not poisoned");
        b.drain(self.limit.per_second);
        let level = b.level(bucket);
        *level += 1.0;
        let over = *level - cap;
        let wait = if over <= EPSILON {
            Duration::ZERO
        } else {
            secs(over / self.limit.per_second)
        };
        let reservation = Reservation {
            limiter: self,
            bucket,
            kept: false,
        };
        (reservation, wait)
    }

    fn give_back(&self, bucket: Bucket) {
        let mut b = self.state.lock().expect("not poisoned");
        b.drain(self.limit.per_second);
        let level = b.level(bucket);
        *level = (*level - 1.0).max(0.0);
    }

    /// Waits for a slot, unless that would take longer than `max_wait`: then nothing is
    /// reserved and the wait it would have needed is returned.
    pub(crate) async fn acquire(
        &self,
        priority: Priority,
        max_wait: Duration,
    ) -> Result<(), Duration> {
        let started = Instant::now();
        match priority {
            Priority::Background => {
                let (reservation, wait) = self.reserve(Bucket::Shared, self.burst());
                if wait > max_wait {
                    return Err(wait);
                }
                pause(wait).await;
                reservation.keep();
                Ok(())
            }
            Priority::Customer => {
                let (queued, wait) = self.reserve(Bucket::Customers, self.customer_cap);
                if wait > max_wait {
                    return Err(wait);
                }
                pause(wait).await;
                let left = max_wait.saturating_sub(started.elapsed());
                self.enter_shared(left).await?;
                queued.keep();
                Ok(())
            }
        }
    }

    /// A customer whose turn has come in its own queue takes a place in the shared bucket,
    /// below the customer cap, waiting (without holding a place) while background calls use
    /// the reserve.
    async fn enter_shared(&self, max_wait: Duration) -> Result<(), Duration> {
        let started = Instant::now();
        loop {
            let wait = {
                let mut b = self.state.lock().expect("not poisoned");
                b.drain(self.limit.per_second);
                let over = b.shared + 1.0 - self.customer_cap;
                if over <= EPSILON {
                    b.shared += 1.0;
                    return Ok(());
                }
                secs(over / self.limit.per_second)
            };
            let left = max_wait.saturating_sub(started.elapsed());
            if wait > left {
                return Err(started.elapsed().saturating_add(wait));
            }
            pause(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// The portal said its bucket is full: assume ours is too, so following calls pace
    /// themselves instead of collecting more 503s.
    pub(crate) fn mark_full(&self) {
        let mut b = self.state.lock().expect("not poisoned");
        b.drain(self.limit.per_second);
        let full = self.burst();
        if b.shared < full {
            b.shared = full;
        }
    }
}

async fn pause(wait: Duration) {
    if wait.is_zero() {
        return;
    }
    tracing::debug!(
        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        "rate limit: waiting for a slot"
    );
    tokio::time::sleep(wait).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use Priority::{Background, Customer};

    fn limiter(per_second: f64, burst: u32, share: f64) -> Arc<RateLimiter> {
        Arc::new(RateLimiter::with_customer_share(
            RateLimit { per_second, burst },
            share,
        ))
    }

    fn about(actual: Duration, expected_ms: u64) -> bool {
        let ms = actual.as_secs_f64() * 1000.0;
        (ms - expected_ms as f64).abs() <= 12.0
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let l = limiter(2.0, 3, 1.0);
        let start = Instant::now();
        for _ in 0..3 {
            l.acquire(Customer, Duration::MAX).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        l.acquire(Customer, Duration::MAX).await.unwrap();
        assert!(about(start.elapsed(), 500), "{:?}", start.elapsed());
        l.acquire(Background, Duration::MAX).await.unwrap();
        assert!(about(start.elapsed(), 1000), "{:?}", start.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn drains_while_idle_and_mark_full_throttles() {
        let l = limiter(10.0, 2, 1.0);
        l.acquire(Customer, Duration::MAX).await.unwrap();
        l.acquire(Customer, Duration::MAX).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let start = Instant::now();
        l.acquire(Customer, Duration::MAX).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        l.mark_full();
        l.acquire(Customer, Duration::MAX).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(99));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beyond_the_budget_is_refused_and_not_reserved() {
        for priority in [Customer, Background] {
            let l = limiter(1.0, 1, 1.0);
            l.acquire(priority, Duration::ZERO).await.unwrap();
            let wait = l
                .acquire(priority, Duration::from_millis(500))
                .await
                .unwrap_err();
            assert!(wait > Duration::from_millis(900), "{wait:?}");
            // The refused call took no slot: the next one waits one interval, not two.
            let start = Instant::now();
            l.acquire(priority, Duration::from_secs(5)).await.unwrap();
            assert!(about(start.elapsed(), 1000), "{:?}", start.elapsed());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_hands_its_slot_back() {
        for priority in [Customer, Background] {
            let l = limiter(1.0, 1, 1.0);
            l.acquire(priority, Duration::MAX).await.unwrap();
            // Waits for the slot at t = 1 s, but is given up at t = 0.1 s.
            let gave_up = tokio::time::timeout(
                Duration::from_millis(100),
                l.acquire(priority, Duration::MAX),
            )
            .await;
            assert!(gave_up.is_err(), "{priority:?} should still be waiting");
            // Without the hand-back, this one would wait for t = 2 s.
            let start = Instant::now();
            l.acquire(priority, Duration::MAX).await.unwrap();
            assert!(
                about(start.elapsed(), 900),
                "{priority:?}: {:?}",
                start.elapsed()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn customers_leave_the_reserve_to_background_calls() {
        // Burst 10, customers may fill 6 of it: 4 slots stay for the background.
        let l = limiter(1.0, 10, 0.6);
        let start = Instant::now();
        for _ in 0..6 {
            l.acquire(Customer, Duration::MAX).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Twenty customers queue behind the cap...
        let queued: Vec<_> = (0..20)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.acquire(Customer, Duration::MAX).await })
            })
            .collect();
        tokio::task::yield_now().await;
        // ...and the background still goes through at once, four times.
        for _ in 0..4 {
            l.acquire(Background, Duration::MAX).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        // The bucket is now full: a fifth background call waits for the drain, not for the
        // twenty customers (who would take 20 s).
        l.acquire(Background, Duration::MAX).await.unwrap();
        assert!(about(start.elapsed(), 1000), "{:?}", start.elapsed());
        for q in queued {
            q.await.unwrap().unwrap();
        }
        // Customers were paced at the drain rate below their cap, around the background calls.
        let e = start.elapsed();
        assert!(
            e >= Duration::from_secs(24) && e <= Duration::from_secs(26),
            "{e:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_customer_refused_for_time_keeps_no_place() {
        let l = limiter(1.0, 2, 0.5);
        l.acquire(Customer, Duration::MAX).await.unwrap();
        // The shared bucket is at the customer cap: no customer slot within 100 ms.
        assert!(l
            .acquire(Customer, Duration::from_millis(100))
            .await
            .is_err());
        // The background reserve is untouched by the refused customer.
        let start = Instant::now();
        l.acquire(Background, Duration::ZERO).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn absurd_parameters_do_not_panic() {
        let l = RateLimiter::with_customer_share(
            RateLimit {
                per_second: 1e-300,
                burst: 1,
            },
            f64::NAN,
        );
        let (_r, wait) = l.reserve(Bucket::Shared, 1.0);
        assert_eq!(wait, Duration::ZERO);
        let (_r, wait) = l.reserve(Bucket::Shared, 1.0);
        assert_eq!(wait, Duration::MAX);
    }
}
