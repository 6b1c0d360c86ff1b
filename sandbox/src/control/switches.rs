//! The sandbox's switches: injected faults, the leaky bucket, OAuth tokens.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{Body, ControlError};
use crate::faults::FaultRequest;
use crate::limits::RateLimit;
use crate::oauth::{token_reply, OAuthState, OAuthStats};
use crate::portal_format::now_unix;
use crate::state::AppState;

fn pending_faults(state: &AppState) -> Json<Value> {
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
    Json(json!({"pending": pending}))
}

pub(super) async fn list_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    pending_faults(&state)
}

pub(super) async fn inject_fault(
    State(state): State<Arc<AppState>>,
    Body(request): Body<FaultRequest>,
) -> Result<Json<Value>, ControlError> {
    let fault = request.to_fault().map_err(ControlError::UnknownFault)?;
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
    Ok(pending_faults(&state))
}

pub(super) async fn clear_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    state.faults.lock().expect("faults lock").clear();
    pending_faults(&state)
}

fn rate_limit_json(limit: Option<RateLimit>) -> Json<Value> {
    Json(match limit {
        Some(l) => {
            json!({"enabled": true, "drain_per_second": l.drain_per_second, "burst": l.burst})
        }
        None => json!({"enabled": false}),
    })
}

pub(super) async fn get_rate_limit(State(state): State<Arc<AppState>>) -> Json<Value> {
    rate_limit_json(state.limiter.lock().expect("limiter lock").limit())
}

#[derive(Deserialize)]
pub(super) struct RateLimitRequest {
    enabled: bool,
    drain_per_second: Option<f64>,
    burst: Option<u32>,
}

pub(super) async fn set_rate_limit(
    State(state): State<Arc<AppState>>,
    Body(request): Body<RateLimitRequest>,
) -> Result<Json<Value>, ControlError> {
    let limit = request.enabled.then(|| RateLimit {
        drain_per_second: request
            .drain_per_second
            .unwrap_or(RateLimit::PORTAL.drain_per_second),
        burst: request.burst.unwrap_or(RateLimit::PORTAL.burst),
    });
    if limit
        .is_some_and(|l| l.drain_per_second.is_nan() || l.drain_per_second <= 0.0 || l.burst == 0)
    {
        return Err(ControlError::InvalidRateLimit);
    }
    state.limiter.lock().expect("limiter lock").set_limit(limit);
    Ok(rate_limit_json(limit))
}

pub(super) async fn issue_tokens(State(state): State<Arc<AppState>>) -> Json<Value> {
    let now = now_unix();
    let tokens = state.mutate_oauth(|oauth| oauth.issue(now));
    Json(token_reply(&state, &tokens, now))
}

pub(super) async fn expire_tokens(State(state): State<Arc<AppState>>) -> Json<Value> {
    state.mutate_oauth(|oauth| oauth.expire_all(now_unix()));
    Json(json!({"expired": true}))
}

pub(super) async fn oauth_stats(State(state): State<Arc<AppState>>) -> Json<OAuthStats> {
    Json(state.read_oauth(OAuthState::stats))
}
