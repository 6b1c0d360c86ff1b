//! The sandbox-only control API under `/sandbox/api` (no authentication: it is a local test
//! portal). Everything here is also on [`SandboxHandle`](crate::SandboxHandle).
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /sandbox/api` | | URLs (webhook, OAuth endpoint, …) and the implemented methods |
//! | `GET /sandbox/api/payments` | | every payment (`PaymentSnapshot`) |
//! | `POST /sandbox/api/payments` | `NewPayment` | `CreatedPayment` (201) |
//! | `GET /sandbox/api/payments/{id}` | | `PaymentSnapshot` (paid, `ps`, `pay_calls`, pay system) |
//! | `POST /sandbox/api/payments/{id}/pay-system` | `{"pay_system_id": 3}` | `PaymentSnapshot` |
//! | `POST /sandbox/api/payments/{id}/external-id` | `{"external_payment_id": "tx" \| null}` | `PaymentSnapshot` |
//! | `GET /sandbox/api/faults` | | pending faults |
//! | `POST /sandbox/api/faults` | `FaultRequest` | pending faults |
//! | `DELETE /sandbox/api/faults` | | pending faults (none) |
//! | `GET /sandbox/api/rate-limit` | | `{"enabled", "drain_per_second", "burst"}` |
//! | `POST /sandbox/api/rate-limit` | `{"enabled": true, "drain_per_second"?: 2, "burst"?: 50}` | the same |
//! | `POST /sandbox/api/oauth/tokens` | | a token reply (`access_token`, `refresh_token`, …) |
//! | `POST /sandbox/api/oauth/expire` | | `{"expired": true}` |
//! | `GET /sandbox/api/oauth` | | `{"refreshes", "rejected_refreshes"}` |
//! | `GET /sandbox/api/stats` | | `{"method_calls": {method: n}, "rate_limited_calls", "delayed_calls_pending"}` |
//!
//! Errors are `{"error": CODE, "error_description": TEXT}` with 400 or 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::FaultRequest;
use crate::limits::RateLimit;
use crate::oauth::token_reply;
use crate::portal_format::now_unix;
use crate::state::AppState;
use crate::world::{NewPayment, WorldError};

type AppRouter = Router<Arc<AppState>>;

pub(crate) fn router() -> AppRouter {
    Router::new()
        .route("/", get(info))
        .route("/payments", get(list_payments).post(create_payment))
        .route("/payments/{id}", get(get_payment))
        .route("/payments/{id}/pay-system", post(set_pay_system))
        .route("/payments/{id}/external-id", post(set_external_id))
        .route(
            "/faults",
            get(list_faults).post(inject_fault).delete(clear_faults),
        )
        .route("/rate-limit", get(get_rate_limit).post(set_rate_limit))
        .route("/oauth", get(oauth_stats))
        .route("/oauth/tokens", post(issue_tokens))
        .route("/oauth/expire", post(expire_tokens))
        .route("/stats", get(stats))
}

fn error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": code, "error_description": description.into()})),
    )
        .into_response()
}

fn world_error(e: WorldError) -> Response {
    let status = if e.is_not_found() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    error(status, e.code(), e.to_string())
}

/// A JSON body that failed to parse becomes a 400 in the same error shape.
fn bad_body(rejection: axum::extract::rejection::JsonRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "INVALID_BODY",
        rejection.body_text(),
    )
}

async fn info(State(state): State<Arc<AppState>>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "base_url": c.public_url,
        "webhook_url": format!("{}/rest/{}/{}/", c.public_url, c.webhook_user_id, c.webhook_code),
        "rest_url": format!("{}/rest/", c.public_url),
        "oauth_token_endpoint": format!("{}/oauth/token/", c.public_url),
        "oauth_client_id": c.oauth_client_id,
        "admin_url": format!("{}/admin", c.public_url),
        "methods": crate::rest::METHODS,
    }))
}

async fn list_payments(State(state): State<Arc<AppState>>) -> Json<Value> {
    let world = state.world.lock().expect("world lock");
    let payments: Vec<_> = world.payments.values().map(|p| world.snapshot(p)).collect();
    Json(json!(payments))
}

async fn create_payment(
    State(state): State<Arc<AppState>>,
    body: Result<Json<NewPayment>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(new) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(rejection),
    };
    match crate::sandbox::create_payment(&state, &new) {
        Ok(created) => {
            state.persist();
            (StatusCode::CREATED, Json(created)).into_response()
        }
        Err(e) => world_error(e),
    }
}

async fn get_payment(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Response {
    let world = state.world.lock().expect("world lock");
    match world.payments.get(&id) {
        Some(payment) => Json(world.snapshot(payment)).into_response(),
        None => world_error(WorldError::UnknownPayment(id)),
    }
}

#[derive(Deserialize)]
struct PaySystemChoice {
    #[serde(alias = "paysystem_id")]
    pay_system_id: u64,
}

async fn set_pay_system(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    body: Result<Json<PaySystemChoice>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(choice) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(rejection),
    };
    let result = state
        .world
        .lock()
        .expect("world lock")
        .set_payment_pay_system(id, choice.pay_system_id);
    match result {
        Ok(()) => {
            state.persist();
            let world = state.world.lock().expect("world lock");
            Json(world.snapshot(&world.payments[&id])).into_response()
        }
        Err(e) => world_error(e),
    }
}

#[derive(Deserialize)]
struct ExternalId {
    external_payment_id: Option<String>,
}

async fn set_external_id(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    body: Result<Json<ExternalId>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(rejection),
    };
    let result = state
        .world
        .lock()
        .expect("world lock")
        .set_external_payment_id(id, body.external_payment_id);
    match result {
        Ok(()) => {
            state.persist();
            let world = state.world.lock().expect("world lock");
            Json(world.snapshot(&world.payments[&id])).into_response()
        }
        Err(e) => world_error(e),
    }
}

fn pending_faults(state: &AppState) -> Value {
    let faults = state.faults.lock().expect("faults lock");
    let pending: Vec<Value> = faults
        .pending()
        .iter()
        .map(|p| {
            json!({
                "kind": p.fault.kind(),
                "remaining": p.remaining,
                "methods": p.methods,
            })
        })
        .collect();
    json!({"pending": pending})
}

async fn list_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(pending_faults(&state))
}

async fn inject_fault(
    State(state): State<Arc<AppState>>,
    body: Result<Json<FaultRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(rejection),
    };
    let fault = match request.to_fault() {
        Ok(fault) => fault,
        Err(message) => return error(StatusCode::BAD_REQUEST, "UNKNOWN_FAULT", message),
    };
    let methods = request
        .methods
        .clone()
        .filter(|m| !m.is_empty())
        .map(|m| m.into_iter().map(|s| s.to_lowercase()).collect());
    state.faults.lock().expect("faults lock").inject(
        fault,
        request.count,
        methods,
        crate::rest::unix_now_f64(),
    );
    Json(pending_faults(&state)).into_response()
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    state.faults.lock().expect("faults lock").clear();
    Json(pending_faults(&state))
}

fn rate_limit_json(limit: Option<RateLimit>) -> Value {
    match limit {
        Some(l) => {
            json!({"enabled": true, "drain_per_second": l.drain_per_second, "burst": l.burst})
        }
        None => json!({"enabled": false}),
    }
}

async fn get_rate_limit(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(rate_limit_json(
        state.limiter.lock().expect("limiter lock").limit(),
    ))
}

#[derive(Deserialize)]
struct RateLimitRequest {
    enabled: bool,
    drain_per_second: Option<f64>,
    burst: Option<u32>,
}

async fn set_rate_limit(
    State(state): State<Arc<AppState>>,
    body: Result<Json<RateLimitRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(rejection),
    };
    let limit = request.enabled.then(|| RateLimit {
        drain_per_second: request
            .drain_per_second
            .unwrap_or(RateLimit::PORTAL.drain_per_second),
        burst: request.burst.unwrap_or(RateLimit::PORTAL.burst),
    });
    if limit
        .is_some_and(|l| l.drain_per_second.is_nan() || l.drain_per_second <= 0.0 || l.burst == 0)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_RATE_LIMIT",
            "drain_per_second and burst must be positive",
        );
    }
    state.limiter.lock().expect("limiter lock").set_limit(limit);
    Json(rate_limit_json(limit)).into_response()
}

async fn issue_tokens(State(state): State<Arc<AppState>>) -> Json<Value> {
    let now = now_unix();
    let tokens = state.oauth.lock().expect("oauth lock").issue(now);
    state.persist();
    Json(token_reply(&state, &tokens, now))
}

async fn expire_tokens(State(state): State<Arc<AppState>>) -> Json<Value> {
    state
        .oauth
        .lock()
        .expect("oauth lock")
        .expire_all(now_unix());
    state.persist();
    Json(json!({"expired": true}))
}

async fn oauth_stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!(state.oauth.lock().expect("oauth lock").stats()))
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    let stats = state.stats.lock().expect("stats lock");
    Json(json!({
        "method_calls": stats.method_calls,
        "rate_limited_calls": stats.rejected_by_rate_limit,
        "delayed_calls_pending": stats.delayed_pending,
    }))
}
