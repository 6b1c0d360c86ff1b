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
//!
//! The arithmetic ([`Rules`] over [`Levels`]) is public so that a budget kept outside this
//! process — a database row that several instances share, see [`crate::SharedBudget`] — runs
//! exactly the same rules as the in-process one.

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

/// A budget's two levels, in requests.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Levels {
    /// The portal's bucket as we model it: requests sent, plus background reservations that
    /// are waiting for their turn.
    pub shared: f64,
    /// Customers' own queue (reservations in arrival order), draining at the same rate.
    pub customers: f64,
}

/// One of the two levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Shared,
    Customers,
}

/// One change to a budget's levels; [`Rules::apply`] answers a wait for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Takes a place in the bucket (the shared one up to the burst, the customers' queue up to
    /// the customer cap); answers how long until it may be used.
    Reserve(Bucket),
    /// A customer whose turn has come in its queue enters the shared bucket below the customer
    /// cap and answers zero; when there is no room it takes nothing and answers the wait.
    Enter,
    /// A reservation not used: its place is handed back.
    GiveBack(Bucket),
    /// Changes nothing: how long a call of this priority would wait now.
    Peek(Priority),
    /// The portal said its bucket is full: assume ours is too.
    Fill,
}

/// The leaky bucket's rules: the limit and the customers' cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    limit: RateLimit,
    /// How full customer calls may make the shared bucket (at least 1).
    customer_cap: f64,
}

/// `seconds` as a `Duration`, saturating instead of panicking on absurd values.
fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
}

impl Rules {
    /// `share` (0, 1] of the bucket is open to [`Priority::Customer`] calls.
    pub fn new(limit: RateLimit, share: f64) -> Rules {
        let burst = f64::from(limit.burst.max(1));
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            1.0
        };
        Rules {
            limit,
            customer_cap: (burst * share).floor().max(1.0),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn burst(&self) -> f64 {
        f64::from(self.limit.burst.max(1))
    }

    /// How long until a level, over `cap` by `over`, has drained back to it.
    fn wait_for(&self, over: f64) -> Duration {
        if over <= EPSILON {
            Duration::ZERO
        } else {
            secs(over / self.limit.per_second)
        }
    }

    /// Drains `levels` for `elapsed`, then applies `change` and answers its wait.
    pub fn apply(&self, levels: &mut Levels, elapsed: Duration, change: Change) -> Duration {
        let drained = elapsed.as_secs_f64() * self.limit.per_second;
        levels.shared = (levels.shared - drained).max(0.0);
        levels.customers = (levels.customers - drained).max(0.0);
        match change {
            Change::Reserve(bucket) => {
                let (level, cap) = match bucket {
                    Bucket::Shared => (&mut levels.shared, self.burst()),
                    Bucket::Customers => (&mut levels.customers, self.customer_cap),
                };
                *level += 1.0;
                self.wait_for(*level - cap)
            }
            Change::Enter => {
                let wait = self.wait_for(levels.shared + 1.0 - self.customer_cap);
                if wait.is_zero() {
                    levels.shared += 1.0;
                }
                wait
            }
            Change::GiveBack(bucket) => {
                let level = match bucket {
                    Bucket::Shared => &mut levels.shared,
                    Bucket::Customers => &mut levels.customers,
                };
                *level = (*level - 1.0).max(0.0);
                Duration::ZERO
            }
            Change::Peek(Priority::Background) => self.wait_for(levels.shared + 1.0 - self.burst()),
            // The queue's wait and then room below the cap; the shared bucket drains meanwhile.
            Change::Peek(Priority::Customer) => self
                .wait_for(levels.customers + 1.0 - self.customer_cap)
                .max(self.wait_for(levels.shared + 1.0 - self.customer_cap)),
            Change::Fill => {
                levels.shared = levels.shared.max(self.burst());
                Duration::ZERO
            }
        }
    }
}

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
        match priority {
            Priority::Background => {
                let (reservation, wait) = self.reserve(Bucket::Shared);
                if wait > max_wait {
                    return Err(wait);
                }
                pause(wait).await;
                reservation.keep();
                Ok(())
            }
            Priority::Customer => {
                let (queued, wait) = self.reserve(Bucket::Customers);
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
            let wait = self.change(Change::Enter);
            if wait.is_zero() {
                return Ok(());
            }
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
    fn rules_drain_before_they_change() {
        let rules = Rules::new(
            RateLimit {
                per_second: 2.0,
                burst: 10,
            },
            0.5,
        );
        let mut levels = Levels {
            shared: 6.0,
            customers: 1.0,
        };
        // One second drains two requests from each level, never below empty.
        let wait = rules.apply(&mut levels, Duration::from_secs(1), Change::Enter);
        assert_eq!(wait, Duration::ZERO);
        assert_eq!(
            levels,
            Levels {
                shared: 5.0,
                customers: 0.0
            }
        );
        // At the customer cap (5): no room, nothing taken, the wait until there is.
        let wait = rules.apply(&mut levels, Duration::ZERO, Change::Enter);
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(levels.shared, 5.0);
        let wait = rules.apply(&mut levels, Duration::ZERO, Change::Reserve(Bucket::Shared));
        assert_eq!(wait, Duration::ZERO);
        rules.apply(
            &mut levels,
            Duration::ZERO,
            Change::GiveBack(Bucket::Shared),
        );
        assert_eq!(levels.shared, 5.0);
        rules.apply(&mut levels, Duration::ZERO, Change::Fill);
        assert_eq!(levels.shared, 10.0);
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
