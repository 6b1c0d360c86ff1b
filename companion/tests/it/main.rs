//! The companion's integration tests, in one test binary (one link instead of one per file):
//! a module per concern, all sharing [`common`] (a real sandbox portal over HTTP, the companion
//! on an OS-assigned port, SQLite or PostgreSQL).

#[macro_use]
mod common;

mod bad_input;
mod config;
mod crash;
mod logs;
mod oauth;
mod openapi;
mod outbox;
mod payments;
mod register;
mod serving;
