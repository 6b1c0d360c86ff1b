//! The API's handlers. Each runs the payment work in its own task, so a client that disconnects
//! (or a request timeout) never cancels a charge half-way: the work completes and is recorded,
//! and a retry with the same idempotency key gets its result.

use super::client::ClientIp;
use super::error::ApiError;
use super::input::{today, validate_challenge_code, validate_confirm, IdempotencyKey, StrictJson};
use super::scope::{AttemptPath, Scope};
use crate::payments::{PaymentError, Payments};
use axum::extract::State;
use axum::Json;
use b24pay_protocol::api::{
    ChallengeRequest, ConfirmRequest, ErrorCode, PaymentView, ResumeRequest,
};
use b24pay_protocol::ids::AttemptId;
use std::sync::Arc;

pub type SharedPayments = Arc<Payments>;

async fn detached<F>(work: F) -> Result<Json<PaymentView>, ApiError>
where
    F: std::future::Future<Output = Result<PaymentView, PaymentError>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result.map(Json).map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "payment task panicked");
            Err(ApiError::internal())
        }
    }
}

/// `POST /api/v1/payments`
pub async fn confirm(
    State(payments): State<SharedPayments>,
    Scope(portal): Scope,
    ClientIp(client): ClientIp,
    IdempotencyKey(key): IdempotencyKey,
    StrictJson(request): StrictJson<ConfirmRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    let mut input = validate_confirm(&request, today())?;
    input.portal = portal;
    drop(request);
    detached(async move { payments.confirm(&key, &input, client).await }).await
}

fn attempt_id(id: &str) -> Result<AttemptId, ApiError> {
    AttemptId::parse(id).map_err(|_| ApiError::new(ErrorCode::NotFound, "no such payment attempt"))
}

/// `POST /api/v1/payments/{id}/challenge`
pub async fn challenge(
    State(payments): State<SharedPayments>,
    Scope(portal): Scope,
    AttemptPath(id): AttemptPath,
    IdempotencyKey(key): IdempotencyKey,
    StrictJson(request): StrictJson<ChallengeRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    let id = attempt_id(&id)?;
    validate_challenge_code(&request.code)?;
    detached(async move { payments.answer(&portal, &id, &key, &request.code).await }).await
}

/// `POST /api/v1/payments/{id}/resume`: the customer finished the Stripe.js step; the body is
/// `{}`.
pub async fn resume(
    State(payments): State<SharedPayments>,
    Scope(portal): Scope,
    AttemptPath(id): AttemptPath,
    IdempotencyKey(key): IdempotencyKey,
    StrictJson(_): StrictJson<ResumeRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    let id = attempt_id(&id)?;
    detached(async move { payments.resume(&portal, &id, &key).await }).await
}

/// `GET /api/v1/payments/{id}`
pub async fn status(
    State(payments): State<SharedPayments>,
    Scope(portal): Scope,
    AttemptPath(id): AttemptPath,
) -> Result<Json<PaymentView>, ApiError> {
    let id = attempt_id(&id)?;
    Ok(Json(payments.status(&portal, &id).await?))
}

/// Unknown paths under `/api/`.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API endpoint")
}

pub async fn method_not_allowed() -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut r =
        ApiError::new(ErrorCode::NotFound, "method not allowed on this endpoint").into_response();
    *r.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    r
}
