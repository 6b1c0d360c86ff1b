//! The REST API: `/rest/{user}/{code}/{method}[.json]` (incoming webhook) and
//! `/rest/{method}[.json]` with `auth=ACCESS_TOKEN` (OAuth), over GET or POST.
//!
//! Each call goes through, in order: injected faults, the rate limit, reading the parameters,
//! authentication, the method itself, and the envelope.

mod envelope;
pub(crate) mod error;
mod handlers;
mod pay;
mod paysystems;
mod settings;

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{Map, Value};

use crate::faults::Fault;
use crate::oauth::TokenProblem;
use crate::params::{self, Params};
use crate::portal_format::now_unix;
use crate::server::ConnControl;
use crate::state::AppState;
use crate::world::World;
use envelope::Timing;
use error::{ErrorCode, RestError};

/// What a method works with.
pub(crate) struct Call<'w> {
    pub world: &'w mut World,
    /// Unix seconds.
    pub now: i64,
    /// Set by methods that changed the world (so it is written to the data file).
    pub changed: bool,
    /// An injected [`Fault::TrueWithoutSaving`]: the pay methods answer `true` unsaved.
    pub unsaved: bool,
}

type MethodFn = fn(&mut Call, &Params) -> Result<Value, RestError>;
type Outcome = Result<Value, RestError>;

/// How a method's parameter names are normalised (see [`crate::params`]).
#[derive(Clone, Copy)]
enum Names {
    /// `sale.paysystem.handler.*`: top level, plus the structure of `SETTINGS`.
    Handler,
    /// Everything else: every depth.
    Deep,
}

fn method(name: &str) -> Option<(MethodFn, Names)> {
    Some(match name {
        "sale.paysystem.handler.add" => (handlers::add as MethodFn, Names::Handler),
        "sale.paysystem.handler.update" => (handlers::update, Names::Handler),
        "sale.paysystem.handler.delete" => (handlers::delete, Names::Handler),
        "sale.paysystem.handler.list" => (handlers::list, Names::Handler),
        "sale.paysystem.add" => (paysystems::add, Names::Deep),
        "sale.paysystem.update" => (paysystems::update, Names::Deep),
        "sale.paysystem.delete" => (paysystems::delete, Names::Deep),
        "sale.paysystem.list" => (paysystems::list, Names::Deep),
        "sale.paysystem.settings.get" => (settings::get, Names::Deep),
        "sale.paysystem.settings.update" => (settings::update, Names::Deep),
        "sale.paysystem.settings.payment.get" => (settings::payment_get, Names::Deep),
        "sale.paysystem.settings.invoice.get" => (settings::invoice_get, Names::Deep),
        "sale.paysystem.pay.payment" => (pay::payment, Names::Deep),
        "sale.paysystem.pay.invoice" => (pay::invoice, Names::Deep),
        _ => return None,
    })
}

/// The method names the sandbox implements.
pub const METHODS: &[&str] = &[
    "sale.paysystem.handler.add",
    "sale.paysystem.handler.update",
    "sale.paysystem.handler.delete",
    "sale.paysystem.handler.list",
    "sale.paysystem.add",
    "sale.paysystem.update",
    "sale.paysystem.delete",
    "sale.paysystem.list",
    "sale.paysystem.settings.get",
    "sale.paysystem.settings.update",
    "sale.paysystem.settings.payment.get",
    "sale.paysystem.settings.invoice.get",
    "sale.paysystem.pay.payment",
    "sale.paysystem.pay.invoice",
];

/// How the caller authenticated, read from the path.
enum Caller {
    Webhook { user: String, code: String },
    OAuth,
}

/// `{user}/{code}/{method}` or `{method}`, the method lower-cased and without `.json`.
fn route(path: &str) -> Option<(Caller, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    let (caller, method) = match segments.as_slice() {
        [method] => (Caller::OAuth, *method),
        [user, code, method] => (
            Caller::Webhook {
                user: user.to_string(),
                code: code.to_string(),
            },
            *method,
        ),
        _ => return None,
    };
    let method = method.to_lowercase();
    let method = method
        .strip_suffix(".json")
        .map(str::to_string)
        .unwrap_or(method);
    Some((caller, method))
}

