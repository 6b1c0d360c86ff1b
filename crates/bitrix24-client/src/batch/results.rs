//! What a `batch` answered: one [`CommandResult`] per command, in the order they were added.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{Batch, Command};
use crate::client::Client;
use crate::envelope::without_quoted;
use crate::error::{Call, Error, ProtocolKind};
use crate::lenient::{Flag, FlatMap};

/// The batch's `result`: five PHP arrays keyed like `cmd` (lists when the keys are `0…n-1`).
#[derive(Deserialize)]
pub(super) struct Reply {
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
    pub(super) commands: Vec<CommandResult>,
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
    pub(super) fn results(&self, batch: &Batch, reply: Reply) -> BatchResults {
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
