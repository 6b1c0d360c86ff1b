//! The portal's request budget as the client waits for it: [`Budget`]. By default every
//! client has one of its own, in memory ([`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit));
//! processes that share one portal share one budget instead ([`ClientBuilder::budget`](crate::ClientBuilder::budget)):
//! [`SharedBudget`] runs the same [`Rules`] over levels kept elsewhere ([`SharedLevels`], e.g. a
//! database row changed atomically), so the portal sees one leaky bucket's worth of requests
//! however many instances call it, customers queue first come first served across all of them,
//! and the background calls keep their reserve.
//!
//! Waiting is fair and bounded: each caller's place is fixed when it asks (a reservation in
//! arrival order), so the wait is known at once; a caller that would wait longer than it may is
//! told so at once, with nothing reserved; a caller dropped while it waits hands its place back.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::auth::{BoxError, BoxFuture};
use crate::rate_limit::{pause, Bucket, Change, Priority, RateLimiter, Rules, MAX_POLL};

/// A request budget the client takes a slot from before every request.
pub trait Budget: Send + Sync + std::fmt::Debug + 'static {
    /// Waits for a slot for a call of `priority`, unless that would take longer than
    /// `max_wait`: then nothing is reserved and the wait it would have needed is returned.
    /// Dropping the future while it waits hands the place back.
    fn acquire(
        &self,
        priority: Priority,
        max_wait: Duration,
    ) -> BoxFuture<'_, Result<(), Duration>>;

    /// How long a call of `priority` would wait now; reserves nothing. Lets a caller keep
    /// gathering work (a batch) until its slot is there.
    fn wait_now(&self, priority: Priority) -> BoxFuture<'_, Duration>;

    /// The portal answered `QUERY_LIMIT_EXCEEDED`: its bucket is full.
    fn mark_full(&self) -> BoxFuture<'_, ()>;

    /// A gatherer of `priority` has a batch ready (full, or held long enough): how long its
    /// call would wait now; noted as waiting when it would ([`Change::Ready`]).
    fn ready_wait(&self, priority: Priority) -> BoxFuture<'_, Duration> {
        self.wait_now(priority)
    }

    /// How long until the bucket is back at half full; above zero the budget is under
    /// sustained pressure ([`Change::Pressure`]). Reserves nothing.
    fn pressure(&self) -> BoxFuture<'_, Duration> {
        Box::pin(async { Duration::ZERO })
    }
}

impl Budget for RateLimiter {
    fn acquire(
        &self,
        priority: Priority,
        max_wait: Duration,
    ) -> BoxFuture<'_, Result<(), Duration>> {
        Box::pin(RateLimiter::acquire(self, priority, max_wait))
    }

    fn wait_now(&self, priority: Priority) -> BoxFuture<'_, Duration> {
        let wait = RateLimiter::wait_now(self, priority);
        Box::pin(async move { wait })
    }

    fn mark_full(&self) -> BoxFuture<'_, ()> {
        RateLimiter::mark_full(self);
        Box::pin(async {})
    }

    fn ready_wait(&self, priority: Priority) -> BoxFuture<'_, Duration> {
        let wait = self.change(Change::Ready(priority));
        Box::pin(async move { wait })
    }

    fn pressure(&self) -> BoxFuture<'_, Duration> {
        let wait = self.change(Change::Pressure);
        Box::pin(async move { wait })
    }
}

/// Levels kept outside this process, shared by every process that calls the portal.
pub trait SharedLevels: Send + Sync + 'static {
    /// Atomically, for every process sharing the levels: reads them (empty when there are
    /// none yet), drains them for the time since they were last changed, applies `change`
    /// with [`Rules::apply`], stores them, and answers the change's wait.
    fn apply(&self, rules: Rules, change: Change) -> BoxFuture<'_, Result<Duration, BoxError>>;
}

/// A [`Budget`] over [`SharedLevels`], with the same rules and order as the in-process one.
/// When the shared levels cannot be reached, it logs and falls back to a budget of this
/// process alone (still rate limited, just not shared) rather than failing calls.
pub struct SharedBudget {
    levels: Arc<dyn SharedLevels>,
    rules: Rules,
    local: RateLimiter,
}

