//! The Stripe adapter through the `Acquirer` trait against localstripe, a stateful Stripe fake
//! started by these tests (see `stripe/localstripe.rs`). localstripe ignores `Idempotency-Key`,
//! so the keys are checked in its request log, never relied on to deduplicate.
//! Each test starts its own localstripe (its state is global) and kills it at the end.

mod charges;
mod errors;
mod localstripe;
mod refunds;
mod support;
mod webhooks;
