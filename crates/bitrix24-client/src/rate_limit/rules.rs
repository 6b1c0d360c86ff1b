//! The leaky bucket's arithmetic, kept apart from any clock or lock so that the in-process
//! budget and one kept in a database row apply exactly the same rules.

use std::time::Duration;

use super::{Priority, RateLimit};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