impl std::fmt::Debug for SharedBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBudget")
            .field("rules", &self.rules)
            .finish()
    }
}

/// A place taken in the shared levels; handed back (by a task of its own, since handing back
/// needs the shared store) when dropped before [`Held::keep`].
struct Held {
    levels: Arc<dyn SharedLevels>,
    rules: Rules,
    bucket: Bucket,
    kept: bool,
}

impl Held {
    fn keep(mut self) {
        self.kept = true;
    }

    async fn give_back(mut self) {
        self.kept = true;
        let _ = self
            .levels
            .apply(self.rules, Change::GiveBack(self.bucket))
            .await;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let (levels, rules, bucket) = (self.levels.clone(), self.rules, self.bucket);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = levels.apply(rules, Change::GiveBack(bucket)).await;
            });
        }
    }
}

/// The shared levels could not be used: fall back to this process's own budget.
struct Unreachable;

impl SharedBudget {
    pub fn new(levels: Arc<dyn SharedLevels>, rules: Rules) -> SharedBudget {
        SharedBudget {
            levels,
            rules,
            local: RateLimiter::new(rules),
        }
    }

    async fn change(&self, change: Change) -> Result<Duration, Unreachable> {
        self.levels.apply(self.rules, change).await.map_err(|e| {
            tracing::warn!(error = %e, "the shared request budget is unreachable; pacing this process alone");
            Unreachable
        })
    }

    async fn reserve(&self, bucket: Bucket) -> Result<(Held, Duration), Unreachable> {
        let wait = self.change(Change::Reserve(bucket)).await?;
        let held = Held {
            levels: self.levels.clone(),
            rules: self.rules,
            bucket,
            kept: false,
        };
        Ok((held, wait))
    }

    async fn acquire_shared(
        &self,
        priority: Priority,
        max_wait: Duration,
    ) -> Result<Result<(), Duration>, Unreachable> {
        let started = Instant::now();
        let (held, wait) = self.reserve(Bucket::queue(priority)).await?;
        if wait > max_wait {
            held.give_back().await;
            return Ok(Err(wait));
        }
        pause(wait).await;
        // Its turn in its own queue has come: now room in the shared bucket (and its turn there
        // while the other priority waits too).
        loop {
            let wait = self.change(Change::Enter(priority)).await?;
            if wait.is_zero() {
                break;
            }
            let left = max_wait.saturating_sub(started.elapsed());
            if wait > left {
                held.give_back().await;
                return Ok(Err(started.elapsed().saturating_add(wait)));
            }
            pause(wait.clamp(Duration::from_millis(1), MAX_POLL)).await;
        }
        held.keep();
        Ok(Ok(()))
    }
}

