//! The method stage: one method run against the world, counted, and its time added to the
//! method's operating time, for a single call, a command of a batch, or a deferred call.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::response::Response;

use super::envelope::{self, Timing};
use super::methods::{Call, Method, Outcome, Run};
use crate::params::Params;
use crate::portal_format::now_unix;
use crate::state::AppState;

/// A method's answer and the timing for its `time` block.
pub(crate) struct Executed {
    pub outcome: Outcome,
    pub timing: Timing,
}

impl Executed {
    /// The envelope of a single call.
    pub(crate) fn into_response(self) -> Response {
        match self.outcome {
            Ok(result) => envelope::success(result, &self.timing),
            Err(error) => envelope::error(&error, None),
        }
    }
}

/// Runs `method`. Writers run inside [`AppState::mutate`], so their changes are persisted.
/// `start` is what the `time` block reports as the call's start.
pub(crate) fn execute(
    state: &AppState,
    method: Method,
    params: &Params,
    unsaved: bool,
    start: SystemTime,
) -> Executed {
    let began = Instant::now();
    let outcome = match method.run {
        Run::Read(run) => state.read(|world| run(world, params)),
        Run::Write(run) => state.mutate(|world| {
            let mut call = Call {
                world,
                now: now_unix(),
                unsaved,
            };
            run(&mut call, params)
        }),
    };
    let processing = began.elapsed();
    state.count_call(method.name);
    let (operating, operating_reset_at) = state.record_operating(method.name, processing);
    Executed {
        outcome,
        timing: Timing {
            start,
            processing,
            operating,
            operating_reset_at,
        },
    }
}

/// Runs `method` at `at`, with nobody waiting for its answer
/// ([`Fault::DelayedExecution`](crate::Fault::DelayedExecution)).
pub(crate) fn defer(
    state: Arc<AppState>,
    method: Method,
    params: Params,
    at: tokio::time::Instant,
) {
    state.stats.lock().expect("stats lock").delayed_pending += 1;
    tokio::spawn(async move {
        tokio::time::sleep_until(at).await;
        let executed = execute(&state, method, &params, false, SystemTime::now());
        state.stats.lock().expect("stats lock").delayed_pending -= 1;
        tracing::info!(
            method = method.name,
            ok = executed.outcome.is_ok(),
            "delayed call executed"
        );
    });
}
