//! A client-side leaky bucket matching the portal's: requests fill the bucket, it drains at a
//! steady rate, and a request that would overflow it waits instead of earning a 503.
//!
//! Two priorities share the bucket. [`Priority::Background`] calls (the work that settles money
//! already taken: marking payments paid) may fill all of it; [`Priority::Customer`] calls (a
//! customer is waiting) only up to a share of it while no background call waits, so that a
//! flood of customers, or of anonymous requests, can never leave the background work without a
//! slot. Each priority queues among itself first, in arrival order, and takes its place in the
//! shared bucket only when it is about to be sent. While both wait for room they take the
//! slots in turns (customers one in three, see `rules.rs`), so a backlog of background work
//! cannot keep a customer out either.
//!
//! A reservation belongs to its waiter: a waiter that is dropped (its request cancelled or timed
//! out) hands its slot back.
//!
//! The arithmetic ([`Rules`] over [`Levels`]) is public so that a budget kept outside this
//! process — a database row that several instances share, see [`crate::SharedBudget`] — runs
//! exactly the same rules as the in-process one.
//!
//! | file | what |
//! |---|---|
//! | `rules.rs` | the leaky bucket's arithmetic: [`Levels`], [`Change`], [`Rules`] |
//! | `limiter.rs` | the in-process budget: waiting for a slot, the customers' queue, hand-back |
//!
//! The budget shared through a store is [`crate::SharedBudget`] (`budget.rs`).

mod limiter;
mod rules;

pub(crate) use limiter::{pause, RateLimiter};
pub(crate) use rules::MAX_POLL;
pub use rules::{Bucket, Change, Levels, Rules};

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
