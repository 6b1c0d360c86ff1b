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

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::client::Client;
use crate::envelope::without_quoted;
use crate::error::{Call, Error, ProtocolKind};
use crate::lenient::{Flag, FlatMap};
use crate::pay::{PayInvoice, PayPayment};
use crate::retry::Retry;

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

/// Parameters as PHP's `http_build_query` writes them: `A[B][0]=x`, booleans `1`/`0`, nulls
/// left out, everything percent-encoded.
fn php_query(params: &serde_json::Map<String, Value>) -> String {
    fn walk(name: &str, value: &Value, out: &mut url::form_urlencoded::Serializer<'_, String>) {
        match value {
            Value::Null => {}
            Value::Bool(b) => {
                out.append_pair(name, if *b { "1" } else { "0" });
            }
            Value::Number(n) => {
                out.append_pair(name, &n.to_string());
            }
            Value::String(s) => {
                out.append_pair(name, s);
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{name}[{i}]"), item, out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    walk(&format!("{name}[{k}]"), item, out);
                }
            }
        }
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        walk(name, value, &mut out);
    }
    out.finish()
}

/// The request body: `{"halt": 0|1, "cmd": {key: "method?query", …}}`, commands in order
/// (the portal runs them in the order of `cmd`).
struct Body<'a>(&'a Batch);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Commands<'a>(&'a [Command]);
        impl Serialize for Commands<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for command in self.0 {
                    map.serialize_entry(&command.key, &command.text)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("halt", &u8::from(self.0.halt))?;
        map.serialize_entry("cmd", &Commands(&self.0.commands))?;
        map.end()
    }
}

/// The batch's `result`: five PHP arrays keyed like `cmd` (lists when the keys are `0…n-1`).
#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    result: Value,
    #[serde(default)]
    result_error: Value,
    #[serde(default)]
    result_time: Value,
}

/// A PHP array as key → value (a list's keys are its indexes).
fn entries(value: Value) -> BTreeMap<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// What became of one command.
#[derive(Clone, Debug)]
pub enum CommandOutcome {
    /// It ran; its `result`.
    Done(Value),
    /// It ran, or was refused, with its own error (the portal's code and description).
    Failed(Error),
    /// It was not run: the batch halted at an earlier failed command. Safe to send again.
    NotRun,
}

/// One command's outcome and timing.
#[derive(Clone, Debug)]
pub struct CommandResult {
    pub key: String,
    pub method: String,
    pub outcome: CommandOutcome,
    /// From `result_time`, when the command ran.
    pub time: Option<CommandTime>,
}

/// A command's `result_time` entry.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct CommandTime {
    /// Seconds the method ran.
    pub processing: f64,
    /// Seconds of the method's operating limit used in the current window.
    pub operating: f64,
    /// Unix time when that window resets.
    pub operating_reset_at: i64,
}

impl CommandResult {
    /// The result as `T`; `None` when the command was not run.
    pub fn value<T: DeserializeOwned>(&self) -> Option<Result<T, Error>> {
        match &self.outcome {
            CommandOutcome::NotRun => None,
            CommandOutcome::Failed(error) => Some(Err(error.clone())),
            CommandOutcome::Done(value) => {
                Some(T::deserialize(value).map_err(|e| Error::Protocol {
                    call: Call::new(&self.method, "batch"),
                    kind: ProtocolKind::UnexpectedShape,
                    status: 200,
                    detail: format!("result[{}]: {}", self.key, without_quoted(&e.to_string())),
                }))
            }
        }
    }

    /// A boolean result (`pay.payment`, `pay.invoice`, updates): `true`, `"Y"`, `1`.
    pub fn flag(&self) -> Option<Result<bool, Error>> {
        self.value::<Flag>().map(|r| r.map(|Flag(ok)| ok))
    }

    /// A flat `{CODE: value}` result (`settings.payment.get`, `settings.invoice.get`).
    pub fn settings(&self) -> Option<Result<BTreeMap<String, String>, Error>> {
        self.value::<FlatMap>().map(|r| r.map(|FlatMap(map)| map))
    }
}

/// Every command's result, in the order the commands were added.
#[derive(Clone, Debug)]
pub struct BatchResults {
    commands: Vec<CommandResult>,
}

impl BatchResults {
    pub fn get(&self, key: &str) -> Option<&CommandResult> {
        self.commands.iter().find(|c| c.key == key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &CommandResult> {
        self.commands.iter()
    }

    pub fn len(&self) -> usize {
        self.commands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

impl IntoIterator for BatchResults {
    type Item = CommandResult;
    type IntoIter = std::vec::IntoIter<CommandResult>;

    fn into_iter(self) -> Self::IntoIter {
        self.commands.into_iter()
    }
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

    fn results(&self, batch: &Batch, reply: Reply) -> BatchResults {
        let mut results = entries(reply.result);
        let mut errors = entries(reply.result_error);
        let times = entries(reply.result_time);
        let commands = batch
            .commands
            .iter()
            .map(|command| {
                let outcome = match (errors.remove(&command.key), results.remove(&command.key)) {
                    (Some(error), _) => CommandOutcome::Failed(self.command_error(command, &error)),
                    (None, Some(value)) => CommandOutcome::Done(value),
                    (None, None) => CommandOutcome::NotRun,
                };
                CommandResult {
                    key: command.key.clone(),
                    method: command.method.clone(),
                    outcome,
                    time: times
                        .get(&command.key)
                        .and_then(|t| CommandTime::deserialize(t).ok()),
                }
            })
            .collect();
        BatchResults { commands }
    }

    /// A command's `{error, error_description}` as this crate's error; the HTTP status is the
    /// batch reply's (200).
    fn command_error(&self, command: &Command, error: &Value) -> Error {
        let text = |key: &str| {
            error
                .get(key)
                .and_then(crate::lenient::scalar_to_string)
                .unwrap_or_default()
        };
        Error::from_portal(
            Call::new(&command.method, self.host()),
            &text("error"),
            text("error_description"),
            200,
            None,
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_become_php_query_strings_in_order() {
        let map = json!({"NAME": "Card & co", "SETTINGS": {"CODES": {"X": {"NAME": "a"}}, "CURRENCY": ["USD", "EUR"]},
                         "ACTIVE": true, "NONE": null, "SORT": 100, "ID": "$result[ps]"});
        let query = php_query(map.as_object().unwrap());
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let pairs: BTreeMap<_, _> = decoded.into_iter().collect();
        assert_eq!(pairs["NAME"], "Card & co");
        assert_eq!(pairs["SETTINGS[CODES][X][NAME]"], "a");
        assert_eq!(pairs["SETTINGS[CURRENCY][1]"], "EUR");
        assert_eq!(pairs["ACTIVE"], "1");
        assert_eq!(pairs["SORT"], "100");
        assert_eq!(pairs["ID"], "$result[ps]");
        assert!(!pairs.contains_key("NONE"));
    }

    #[test]
    fn the_body_keeps_the_commands_order() {
        let mut batch = Batch::new().halt_on_error(true);
        batch.push("z", "sale.paysystem.list", &json!({})).unwrap();
        batch
            .push("a", "sale.paysystem.settings.get", &json!({"ID": 1}))
            .unwrap();
        let body = serde_json::to_string(&Body(&batch)).unwrap();
        assert_eq!(
            body,
            r#"{"halt":1,"cmd":{"z":"sale.paysystem.list","a":"sale.paysystem.settings.get?ID=1"}}"#
        );
    }

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
