//! The budget of one process: the levels behind a mutex, callers waiting for their slot
//! (customers in their own queue first), and a waiter that gives up handing its slot back.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::rules::MAX_POLL;
use super::{Bucket, Change, Levels, Priority, RateLimit, Rules};

/// The budget of one process: the levels behind a mutex.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rules: Rules,
    state: Mutex<(Levels, Instant)>,
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
            self.limiter.change(Change::GiveBack(self.bucket));
        }
    }
}

impl RateLimiter {
    /// `share` (0, 1] of the bucket is open to [`Priority::Customer`] calls.
    pub(crate) fn with_customer_share(limit: RateLimit, share: f64) -> RateLimiter {
        RateLimiter::new(Rules::new(limit, share))
    }

    pub(crate) fn new(rules: Rules) -> RateLimiter {
        RateLimiter {
            rules,
            state: Mutex::new((Levels::default(), Instant::now())),
        }
    }

    /// Applies `change` to the levels as they are now.
    pub(crate) fn change(&self, change: Change) -> Duration {
        let mut state = self.state.lock().expect("not poisoned");
        let (levels, updated) = &mut *state;
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(*updated);
        *updated = now;
        self.rules.apply(levels, elapsed, change)
    }

    /// Takes a slot in `bucket`; how long until it may be used.
    fn reserve(&self, bucket: Bucket) -> (Reservation<'_>, Duration) {
        let wait = self.change(Change::Reserve(bucket));
        let reservation = Reservation {
            limiter: self,
            bucket,
            kept: false,
        };
        (reservation, wait)
    }

    /// How long a call of `priority` would wait now; reserves nothing.
    pub(crate) fn wait_now(&self, priority: Priority) -> Duration {
        self.change(Change::Peek(priority))
    }

    /// Waits for a slot, unless that would take longer than `max_wait`: then nothing is
    /// reserved and the wait it would have needed is returned.
    pub(crate) async fn acquire(
        &self,
        priority: Priority,
        max_wait: Duration,
    ) -> Result<(), Duration> {
        let started = Instant::now();
        let (queued, wait) = self.reserve(Bucket::queue(priority));
        if wait > max_wait {
            return Err(wait);
        }
        pause(wait).await;
        let left = max_wait.saturating_sub(started.elapsed());
        self.enter_shared(priority, left)
            .await
            .map_err(|waited| waited.saturating_add(started.elapsed()))?;
        queued.keep();
        Ok(())
    }

    /// A call whose turn has come in its own queue takes a place in the shared bucket, waiting
    /// (without holding a place) for room, and for its turn while the other priority waits too.
    async fn enter_shared(&self, priority: Priority, max_wait: Duration) -> Result<(), Duration> {
        let started = Instant::now();
        loop {
            let wait = self.change(Change::Enter(priority));
            if wait.is_zero() {
                return Ok(());
            }
            let left = max_wait.saturating_sub(started.elapsed());
            if wait > left {
                return Err(wait);
            }
            pause(wait.clamp(Duration::from_millis(1), MAX_POLL)).await;
        }
    }

    /// The portal said its bucket is full: assume ours is too, so following calls pace
    /// themselves instead of collecting more 503s.
    pub(crate) fn mark_full(&self) {
        self.change(Change::Fill);
    }
}

pub(crate) async fn pause(wait: Duration) {
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
        // The bucket is now full and customers wait too: the fifth background call waits for
        // its turn (the next drained slot is a customer's), not for the twenty customers.
        l.acquire(Background, Duration::MAX).await.unwrap();
        assert!(about(start.elapsed(), 2000), "{:?}", start.elapsed());
        for q in queued {
            q.await.unwrap().unwrap();
        }
        // Customers were paced at the drain rate, around the background's slot; once no
        // background call waits, they are back below their cap (the reserve is the
        // background's again).
        let e = start.elapsed();
        assert!(
            e >= Duration::from_secs(22) && e <= Duration::from_secs(26),
            "{e:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_background_backlog_does_not_keep_a_customer_out() {
        // Burst 4 at 2/s, customers up to 2 of it; the background owes 40 calls (20 s).
        let l = limiter(2.0, 4, 0.5);
        let backlog: Vec<_> = (0..40)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.acquire(Background, Duration::MAX).await })
            })
            .collect();
        tokio::task::yield_now().await;
        let start = Instant::now();
        // A customer that may wait 3 s gets in, within a slot or two.
        l.acquire(Customer, Duration::from_secs(3)).await.unwrap();
        assert!(
            start.elapsed() <= Duration::from_millis(1100),
            "{:?}",
            start.elapsed()
        );
        // While customers keep coming, the background keeps two slots in three.
        let mut customers = 1;
        while start.elapsed() < Duration::from_secs(6) {
            l.acquire(Customer, Duration::from_secs(3)).await.unwrap();
            customers += 1;
        }
        let background = backlog.iter().filter(|b| b.is_finished()).count();
        assert!((3..=5).contains(&customers), "{customers} customers");
        assert!(
            (10..=14).contains(&background),
            "{background} background calls"
        );
        for b in backlog {
            b.await.unwrap().unwrap();
        }
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

    #[tokio::test(start_paused = true)]
    async fn waits_can_be_read_without_reserving() {
        // Burst 4 at 2/s, customers up to 2 of it.
        let l = limiter(2.0, 4, 0.5);
        assert_eq!(l.wait_now(Customer), Duration::ZERO);
        l.acquire(Customer, Duration::MAX).await.unwrap();
        l.acquire(Customer, Duration::MAX).await.unwrap();
        // Customers are at their cap; the background still has room.
        assert!(
            about(l.wait_now(Customer), 500),
            "{:?}",
            l.wait_now(Customer)
        );
        assert_eq!(l.wait_now(Background), Duration::ZERO);
        // Asking reserved nothing: the next customer waits the same half second, not more.
        for _ in 0..5 {
            assert!(about(l.wait_now(Customer), 500));
        }
        let start = Instant::now();
        l.acquire(Customer, Duration::MAX).await.unwrap();
        assert!(about(start.elapsed(), 500), "{:?}", start.elapsed());
        l.acquire(Background, Duration::MAX).await.unwrap();
        assert_eq!(l.wait_now(Background), Duration::ZERO);
        l.mark_full();
        assert!(
            about(l.wait_now(Background), 500),
            "{:?}",
            l.wait_now(Background)
        );
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
        let (_r, wait) = l.reserve(Bucket::Shared);
        assert_eq!(wait, Duration::ZERO);
        let (_r, wait) = l.reserve(Bucket::Shared);
        assert_eq!(wait, Duration::MAX);
    }
}