impl Budget for SharedBudget {
    fn acquire(
        &self,
        priority: Priority,
        max_wait: Duration,
    ) -> BoxFuture<'_, Result<(), Duration>> {
        Box::pin(async move {
            match self.acquire_shared(priority, max_wait).await {
                Ok(answer) => answer,
                Err(Unreachable) => self.local.acquire(priority, max_wait).await,
            }
        })
    }

    fn wait_now(&self, priority: Priority) -> BoxFuture<'_, Duration> {
        Box::pin(async move {
            match self.change(Change::Peek(priority)).await {
                Ok(wait) => wait,
                Err(Unreachable) => self.local.wait_now(priority),
            }
        })
    }

    fn mark_full(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.local.mark_full();
            let _ = self.change(Change::Fill).await;
        })
    }

    fn ready_wait(&self, priority: Priority) -> BoxFuture<'_, Duration> {
        Box::pin(async move {
            match self.change(Change::Ready(priority)).await {
                Ok(wait) => wait,
                Err(Unreachable) => self.local.change(Change::Ready(priority)),
            }
        })
    }

    fn pressure(&self) -> BoxFuture<'_, Duration> {
        Box::pin(async move {
            match self.change(Change::Pressure).await {
                Ok(wait) => wait,
                Err(Unreachable) => self.local.change(Change::Pressure),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_limit::{Levels, RateLimit};
    use std::sync::Mutex;

    /// Levels "elsewhere": a mutex, with a switch that makes them unreachable.
    #[derive(Default)]
    struct Memory {
        state: Mutex<Option<(Levels, Instant)>>,
        down: std::sync::atomic::AtomicBool,
    }

    impl SharedLevels for Memory {
        fn apply(&self, rules: Rules, change: Change) -> BoxFuture<'_, Result<Duration, BoxError>> {
            let answer = if self.down.load(std::sync::atomic::Ordering::SeqCst) {
                Err("down".into())
            } else {
                let mut state = self.state.lock().unwrap();
                let (levels, at) = state.get_or_insert((Levels::default(), Instant::now()));
                let now = Instant::now();
                let wait = rules.apply(levels, now.saturating_duration_since(*at), change);
                *at = now;
                Ok(wait)
            };
            Box::pin(async move { answer })
        }
    }

    fn rules() -> Rules {
        Rules::new(
            RateLimit {
                per_second: 1.0,
                burst: 4,
            },
            0.5,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn two_budgets_over_one_set_of_levels_share_it() {
        let levels = Arc::new(Memory::default());
        let a = SharedBudget::new(levels.clone(), rules());
        let b = SharedBudget::new(levels.clone(), rules());
        let start = Instant::now();
        // Customers may fill 2 of 4: one each, then the third waits a second, wherever it is.
        a.acquire(Priority::Customer, Duration::MAX).await.unwrap();
        b.acquire(Priority::Customer, Duration::MAX).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(a.wait_now(Priority::Customer).await, Duration::from_secs(1));
        assert_eq!(b.wait_now(Priority::Background).await, Duration::ZERO);
        // The reserve is the background's, in either process.
        a.acquire(Priority::Background, Duration::ZERO)
            .await
            .unwrap();
        b.acquire(Priority::Background, Duration::ZERO)
            .await
            .unwrap();
        assert!(a
            .acquire(Priority::Background, Duration::ZERO)
            .await
            .is_err());
        b.acquire(Priority::Customer, Duration::MAX).await.unwrap();
        // Full: the customer waited for a drained slot, which is its turn since a background
        // call asked for one too (in the other process).
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_or_dropped_waiter_keeps_no_place() {
        let levels = Arc::new(Memory::default());
        let budget = Arc::new(SharedBudget::new(levels.clone(), rules()));
        budget
            .acquire(Priority::Customer, Duration::MAX)
            .await
            .unwrap();
        budget
            .acquire(Priority::Customer, Duration::MAX)
            .await
            .unwrap();
        // Refused for time: nothing kept.
        let refused = budget
            .acquire(Priority::Customer, Duration::from_millis(100))
            .await;
        assert!(refused.is_err());
        // Dropped while waiting: handed back.
        let waiting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.acquire(Priority::Customer, Duration::MAX).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        waiting.abort();
        let _ = waiting.await;
        tokio::task::yield_now().await;
        // The next customer waits for the drain only: 1 s from the start, not 2 or 3.
        let start = Instant::now();
        budget
            .acquire(Priority::Customer, Duration::MAX)
            .await
            .unwrap();
        assert!(
            start.elapsed() <= Duration::from_millis(950),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unreachable_levels_fall_back_to_this_process() {
        let levels = Arc::new(Memory::default());
        levels.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let budget = SharedBudget::new(levels, rules());
        let start = Instant::now();
        for _ in 0..3 {
            budget
                .acquire(Priority::Customer, Duration::MAX)
                .await
                .unwrap();
        }
        // Still paced (customers' cap 2 at 1/s), not failed.
        assert!(
            start.elapsed() >= Duration::from_millis(990),
            "{:?}",
            start.elapsed()
        );
        budget.mark_full().await;
        assert!(budget.wait_now(Priority::Background).await > Duration::ZERO);
    }
}
