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
//! | `GET /sandbox/api/app` | | the app, its installation, the events sent (404 `NO_APP`) |
//! | `POST /sandbox/api/app/install` | | `{"access_token", "refresh_token", "application_token", "event"}` (`ONAPPINSTALL` sent) |
//! | `POST /sandbox/api/app/uninstall` | `{"clean"?: bool}` | the `ONAPPUNINSTALL` event (409 `NOT_INSTALLED`) |
//! | `POST /sandbox/api/move` | `{"listen": "127.0.0.1:0"}` | `{"base_url"}`: the portal moved there |
//! | `GET /sandbox/api/stats` | | `{"method_calls": {method: n}, "rate_limited_calls", "delayed_calls_pending"}` |
//!
//! Errors are `{"error": CODE, "error_description": TEXT}` with 400 or 404 (`error.rs`).

mod app;
mod error;
mod payments;
mod switches;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::AppState;

type AppRouter = Router<Arc<AppState>>;

pub(crate) fn router() -> AppRouter {
    Router::new()
        .route("/", get(info))
        .route("/payments", get(payments::list).post(payments::create))
        .route("/payments/{id}", get(payments::get))
        .route("/payments/{id}/pay-system", post(payments::set_pay_system))
        .route(
            "/payments/{id}/external-id",
            post(payments::set_external_id),
        )
        .route(
            "/faults",
            get(switches::list_faults)
                .post(switches::inject_fault)
                .delete(switches::clear_faults),
        )
        .route(
            "/rate-limit",
            get(switches::get_rate_limit).post(switches::set_rate_limit),
        )
        .route("/oauth", get(switches::oauth_stats))
        .route("/oauth/tokens", post(switches::issue_tokens))
        .route("/oauth/expire", post(switches::expire_tokens))
        .route("/stats", get(stats))
        .route("/app", get(app::status))
        .route("/app/install", post(app::install))
        .route("/app/uninstall", post(app::uninstall))
        .route("/move", post(app::move_to))
}

async fn info(State(state): State<Arc<AppState>>) -> Json<Value> {
    let base = state.public_url();
    Json(json!({
        "base_url": base,
        "webhook_url": state.webhook_url(),
        "rest_url": format!("{base}/rest/"),
        "oauth_token_endpoint": format!("{base}/oauth/token/"),
        "oauth_client_id": state.config.oauth_client_id,
        "admin_url": format!("{base}/admin"),
        "member_id": state.config.member_id,
        "methods": crate::rest::METHODS,
    }))
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    let stats = state.stats.lock().expect("stats lock");
    Json(json!({
        "method_calls": stats.method_calls,
        "requests": stats.requests,
        "rate_limited_calls": stats.rejected_by_rate_limit,
        "delayed_calls_pending": stats.delayed_pending,
    }))
}
