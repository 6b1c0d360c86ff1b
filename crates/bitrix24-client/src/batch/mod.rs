//! `batch`: up to 50 commands in one request, which the portal's leaky bucket counts once.
//!
//! A [`Batch`] is a list of keyed commands (`method?query-string`, the parameters written the
//! way PHP's `http_build_query` writes them); [`Client::batch`] sends it through the client's
//! normal request path (rate limit, retries under the given [`Retry`], OAuth refresh), and
//! answers one [`CommandResult`] per command, in the order they were added: done with its
//! result, failed with its own [`Error`], or not run (after a failed command when the batch
//! halts on errors). **A failed command is not a failed batch**: `Client::batch` fails only
//! when the request itself did (then no command's outcome is known, see
//! [`Error::may_have_executed`]).
//!
//! A command's parameters may use an earlier command's result: `"$result[key][FIELD]"`.
//!
//! ```no_run
//! # async fn run(client: bitrix24_client::Client) -> Result<(), bitrix24_client::Error> {
//! use bitrix24_client::{Batch, PayPayment, PsExtras, Retry};
//! let mut batch = Batch::new();
//! batch.settings_payment_get("verify", 247, 5)?;
//! batch.pay_payment("pay", &PayPayment { payment_id: 248, paysystem_id: 5, extras: PsExtras::default() })?;
//! let results = client.batch(&batch, Retry::IfNotExecuted).await?;
//! let settings = results.get("verify").and_then(|r| r.settings());
//! let paid = results.get("pay").and_then(|r| r.flag());
//! # let _ = (settings, paid); Ok(()) }
//! ```

mod body;
mod results;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::pay::{PayInvoice, PayPayment};
use crate::retry::Retry;

use body::{php_query, Body};
use results::Reply;
pub use results::{BatchResults, CommandOutcome, CommandResult, CommandTime};

/// The portal runs at most this many commands of one batch.
pub const MAX_BATCH_COMMANDS: usize = 50;

/// Commands to send in one `batch` request. `Debug` names the keys and methods only: the
/// parameters may hold secrets.
#[derive(Clone, Default)]
pub struct Batch {
    commands: Vec<Command>,
    halt: bool,
}

#[derive(Clone)]
struct Command {
    key: String,
    method: String,
    /// `method?query`.
    text: String,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("halt", &self.halt)
            .field(
                "commands",
                &self
                    .commands
                    .iter()
                    .map(|c| format!("{}: {}", c.key, c.method))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Stop at the first failed command (`halt=1`): the commands after it are not run.
    pub fn halt_on_error(mut self, halt: bool) -> Batch {
        self.halt = halt;
        self
    }

    pub fn len(&self) -> usize {
        self.commands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Adds a command. `key` names its result (letters, digits, `_`, `-`, `.`; at most 64,
    /// unique in the batch); `params` must serialise to a JSON object.
    pub fn push<P>(&mut self, key: &str, method: &str, params: &P) -> Result<&mut Batch, Error>
    where
        P: Serialize + ?Sized,
    {
        check_key(key, &self.commands)?;
        check_method(method)?;
        if self.commands.len() >= MAX_BATCH_COMMANDS {
            return Err(Error::Config(format!(
                "batch: more than {MAX_BATCH_COMMANDS} commands (the portal refuses the rest)"
            )));
        }
        let value = serde_json::to_value(params)
            .map_err(|e| Error::Config(format!("batch {key}: {method}: params: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::Config(format!(
                "batch {key}: {method}: params must be a JSON object"
            )));
        };
        let query = php_query(&map);
        let text = if query.is_empty() {
            method.to_owned()
        } else {
            format!("{method}?{query}")
        };
        self.commands.push(Command {
            key: key.to_owned(),
            method: method.to_owned(),
            text,
        });
        Ok(self)
    }

    /// `sale.paysystem.settings.payment.get` (read the result with
    /// [`CommandResult::settings`]).
    pub fn settings_payment_get(
        &mut self,
        key: &str,
        payment_id: u64,
        paysystem_id: u64,
    ) -> Result<&mut Batch, Error> {
        let params = serde_json::json!({"PAYMENT_ID": payment_id, "PAY_SYSTEM_ID": paysystem_id});
        self.push(key, "sale.paysystem.settings.payment.get", &params)
    }

    /// `sale.paysystem.pay.payment` (read the result with [`CommandResult::flag`]).
    pub fn pay_payment(&mut self, key: &str, pay: &PayPayment) -> Result<&mut Batch, Error> {
        self.push(key, "sale.paysystem.pay.payment", pay)
    }

    /// `sale.paysystem.pay.invoice` (read the result with [`CommandResult::flag`]).
    pub fn pay_invoice(&mut self, key: &str, pay: &PayInvoice) -> Result<&mut Batch, Error> {
        self.push(key, "sale.paysystem.pay.invoice", pay)
    }
}

fn check_key(key: &str, commands: &[Command]) -> Result<(), Error> {
    let valid = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid {
        return Err(Error::Config(format!("batch: invalid command key {key:?}")));
    }
    if commands.iter().any(|c| c.key == key) {
        return Err(Error::Config(format!("batch: command key {key:?} twice")));
    }
    Ok(())
}

fn check_method(method: &str) -> Result<(), Error> {
    let valid = !method.is_empty()
        && method
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'));
    if !valid || method.eq_ignore_ascii_case("batch") {
        return Err(Error::Config(format!("batch: invalid method {method:?}")));
    }
    Ok(())
}

impl Client {
    /// Sends `batch` as one request through the normal call path (client-side rate limit:
    /// one slot; retries as `retry` allows — pass [`Retry::IfNotExecuted`] when a command has
    /// side effects; OAuth refresh). Each command's own error is in its [`CommandResult`].
    pub async fn batch(&self, batch: &Batch, retry: Retry) -> Result<BatchResults, Error> {
        if batch.is_empty() {
            return Ok(BatchResults {
                commands: Vec::new(),
            });
        }
        let reply: Reply = self.call("batch", &Body(batch), retry).await?;
        Ok(self.results(batch, reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_keys_methods_and_sizes_are_refused() {
        let mut batch = Batch::new();
        assert!(batch.push("", "m.x", &json!({})).is_err());
        assert!(batch.push("a]b", "m.x", &json!({})).is_err());
        assert!(batch.push("a", "m x", &json!({})).is_err());
        assert!(batch.push("a", "batch", &json!({})).is_err());
        assert!(batch.push("a", "m.x", &json!([1])).is_err());
        batch.push("a", "m.x", &json!({})).unwrap();
        assert!(batch.push("a", "m.x", &json!({})).is_err(), "twice");
        for i in 1..MAX_BATCH_COMMANDS {
            batch.push(&format!("k{i}"), "m.x", &json!({})).unwrap();
        }
        assert!(batch.push("last", "m.x", &json!({})).is_err(), "51st");
    }

    #[test]
    fn debug_shows_no_parameters() {
        let mut batch = Batch::new();
        batch
            .push(
                "s",
                "sale.paysystem.settings.update",
                &json!({"SETTINGS": {"KEY": {"VALUE": "topsecret"}}}),
            )
            .unwrap();
        let debug = format!("{batch:?}");
        assert!(
            debug.contains("s: sale.paysystem.settings.update"),
            "{debug}"
        );
        assert!(!debug.contains("topsecret"), "{debug}");
    }
}
