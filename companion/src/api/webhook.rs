//! `POST /webhooks/stripe`: Stripe's events, outside the payment API (no CORS, no CSP: Stripe's
//! servers call it, not a browser). The raw body's `Stripe-Signature` is verified before
//! anything is read from it: a forged or stale signature is answered 400 and changes nothing.
//! A verified event is a hint (see `payments/events.rs`): `payment_intent.succeeded` and
//! `payment_intent.payment_failed` settle the attempt through the acquirer, `charge.refunded`
//! re-reads the charge's refunds; every other event is acknowledged and ignored. A failure on
//! our side answers 500, so Stripe delivers the event again.

use crate::acquirer::stripe::webhook::{
    EventKind, WebhookError, WebhookVerifier, SIGNATURE_HEADER,
};
use crate::acquirer::AcquirerKind;
use crate::config::Config;
use crate::payments::{EventHint, Payments, Refunds};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

pub const STRIPE_PATH: &str = "/webhooks/stripe";

/// Stripe's events are a few kilobytes; a charge with many refunds is larger.
const BODY_LIMIT: usize = 256 * 1024;

#[derive(Clone)]
struct StripeWebhooks {
    payments: Arc<Payments>,
    refunds: Arc<Refunds>,
    verifier: Arc<WebhookVerifier>,
}

/// The webhook routes of the configured acquirers (none without `[acquirer.stripe]`).
pub fn routes<S: Clone + Send + Sync + 'static>(
    config: &Config,
    payments: &Arc<Payments>,
) -> Router<S> {
    let Some(stripe) = &config.stripe else {
        return Router::new();
    };
    let state = StripeWebhooks {
        payments: payments.clone(),
        refunds: Arc::new(payments.refunds(stripe.timeout)),
        verifier: Arc::new(WebhookVerifier::new(stripe.webhook_secret.clone())),
    };
    Router::new()
        .route(STRIPE_PATH, post(stripe_event))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
        // As for the payment API: a body that trickles in holds no handler.
        .layer(axum::middleware::from_fn_with_state(
            crate::edge::body::BodyRead {
                timeout: config.limits.body_read_timeout,
                max_bytes: BODY_LIMIT,
            },
            crate::edge::body::read_body,
        ))
}

fn refused(e: &WebhookError) -> Response {
    tracing::warn!(code = e.code(), error = %e, "refused a Stripe webhook");
    let body = json!({"error": {"code": e.code(), "message": e.to_string()}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn stripe_event(
    State(hooks): State<StripeWebhooks>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let event = match hooks.verifier.event(signature, &body) {
        Ok(event) => event,
        Err(e) => return refused(&e),
    };
    let id = event.id.clone();
    // Detached: a delivery cut off half-way never leaves an attempt half-settled.
    let work = tokio::spawn(async move { handle(&hooks, event.kind).await });
    match work.await {
        Ok(Ok(outcome)) => {
            tracing::info!(event = %id, %outcome, "Stripe webhook handled");
            (
                StatusCode::OK,
                Json(json!({"received": true, "outcome": outcome})),
            )
                .into_response()
        }
        Ok(Err(e)) => {
            tracing::warn!(event = %id, error = %e, "Stripe webhook not handled; Stripe delivers it again");
            let body = json!({"error": {"code": "internal", "message": "retry later"}});
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn handle(hooks: &StripeWebhooks, kind: EventKind) -> Result<String, String> {
    let stripe = AcquirerKind::Stripe;
    let (pi, hint) = match kind {
        EventKind::PaymentSucceeded(pi) => (pi, EventHint::Succeeded),
        EventKind::PaymentFailed(pi) => (pi, EventHint::Failed),
        EventKind::ChargeRefunded(charge) => {
            let Some(pi) = charge.payment_intent else {
                return Ok("ignored: a charge without a PaymentIntent".into());
            };
            let n = hooks
                .refunds
                .sync(stripe, &pi)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(format!("refunds recorded or updated: {n}"));
        }
        EventKind::Ignored(kind) => return Ok(format!("ignored: {kind}")),
    };
    let outcome = hooks
        .payments
        .charge_event(stripe, &pi.id, hint)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("{outcome:?}"))
}
