//! The REST client's integration tests, in one test binary (one link instead of one per
//! file): a module per concern, all sharing [`common`].

mod common;

mod batch;
mod budget_and_instances;
mod budget_fairness;
mod client_bucket;
mod errors;
mod faults;
mod hostile_portal;
mod methods;
mod mock_portal;
mod oauth_refresh;
mod redaction;
mod seeds;
