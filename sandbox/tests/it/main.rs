//! The sandbox's integration tests, in one test binary (one link instead of one per
//! file): a module per concern, all sharing [`common`].

mod common;

mod batch;
mod browser;
mod call_forms;
mod conformance;
mod control_api;
mod handlers;
mod https;
mod limits_faults;
mod oauth;
mod pay;
mod pay_page;
mod pay_systems;
mod payment_settings;
mod persistence;
mod portals;
mod scopes;
mod seed_examples;
