//! The leaky bucket's arithmetic, kept apart from any clock or lock so that the in-process
//! budget and one kept in a database row apply exactly the same rules.
//!
//! Each priority queues among itself first (its own level, in arrival order), then enters the
//! shared bucket when there is room. Alone, customers may fill the bucket up to their cap and
//! the background all of it. While both wait (each says so when it finds no room: its
//! `waiting` level), the slots are taken in turns — customers one in three, the background two
//! in three, since a payment costs the customers one read and the outbox a call and its re-read
//! — and customers may then use the whole bucket too: neither class can keep the other out,
//! however long its own backlog.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Priority, RateLimit};

/// Slack for floating-point drift, so a caller whose turn has come is not sent back to sleep
/// for a nanosecond.
const EPSILON: f64 = 1e-9;

/// The customers' share of the slots while both priorities wait; the background has the rest.
pub const CUSTOMER_TURNS: f64 = 1.0 / 3.0;

/// The longest a waiter sleeps before it looks again (and says again that it waits): a waiter
/// that has gone away holds the other priority to turns for at most about this long.
pub const MAX_POLL: Duration = Duration::from_millis(500);

/// A budget's levels, in requests (`turn` excepted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Levels {
    /// The portal's bucket as we model it: the requests sent.
    pub shared: f64,
    /// Customers' own queue (reservations in arrival order), draining at the bucket's rate.
    pub customers: f64,
    /// The background's own queue, likewise.
    pub background: f64,
    /// Above zero while a customer found no room and waits for it (drains at the same rate).
    pub customers_waiting: f64,
    /// Above zero while a background call found no room and waits for it.
    pub background_waiting: f64,
    /// Above zero while a customer batch is ready to go and waits ([`Change::Ready`]): with no
    /// background call waiting or queued, it may use the background's reserve, which would
    /// otherwise stand idle while the bucket drains to the customers' cap.
    pub customers_ready: f64,
    /// Whose turn it is while both wait, in [-1, 1]: customers may go at zero and above, the
    /// background at zero and below. A customer's slot lowers it by the background's share, a
    /// background slot raises it by the customers'.
    pub turn: f64,
}

/// One of the levels a place can be taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// The portal's bucket itself (up to the burst, then in line beyond it).
    Shared,
    /// The customers' queue.
    Customers,
    /// The background's queue.
    Background,
}

impl Bucket {
    /// The queue a call of `priority` lines up in.
    pub fn queue(priority: Priority) -> Bucket {
        match priority {
            Priority::Customer => Bucket::Customers,
            Priority::Background => Bucket::Background,
        }
    }
}

/// One change to a budget's levels; [`Rules::apply`] answers a wait for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Takes a place in a level (the shared bucket up to the burst, the customers' queue up to
    /// the customer cap, the background's up to the burst); answers how long until it may be
    /// used.
    Reserve(Bucket),
    /// A call whose turn has come in its queue enters the shared bucket and answers zero; when
    /// there is no room for it (or, while the other priority waits too, it is not its turn) it
    /// takes nothing, notes that it waits, and answers how long until it should look again.
    Enter(Priority),
    /// A reservation not used: its place is handed back.
    GiveBack(Bucket),
    /// Changes nothing: how long a call of this priority would wait now.
    Peek(Priority),
    /// A call of this priority is ready to go (a full batch, or one held long enough): how
    /// long it would wait now, like [`Change::Peek`]; when it would wait, it is noted as
    /// waiting, as an [`Change::Enter`] that found no room is, so the other priority takes
    /// turns with it instead of keeping it out (e.g. customers at their cap).
    Ready(Priority),
    /// Changes nothing: how long until the shared bucket has drained to half full. Above zero,
    /// the budget is under sustained pressure: a request sent now is one less later, so a
    /// batch is better sent full than at once.
    Pressure,
    /// The portal said its bucket is full: assume ours is too.
    Fill,
}

