//! The companion's integration tests, in one test binary (one link instead of one per file):
//! a module per concern, all sharing [`common`] (a real sandbox portal over HTTP, the companion
//! on an OS-assigned port, SQLite or PostgreSQL).

mod common;

mod abuse;
mod at_rest;
mod bad_input;
mod batching;
mod config;
// The crash points exist only in builds with the feature (the workspace test run has it).
#[cfg(feature = "crash-points")]
mod crash;
mod edge;
mod fair_budget;
mod health;
mod hostile_portal;
mod idempotency;
mod logs;
mod market;
mod market_harness;
mod market_install_page;
mod market_isolation;
mod market_moved;
mod market_operator;
mod market_reinstall;
mod market_two_instances;
mod metrics_labels;
mod oauth;
mod openapi;
mod outbox;
mod payments;
mod readyz;
mod reconcile;
mod register;
mod serving;
mod serving_prefix;
mod two_instances;
mod upgrade;