pub(crate) async fn entry(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    conn: Option<Extension<ConnControl>>,
    body: Bytes,
) -> Response {
    let start = SystemTime::now();
    let arrived = tokio::time::Instant::now();
    let plain_timing = |state: &AppState, method: &str| {
        let now = now_unix();
        let (operating, reset_at) = state
            .operating
            .lock()
            .expect("operating lock")
            .record(method, now, 0.0);
        Timing {
            start,
            processing: Default::default(),
            operating,
            operating_reset_at: reset_at,
        }
    };
    let Some((caller, method_name)) = route(&path) else {
        return envelope::error(&RestError::method_not_found(), None);
    };

    let fault = state.faults.lock().expect("faults lock").take(&method_name);
    let mut after = After::Reply;
    let mut unsaved = false;
    if let Some(drawn) = fault {
        tracing::info!(method = %method_name, fault = drawn.fault.kind(), "injected fault");
        match drawn.fault {
            Fault::QueryLimitExceeded => return envelope::error(&RestError::query_limit(), None),
            Fault::InternalServerError => return envelope::error(&RestError::internal(), None),
            Fault::ExpiredToken => return envelope::error(&RestError::expired_token(), None),
            Fault::OperationTimeLimit { .. } => {
                let mut timing = plain_timing(&state, &method_name);
                timing.operating_reset_at = drawn.reset_at;
                timing.operating = timing.operating.max(480.0);
                return envelope::error(&RestError::operation_time_limit(), Some(&timing));
            }
            Fault::Hang(duration) => {
                tokio::time::sleep(duration).await;
                return drop_connection(conn).await;
            }
            Fault::DropConnection => return drop_connection(conn).await,
            Fault::SlowReply(duration) => after = After::Delay(duration),
            Fault::DropAfterExecution => after = After::Drop,
            Fault::DelayedExecution { delay, cut_after } => {
                after = After::Deferred { delay, cut_after }
            }
            Fault::TrueWithoutSaving => unsaved = true,
        }
    }

    let admitted = state
        .limiter
        .lock()
        .expect("limiter lock")
        .admit(Instant::now());
    if !admitted {
        state
            .stats
            .lock()
            .expect("stats lock")
            .rejected_by_rate_limit += 1;
        return envelope::error(&RestError::query_limit(), None);
    }

    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let mut raw = match params::parse_request(query.as_deref(), content_type, &body) {
        Ok(raw) => raw,
        Err(e) => {
            return envelope::error(
                &RestError::new(ErrorCode::InvalidRequest, e.to_string()),
                None,
            )
        }
    };
    let auth = raw.remove("auth");

    if let Err(error) = authenticate(&state, &caller, auth.as_ref()) {
        return envelope::error(&error, None);
    }
    let Some((run, names)) = method(&method_name) else {
        return envelope::error(&RestError::method_not_found(), None);
    };
    let params = normalize(raw, names);

    if let After::Deferred { delay, cut_after } = after {
        defer(state.clone(), method_name, run, params, arrived + delay);
        tokio::time::sleep_until(arrived + cut_after).await;
        return drop_connection(conn).await;
    }
    let (outcome, processing) = execute(&state, &method_name, run, &params, unsaved);
    let (operating, operating_reset_at) = state.operating.lock().expect("operating lock").record(
        &method_name,
        now_unix(),
        processing.as_secs_f64(),
    );
    let timing = Timing {
        start,
        processing,
        operating,
        operating_reset_at,
    };
    let response = match outcome {
        Ok(result) => envelope::success(result, &timing),
        Err(error) => envelope::error(&error, None),
    };
    match after {
        After::Reply | After::Deferred { .. } => response,
        After::Delay(duration) => {
            tokio::time::sleep(duration).await;
            response
        }
        After::Drop => drop_connection(conn).await,
    }
}

/// Runs a method against the world, persists what changed and counts the call.
fn execute(
    state: &AppState,
    method_name: &str,
    run: MethodFn,
    params: &Params,
    unsaved: bool,
) -> (Outcome, std::time::Duration) {
    let began = Instant::now();
    let (outcome, changed) = {
        let mut world = state.world.lock().expect("world lock");
        let mut call = Call {
            world: &mut world,
            now: now_unix(),
            changed: false,
            unsaved,
        };
        let outcome = run(&mut call, params);
        (outcome, call.changed)
    };
    let processing = began.elapsed();
    if changed {
        state.persist();
    }
    *state
        .stats
        .lock()
        .expect("stats lock")
        .method_calls
        .entry(method_name.to_string())
        .or_default() += 1;
    (outcome, processing)
}

