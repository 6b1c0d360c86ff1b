//! b24pay companion: serves the widget, verifies and charges payments, and confirms them into
//! Bitrix24 exactly once.
//!
//! Where things are: [`config`] (file + environment), [`serve`] and [`csp`] (the widget page),
//! [`api`] (the payment API), [`payments`] (the flow, its state machine and the reconciler),
//! [`acquirer`], [`portal`], [`store`], [`outbox`], [`register`] (the `register` command),
//! [`metrics`] and [`health`], [`edge`] (the HTTP listeners: connection limits and timeouts),
//! [`keys`] (the master key and secrets at rest), [`preview`] (the embedded sandbox), [`app`]
//! (wiring), [`market`] (a Market application: installs, uninstalls, per-portal pages),
//! [`operator`] (what the operator's subcommands print and do). The `b24pay` command line
//! itself is `src/bin/b24pay/` (its arguments in `cli.rs`, the subcommands in `commands.rs`).

pub mod acquirer;
pub mod api;
pub mod app;
pub mod config;
pub mod csp;
pub mod edge;
pub mod health;
pub mod keys;
pub mod market;
pub mod metrics;
pub mod operator;
pub mod outbox;
pub mod payments;
pub mod portal;
#[cfg(feature = "preview")]
pub mod preview;
pub mod register;
pub mod serve;
pub mod store;

pub use app::{Parts, Server, Services};
pub use config::Config;
