//! The stages every REST call goes through, in the portal's order: the injected fault, the
//! admission (the leaky bucket), reading the parameters, authentication, the method, the
//! reply. Each stage hands its result to the next or ends the call with a [`Delivery`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use serde_json::{Map, Value};

use super::auth::authenticate;
use super::batch;
use super::delivery::Delivery;
use super::envelope::{self, Timing};
use super::error::{ErrorCode, RestError};
use super::invoke;
use super::methods::{self, Method};
use super::route::route;
use crate::faults::Fault;
use crate::params::{self, Params};
use crate::state::AppState;

/// One REST request as it arrived.
pub(crate) struct Incoming {
    /// The path after `/rest/`.
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    /// When it arrived, for the `time` block.
    pub start: SystemTime,
    /// When it arrived, for delays measured from the arrival.
    pub arrived: tokio::time::Instant,
}

/// What the fault stage leaves for the later stages to do.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Plan {
    pub after: After,
    /// [`Fault::TrueWithoutSaving`]: the pay methods answer `true` unsaved.
    pub unsaved: bool,
}

/// What happens to the reply once the method ran.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum After {
    #[default]
    Reply,
    /// [`Fault::SlowReply`].
    Delay(Duration),
    /// [`Fault::DropAfterExecution`].
    Close,
    /// [`Fault::DelayedExecution`]: the method runs at `delay`, the connection closes at
    /// `cut_after` (both from the arrival).
    Deferred {
        delay: Duration,
        cut_after: Duration,
    },
}

impl After {
    /// How a reply made at once reaches the client.
    pub(crate) fn deliver(self, response: axum::response::Response) -> Delivery {
        match self {
            After::Reply | After::Deferred { .. } => Delivery::Now(response),
            After::Delay(pause) => Delivery::Later(pause, response),
            After::Close => Delivery::Close(Duration::ZERO),
        }
    }
}

/// Why a stage ended the call.
pub(crate) enum Stop {
    /// An error answer; with the `time` block for `OPERATION_TIME_LIMIT`.
    Error(RestError, Option<Timing>),
    /// No reply: the connection is closed after the pause.
    Close(Duration),
}

impl From<RestError> for Stop {
    fn from(error: RestError) -> Stop {
        Stop::Error(error, None)
    }
}

impl Stop {
    pub(crate) fn into_delivery(self) -> Delivery {
        match self {
            Stop::Error(error, timing) => Delivery::Now(envelope::error(&error, timing.as_ref())),
            Stop::Close(pause) => Delivery::Close(pause),
        }
    }
}

pub(crate) fn run(state: &Arc<AppState>, incoming: &Incoming) -> Delivery {
    stages(state, incoming).unwrap_or_else(Stop::into_delivery)
}

fn stages(state: &Arc<AppState>, incoming: &Incoming) -> Result<Delivery, Stop> {
    let (caller, name) = route(&incoming.path).ok_or_else(RestError::method_not_found)?;
    let plan = fault(state, &name)?;
    admit(state)?;
    let mut raw = parameters(incoming)?;
    let granted = authenticate(state, &caller, raw.remove("auth").as_ref())?;
    if name == batch::METHOD {
        return Ok(batch::run(state, raw, plan, incoming, granted));
    }
    let method = methods::lookup(&name).ok_or_else(RestError::method_not_found)?;
    granted.check(&method)?;
    let params = method.params(raw);
    Ok(reply(state, method, params, plan, incoming))
}

/// Draws the next matching injected fault: it either ends the call here or changes what the
/// later stages do.
fn fault(state: &AppState, method: &str) -> Result<Plan, Stop> {
    let Some(drawn) = state.faults.lock().expect("faults lock").take(method) else {
        return Ok(Plan::default());
    };
    tracing::info!(method, fault = drawn.fault.kind(), "injected fault");
    let mut plan = Plan::default();
    match drawn.fault {
        Fault::QueryLimitExceeded => return Err(RestError::query_limit().into()),
        Fault::InternalServerError => return Err(RestError::internal().into()),
        Fault::ExpiredToken => return Err(RestError::expired_token().into()),
        Fault::OperationTimeLimit { .. } => {
            return Err(operation_time_limit(state, method, drawn.reset_at))
        }
        Fault::Hang(pause) => return Err(Stop::Close(pause)),
        Fault::DropConnection => return Err(Stop::Close(Duration::ZERO)),
        Fault::SlowReply(pause) => plan.after = After::Delay(pause),
        Fault::DropAfterExecution => plan.after = After::Close,
        Fault::DelayedExecution { delay, cut_after } => {
            plan.after = After::Deferred { delay, cut_after }
        }
        Fault::TrueWithoutSaving => plan.unsaved = true,
    }
    Ok(plan)
}

/// 429 with the `time` block a client reads `operating_reset_at` from.
fn operation_time_limit(state: &AppState, method: &str, reset_at: i64) -> Stop {
    let (operating, _) = state.record_operating(method, Duration::ZERO);
    let timing = Timing {
        start: SystemTime::now(),
        processing: Duration::ZERO,
        operating: operating.max(480.0),
        operating_reset_at: reset_at,
    };
    Stop::Error(RestError::operation_time_limit(), Some(timing))
}

/// The leaky bucket: one request, one drop (a batch too).
fn admit(state: &AppState) -> Result<(), Stop> {
    if state.admit() {
        Ok(())
    } else {
        Err(RestError::query_limit().into())
    }
}

/// The query string and the body, as one object.
fn parameters(incoming: &Incoming) -> Result<Map<String, Value>, Stop> {
    params::parse_request(
        incoming.query.as_deref(),
        incoming.content_type.as_deref(),
        &incoming.body,
    )
    .map_err(|e| RestError::new(ErrorCode::InvalidRequest, e.to_string()).into())
}

/// Runs the method and replies as the plan says.
fn reply(
    state: &Arc<AppState>,
    method: Method,
    params: Params,
    plan: Plan,
    incoming: &Incoming,
) -> Delivery {
    if let After::Deferred { delay, cut_after } = plan.after {
        invoke::defer(state.clone(), method, params, incoming.arrived + delay);
        return Delivery::Close(cut_after.saturating_sub(incoming.arrived.elapsed()));
    }
    let executed = invoke::execute(state, method, &params, plan.unsaved, incoming.start);
    plan.after.deliver(executed.into_response())
}