/// The leaky bucket's rules: the limit and the customers' cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    limit: RateLimit,
    /// How full customer calls may make the shared bucket while no background call waits (at
    /// least 1).
    customer_cap: f64,
}

/// `seconds` as a `Duration`, saturating instead of panicking on absurd values.
fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
}

impl Rules {
    /// `share` (0, 1] of the bucket is open to [`Priority::Customer`] calls while no background
    /// call waits.
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
        for level in [
            &mut levels.shared,
            &mut levels.customers,
            &mut levels.background,
            &mut levels.customers_waiting,
            &mut levels.background_waiting,
            &mut levels.customers_ready,
        ] {
            *level = (*level - drained).max(0.0);
        }
        match change {
            Change::Reserve(bucket) => {
                let cap = self.queue_cap(bucket);
                let level = level_of(levels, bucket);
                *level += 1.0;
                self.wait_for(*level - cap)
            }
            Change::Enter(priority) => self.enter(levels, priority),
            Change::GiveBack(bucket) => {
                let level = level_of(levels, bucket);
                *level = (*level - 1.0).max(0.0);
                Duration::ZERO
            }
            Change::Peek(priority) => self.peek(levels, priority),
            Change::Ready(priority) => {
                let wait = self.peek(levels, priority);
                let until = wait.min(MAX_POLL).as_secs_f64() * self.limit.per_second + 1.0;
                if priority == Priority::Customer {
                    levels.customers_ready = levels.customers_ready.max(until);
                }
                let wait = self.peek(levels, priority);
                if !wait.is_zero() {
                    let waiting = match priority {
                        Priority::Customer => &mut levels.customers_waiting,
                        Priority::Background => &mut levels.background_waiting,
                    };
                    *waiting = waiting.max(until);
                }
                wait
            }
            Change::Pressure => self.wait_for(levels.shared - self.burst() / 2.0),
            Change::Fill => {
                levels.shared = levels.shared.max(self.burst());
                Duration::ZERO
            }
        }
    }

    /// How long a call of `priority` would wait now.
    fn peek(&self, levels: &Levels, priority: Priority) -> Duration {
        let queue = Bucket::queue(priority);
        let queued = match queue {
            Bucket::Customers => levels.customers,
            Bucket::Background => levels.background,
            Bucket::Shared => levels.shared,
        } + 1.0;
        self.wait_for(queued - self.queue_cap(queue))
            .max(self.entry_wait(levels, priority))
    }

    /// How many places of `bucket` are open at once.
    fn queue_cap(&self, bucket: Bucket) -> f64 {
        match bucket {
            Bucket::Customers => self.customer_cap,
            Bucket::Shared | Bucket::Background => self.burst(),
        }
    }

    /// Whether the other priority waits for room too.
    fn contended(levels: &Levels, priority: Priority) -> bool {
        match priority {
            Priority::Customer => levels.background_waiting > EPSILON,
            Priority::Background => levels.customers_waiting > EPSILON,
        }
    }

    /// How long until `priority` may enter the shared bucket (zero: now).
    fn entry_wait(&self, levels: &Levels, priority: Priority) -> Duration {
        let contended = Rules::contended(levels, priority);
        // A ready customer batch need not leave the reserve to a background that has nothing
        // to send: it would stand idle while the bucket drains to the cap.
        let idle_reserve = levels.customers_ready > EPSILON
            && levels.background_waiting <= EPSILON
            && levels.background <= EPSILON;
        let cap = match priority {
            Priority::Customer if !contended && !idle_reserve => self.customer_cap,
            _ => self.burst(),
        };
        let room = self.wait_for(levels.shared + 1.0 - cap);
        // Turns only matter when this slot is the last one free: below that, both get in.
        let room_for_both = levels.shared + 2.0 <= self.burst() + EPSILON;
        let its_turn = !contended
            || room_for_both
            || match priority {
                Priority::Customer => levels.turn >= -EPSILON,
                Priority::Background => levels.turn <= EPSILON,
            };
        if its_turn {
            room
        } else {
            // The other's slot first.
            room.max(self.wait_for(1.0))
        }
    }

    fn enter(&self, levels: &mut Levels, priority: Priority) -> Duration {
        let wait = self.entry_wait(levels, priority);
        let turns = Rules::contended(levels, priority) && levels.shared + 2.0 > self.burst();
        let (waiting, step) = match priority {
            Priority::Customer => (&mut levels.customers_waiting, CUSTOMER_TURNS - 1.0),
            Priority::Background => (&mut levels.background_waiting, CUSTOMER_TURNS),
        };
        // A call that enters is likely followed by another of its kind (a backlog): it counts
        // as waiting for a round of turns more; one that waits, until just after it looks again.
        let until = if wait.is_zero() {
            3.0
        } else {
            wait.min(MAX_POLL).as_secs_f64() * self.limit.per_second + 1.0
        };
        *waiting = waiting.max(until);
        if wait.is_zero() {
            levels.shared += 1.0;
            if turns {
                levels.turn = (levels.turn + step).clamp(-1.0, 1.0);
            }
        }
        wait
    }
}

