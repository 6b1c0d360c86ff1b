//! The REST client's integration tests, in one test binary (one link instead of one per
//! file): a module per concern, all sharing [`common`].

mod common;

mod batch;
mod errors;
mod faults;
mod methods;
mod mock_portal;
mod oauth_refresh;
mod redaction;
mod seeds;
