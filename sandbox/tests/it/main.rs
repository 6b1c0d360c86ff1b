//! The sandbox's integration tests, in one test binary (one link instead of one per
//! file): a module per concern, all sharing [`common`].

mod common;

mod batch;
mod batch_encodings;
mod batch_limits;
mod browser;
mod call_forms;
mod conformance;
mod control_api;
mod faults;
mod faults_late_effects;
mod handlers;
mod https;
mod market_app;
mod oauth;
mod pay;
mod pay_page;
mod pay_systems;
mod payment_settings;
mod persistence;
mod portals;
mod rate_limit;
mod scopes;
mod seed_examples;