fn level_of(levels: &mut Levels, bucket: Bucket) -> &mut f64 {
    match bucket {
        Bucket::Shared => &mut levels.shared,
        Bucket::Customers => &mut levels.customers,
        Bucket::Background => &mut levels.background,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Priority::{Background, Customer};

    fn rules(burst: u32, share: f64) -> Rules {
        Rules::new(
            RateLimit {
                per_second: 2.0,
                burst,
            },
            share,
        )
    }

    #[test]
    fn rules_drain_before_they_change() {
        let rules = rules(10, 0.5);
        let mut levels = Levels {
            shared: 6.0,
            customers: 1.0,
            ..Levels::default()
        };
        // One second drains two requests from each level, never below empty.
        let wait = rules.apply(&mut levels, Duration::from_secs(1), Change::Enter(Customer));
        assert_eq!(wait, Duration::ZERO);
        assert_eq!((levels.shared, levels.customers), (5.0, 0.0));
        // At the customer cap (5): no room, nothing taken, the wait until there is.
        let wait = rules.apply(&mut levels, Duration::ZERO, Change::Enter(Customer));
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(levels.shared, 5.0);
        assert!(levels.customers_waiting > 0.0, "the customer says it waits");
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

    /// Enters `priority` if it may, draining `elapsed` first: whether it entered.
    fn enter(rules: &Rules, levels: &mut Levels, elapsed_ms: u64, priority: Priority) -> bool {
        let elapsed = Duration::from_millis(elapsed_ms);
        rules
            .apply(levels, elapsed, Change::Enter(priority))
            .is_zero()
    }

    #[test]
    fn alone_the_background_fills_the_bucket_and_customers_their_cap() {
        let rules = rules(10, 0.6);
        let mut levels = Levels::default();
        assert!((0..6).all(|_| enter(&rules, &mut levels, 0, Customer)));
        assert!(!enter(&rules, &mut levels, 0, Customer));
        // Alone, the background also takes the rest.
        let mut alone = Levels {
            shared: 6.0,
            ..Levels::default()
        };
        assert!((0..4).all(|_| enter(&rules, &mut alone, 0, Background)));
        assert!(!enter(&rules, &mut alone, 0, Background));
    }

    #[test]
    fn while_both_wait_they_take_turns_one_to_two() {
        let rules = rules(4, 0.5);
        // The bucket is full; both priorities are waiting for room.
        let mut levels = Levels {
            shared: 4.0,
            ..Levels::default()
        };
        assert!(!enter(&rules, &mut levels, 0, Customer));
        assert!(!enter(&rules, &mut levels, 0, Background));
        let mut order = String::new();
        // Every half second one slot drains; each priority asks for it, customers first.
        for _ in 0..12 {
            let mut drained = 500;
            for (name, priority) in [('c', Customer), ('b', Background)] {
                if enter(&rules, &mut levels, drained, priority) {
                    order.push(name);
                }
                drained = 0;
            }
        }
        // One slot in three is a customer's, and customers use the whole bucket meanwhile
        // (their cap, 2, would have kept them out of a bucket at 3).
        assert_eq!(order, "cbbcbbcbbcbb", "{levels:?}");
    }

    /// Every half second one slot drains; the background (a backlog) enters whenever it may,
    /// customers look with `look` and enter when it answers zero. The slots customers got.
    fn customer_slots(look: fn(Priority) -> Change) -> Vec<usize> {
        let rules = rules(10, 0.5);
        let mut levels = Levels {
            shared: 10.0,
            ..Levels::default()
        };
        let mut got = Vec::new();
        for slot in 0..30 {
            let mut drained = 500;
            let ready = rules.apply(&mut levels, Duration::from_millis(drained), look(Customer));
            drained = 0;
            if ready.is_zero() && enter(&rules, &mut levels, drained, Customer) {
                got.push(slot);
            }
            enter(&rules, &mut levels, drained, Background);
        }
        got
    }

    #[test]
    fn a_ready_batch_gets_its_turn_while_a_background_backlog_fills_the_bucket() {
        // A ready batch takes turns with the backlog: one slot in three, never more than three
        // slots apart, although the bucket never falls to the customers' cap.
        let got = customer_slots(Change::Ready);
        assert!(got.len() >= 9, "{got:?}");
        assert!(got[0] <= 3, "{got:?}");
        assert!(got.windows(2).all(|w| w[1] - w[0] <= 3), "{got:?}");
    }

    #[test]
    fn a_ready_customer_batch_is_not_kept_out_by_an_idle_reserve() {
        let rules = rules(10, 0.5);
        // The bucket is full, the background has nothing to send.
        let mut levels = Levels {
            shared: 10.0,
            ..Levels::default()
        };
        // A plain call waits for the bucket to drain to the customers' cap (5): 3 s.
        let plain = rules.apply(&mut levels, Duration::ZERO, Change::Peek(Customer));
        assert_eq!(plain, Duration::from_secs(3));
        // A ready batch waits for one drained slot only, and takes it.
        let ready = rules.apply(&mut levels, Duration::ZERO, Change::Ready(Customer));
        assert_eq!(ready, Duration::from_millis(500));
        assert!(enter(&rules, &mut levels, 500, Customer));
        // The background, with something to send, finds the bucket full and waits for the
        // next drained slot, which is its own: the batch did not keep it out.
        assert!(!enter(&rules, &mut levels, 0, Background));
        assert!(enter(&rules, &mut levels, 500, Background));
    }

    #[test]
    fn pressure_is_the_time_until_the_bucket_is_half_empty() {
        let rules = rules(10, 0.5);
        let mut levels = Levels {
            shared: 4.0,
            ..Levels::default()
        };
        assert_eq!(
            rules.apply(&mut levels, Duration::ZERO, Change::Pressure),
            Duration::ZERO
        );
        levels.shared = 9.0;
        let before = levels;
        assert_eq!(
            rules.apply(&mut levels, Duration::ZERO, Change::Pressure),
            Duration::from_secs(2)
        );
        assert_eq!(levels, before, "reads only");
    }

    #[test]
    fn waits_can_be_read_without_changing_anything() {
        let rules = rules(4, 0.5);
        let mut levels = Levels {
            shared: 2.0,
            ..Levels::default()
        };
        let before = levels;
        assert_eq!(
            rules.apply(&mut levels, Duration::ZERO, Change::Peek(Customer)),
            Duration::from_millis(500)
        );
        assert_eq!(
            rules.apply(&mut levels, Duration::ZERO, Change::Peek(Background)),
            Duration::ZERO
        );
        assert_eq!(levels, before);
    }
}