/// Runs the method at `at`, with nobody waiting for its answer ([`Fault::DelayedExecution`]).
fn defer(
    state: Arc<AppState>,
    method_name: String,
    run: MethodFn,
    params: Params,
    at: tokio::time::Instant,
) {
    state.stats.lock().expect("stats lock").delayed_pending += 1;
    tokio::spawn(async move {
        tokio::time::sleep_until(at).await;
        let (outcome, processing) = execute(&state, &method_name, run, &params, false);
        state.operating.lock().expect("operating lock").record(
            &method_name,
            now_unix(),
            processing.as_secs_f64(),
        );
        state.stats.lock().expect("stats lock").delayed_pending -= 1;
        tracing::info!(method = %method_name, ok = outcome.is_ok(), "delayed call executed");
    });
}

enum After {
    Reply,
    Delay(std::time::Duration),
    Drop,
    Deferred {
        delay: std::time::Duration,
        cut_after: std::time::Duration,
    },
}

/// Closes the client's connection without an answer. The connection task drops the
/// connection (and this future with it), so this never returns when served by the sandbox.
async fn drop_connection(conn: Option<Extension<ConnControl>>) -> Response {
    match conn {
        Some(Extension(conn)) => {
            conn.drop_now();
            std::future::pending::<Response>().await
        }
        // Not served over a socket (e.g. `Router::oneshot`): nothing to drop.
        None => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "connection dropped",
        )
            .into_response(),
    }
}

fn authenticate(state: &AppState, caller: &Caller, auth: Option<&Value>) -> Result<(), RestError> {
    match caller {
        Caller::Webhook { user, code } => {
            let config = &state.config;
            if *user == config.webhook_user_id.to_string() && *code == config.webhook_code {
                Ok(())
            } else {
                Err(RestError::access_denied())
            }
        }
        Caller::OAuth => {
            let token = auth
                .and_then(params::php_string)
                .filter(|t| !t.is_empty())
                .ok_or_else(RestError::no_auth)?;
            let checked = state
                .oauth
                .lock()
                .expect("oauth lock")
                .check_access(&token, now_unix());
            match checked {
                Ok(()) => Ok(()),
                Err(TokenProblem::Expired) => Err(RestError::expired_token()),
                Err(TokenProblem::Unknown) => Err(RestError::no_auth()),
            }
        }
    }
}

fn normalize(raw: Map<String, Value>, names: Names) -> Params {
    match names {
        Names::Deep => match params::upper_keys_deep(Value::Object(raw)) {
            Value::Object(map) => Params(map),
            _ => unreachable!("an object stays an object"),
        },
        Names::Handler => {
            let mut map = params::upper_keys(raw);
            if let Some(settings) = map.remove("SETTINGS") {
                map.insert(
                    "SETTINGS".into(),
                    params::normalize_handler_settings(settings),
                );
            }
            if let Some(Value::Object(fields)) = map.remove("FIELDS") {
                let mut fields = params::upper_keys(fields);
                if let Some(settings) = fields.remove("SETTINGS") {
                    fields.insert(
                        "SETTINGS".into(),
                        params::normalize_handler_settings(settings),
                    );
                }
                map.insert("FIELDS".into(), Value::Object(fields));
            }
            Params(map)
        }
    }
}

/// Seconds since the Unix epoch with a fraction, for fault injection times.
pub(crate) fn unix_now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_call_forms_route() {
        let (caller, method) = route("1/abc/sale.paysystem.list.json").unwrap();
        assert!(matches!(caller, Caller::Webhook { .. }));
        assert_eq!(method, "sale.paysystem.list");
        let (caller, method) = route("Sale.PaySystem.List").unwrap();
        assert!(matches!(caller, Caller::OAuth));
        assert_eq!(method, "sale.paysystem.list");
        assert!(route("1/abc").is_none());
    }
}
