//! `batch`: up to 50 commands in one request, as the portal's REST server runs them.
//!
//! * `cmd` is a map (or a list) of `method?query-string` commands; the query string uses the
//!   PHP-style nested names of any other call (`SETTINGS[CODES][X][NAME]=…`). `halt` (PHP
//!   truthiness: `0`, `""` false) stops at the first failed command. The request itself may
//!   come in any encoding the other methods accept (JSON, form, GET query).
//! * Commands run in order with the batch's authentication; a command may use an earlier
//!   command's result: `$result[key][FIELD]` ([`reference`]).
//! * The answer is `{"result": {"result", "result_error", "result_total", "result_next",
//!   "result_time"}, "time"}`, each keyed like `cmd`. A failed command is an entry of
//!   `result_error`, not a failed request: the batch answers 200.
//! * Past the 50th command, each command is refused in `result_error` with
//!   `ERROR_BATCH_LENGTH_EXCEEDED` (the first 50 run), as a live portal answers; a nested
//!   `batch` command with `ERROR_BATCH_METHOD_NOT_ALLOWED`; an unknown method with
//!   `ERROR_METHOD_NOT_FOUND`.
//! * The batch is one request for the leaky bucket (the pipeline admits it once); each
//!   command is counted as a call of its method and its time goes to that method's operating
//!   time (`result_time[key].operating`).
//!
//! Faults: an untargeted fault, or one for `batch`, hits the whole request like any call. A
//! fault naming a command's method (and an untargeted `true_without_saving`) hits the
//! command: error faults become its `result_error` entry; `hang` and `drop_connection` end the
//! batch there (the commands before it ran) without a reply; `slow_reply` and
//! `drop_after_execution` run it and delay or drop the batch's reply; `delayed_execution` runs
//! it and every later command after the delay, with no reply.

mod answer;
mod command;
mod reference;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};

use super::delivery::Delivery;
use super::envelope::{self, Timing};
use super::error::{ErrorCode, RestError};
use super::invoke;
use super::methods::{self, Method};
use super::pipeline::{After, Incoming, Plan};
use super::scope::Granted;
use crate::faults::Fault;
use crate::state::AppState;
use answer::Answer;
use command::{Command, Request};

/// The method name.
pub(crate) const METHOD: &str = "batch";
/// The portal's limit on commands per batch.
pub(crate) const MAX_COMMANDS: usize = 50;

/// Runs a batch request that passed the pipeline's stages.
pub(crate) fn run(
    state: &Arc<AppState>,
    raw: Map<String, Value>,
    plan: Plan,
    incoming: &Incoming,
    granted: Granted,
) -> Delivery {
    let mut runner = Runner::new(Request::parse(&raw), granted);
    if let After::Deferred { delay, cut_after } = plan.after {
        runner.defer(state.clone(), incoming.arrived + delay);
        return Delivery::Close(cut_after.saturating_sub(incoming.arrived.elapsed()));
    }
    let began = Instant::now();
    let ending = runner.run(state);
    let processing = began.elapsed();
    let (operating, operating_reset_at) = state.record_operating(METHOD, processing);
    match ending {
        Ending::Done => {}
        Ending::Close(pause) => return Delivery::Close(pause),
        Ending::Deferred { delay, cut_after } => {
            runner.defer(state.clone(), tokio::time::Instant::now() + delay);
            return Delivery::Close(cut_after.saturating_sub(incoming.arrived.elapsed()));
        }
    }
    let timing = Timing {
        start: incoming.start,
        processing,
        operating,
        operating_reset_at,
    };
    let after = runner.after(plan.after);
    after.deliver(envelope::success(runner.answer.into_value(), &timing))
}

/// How running the commands ended.
enum Ending {
    Done,
    /// A command's fault ends the batch without a reply.
    Close(Duration),
    /// A command's `delayed_execution`: it and the rest run later.
    Deferred {
        delay: Duration,
        cut_after: Duration,
    },
}

/// What one command leads to.
enum Step {
    Next,
    Halt,
    End(Ending),
}

struct Runner {
    /// The commands not run yet, with their position in `cmd`.
    commands: VecDeque<(usize, Command)>,
    halt: bool,
    /// The batch's authentication's scopes, for every command.
    granted: Granted,
    answer: Answer,
    /// Counted as a `batch` call (once, also when resumed later).
    counted: bool,
    /// The first command already drew its fault (it is resumed after a delay).
    resumed: bool,
    /// From commands' `slow_reply`.
    slow: Option<Duration>,
    /// From a command's `drop_after_execution`.
    close: bool,
}

impl Runner {
    fn new(request: Request, granted: Granted) -> Runner {
        Runner {
            commands: request.commands.into_iter().enumerate().collect(),
            halt: request.halt,
            granted,
            answer: Answer::default(),
            counted: false,
            resumed: false,
            slow: None,
            close: false,
        }
    }

    fn run(&mut self, state: &AppState) -> Ending {
        if !self.counted {
            state.count_call(METHOD);
            self.counted = true;
        }
        while let Some((position, command)) = self.commands.pop_front() {
            match self.step(state, position, &command) {
                Step::Next => {}
                Step::Halt => break,
                Step::End(ending) => {
                    if matches!(ending, Ending::Deferred { .. }) {
                        self.commands.push_front((position, command));
                        self.resumed = true;
                    }
                    return ending;
                }
            }
        }
        Ending::Done
    }

