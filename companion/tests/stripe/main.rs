//! The Stripe adapter through the `Acquirer` trait against localstripe, a stateful Stripe fake
//! started by these tests (see `stripe/localstripe.rs`), and the companion charging LIVE pay
//! systems through it over its real HTTP API (`live.rs`: a sandbox portal, the companion's own
//! test harness from `tests/it/common`). localstripe ignores `Idempotency-Key`, so the keys are
//! checked in its request log, never relied on to deduplicate. Each test starts its own
//! localstripe (its state is global) and kills it at the end.

#[path = "../it/common/mod.rs"]
mod common;

mod charges;
#[cfg(feature = "crash-points")]
mod crash_support;
mod errors;
mod flow;
mod live;
mod localstripe;
#[cfg(feature = "crash-points")]
mod open_crash;
mod refund_cli;
mod refunds;
mod support;
// The crash points exist only in builds with the feature (the workspace test run has it).
#[cfg(feature = "crash-points")]
mod webhook_crash;
mod webhook_flow;
mod webhook_timing;
mod webhooks;
