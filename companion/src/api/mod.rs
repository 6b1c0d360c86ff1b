//! The payment API (`/api/v1`), its error type and its input parsing. The wire contract is
//! `b24pay_protocol::api`; `companion/openapi.yaml` documents it.

pub mod client;
pub mod error;
pub mod input;
pub mod routes;
pub mod scope;
pub mod webhook;

pub use error::ApiError;