    fn step(&mut self, state: &AppState, position: usize, command: &Command) -> Step {
        let key = command.key.as_str();
        let checked = checked(position, command)
            .and_then(|(method, raw)| self.granted.check(&method).map(|()| (method, raw)));
        let (method, mut raw) = match checked {
            Ok(checked) => checked,
            Err(error) => return self.fail(key, &error, None),
        };
        let unsaved = match self.draw_fault(state, method.name) {
            Drawn::Run { unsaved } => unsaved,
            Drawn::Refuse(error) => return self.fail(key, &error, None),
            Drawn::End(ending) => return Step::End(ending),
        };
        // The batch's own authentication applies to every command.
        raw.remove("auth");
        let lookup = |k: &str| self.answer.result_of(k);
        let raw = match reference::resolve(Value::Object(raw), &lookup) {
            Value::Object(map) => map,
            _ => unreachable!("an object stays an object"),
        };
        let executed = invoke::execute(
            state,
            method,
            &method.params(raw),
            unsaved,
            SystemTime::now(),
        );
        let time = envelope::time_block(&executed.timing);
        match executed.outcome {
            Ok(value) => {
                self.answer.succeeded(key, value, time);
                Step::Next
            }
            Err(error) => self.fail(key, &error, Some(time)),
        }
    }

    fn fail(&mut self, key: &str, error: &RestError, time: Option<Value>) -> Step {
        self.answer.failed(key, error, time);
        if self.halt {
            Step::Halt
        } else {
            Step::Next
        }
    }

    /// The fault a command draws (none when it resumes after its own delay).
    fn draw_fault(&mut self, state: &AppState, method: &str) -> Drawn {
        if std::mem::take(&mut self.resumed) {
            return Drawn::Run { unsaved: false };
        }
        let drawn = state
            .faults
            .lock()
            .expect("faults lock")
            .take_for_command(method);
        let Some(drawn) = drawn else {
            return Drawn::Run { unsaved: false };
        };
        tracing::info!(
            method,
            fault = drawn.fault.kind(),
            "injected fault in a batch"
        );
        match drawn.fault {
            Fault::QueryLimitExceeded => Drawn::Refuse(RestError::query_limit()),
            Fault::InternalServerError => Drawn::Refuse(RestError::internal()),
            Fault::ExpiredToken => Drawn::Refuse(RestError::expired_token()),
            Fault::OperationTimeLimit { .. } => Drawn::Refuse(RestError::operation_time_limit()),
            Fault::Hang(pause) => Drawn::End(Ending::Close(pause)),
            Fault::DropConnection => Drawn::End(Ending::Close(Duration::ZERO)),
            Fault::DelayedExecution { delay, cut_after } => {
                Drawn::End(Ending::Deferred { delay, cut_after })
            }
            Fault::SlowReply(pause) => {
                self.slow = Some(self.slow.unwrap_or_default().max(pause));
                Drawn::Run { unsaved: false }
            }
            Fault::DropAfterExecution => {
                self.close = true;
                Drawn::Run { unsaved: false }
            }
            Fault::TrueWithoutSaving => Drawn::Run { unsaved: true },
        }
    }

    /// How the reply goes out: the batch request's own plan, unless a command's fault says
    /// otherwise.
    fn after(&self, planned: After) -> After {
        if self.close {
            return After::Close;
        }
        match (planned, self.slow) {
            (After::Delay(a), Some(b)) => After::Delay(a.max(b)),
            (_, Some(pause)) => After::Delay(pause),
            (planned, None) => planned,
        }
    }

    /// Runs the remaining commands at `at`, with nobody waiting for the answer.
    fn defer(mut self, state: Arc<AppState>, at: tokio::time::Instant) {
        state.stats.lock().expect("stats lock").delayed_pending += 1;
        tokio::spawn(async move {
            let mut at = at;
            loop {
                tokio::time::sleep_until(at).await;
                match self.run(&state) {
                    Ending::Deferred { delay, .. } => at = tokio::time::Instant::now() + delay,
                    Ending::Done | Ending::Close(_) => break,
                }
            }
            state.stats.lock().expect("stats lock").delayed_pending -= 1;
            tracing::info!("delayed batch executed");
        });
    }
}

enum Drawn {
    Run { unsaved: bool },
    Refuse(RestError),
    End(Ending),
}

/// The command's method and raw parameters, or why it cannot run.
fn checked(position: usize, command: &Command) -> Result<(Method, Map<String, Value>), RestError> {
    if position >= MAX_COMMANDS {
        return Err(RestError::new(
            ErrorCode::BatchLengthExceeded,
            "Max batch length exceeded",
        ));
    }
    let text = command
        .text
        .as_deref()
        .ok_or_else(RestError::method_not_found)?;
    let (name, raw) = command::split(text);
    if name == METHOD {
        return Err(RestError::new(
            ErrorCode::BatchMethodNotAllowed,
            "Method is not allowed for batch usage",
        ));
    }
    let method = methods::lookup(&name).ok_or_else(RestError::method_not_found)?;
    Ok((method, raw))
}
