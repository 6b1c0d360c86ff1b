//! The API's handlers. Each runs the payment work in its own task, so a client that disconnects
//! (or a request timeout) never cancels a charge half-way: the work completes and is recorded,
//! and a retry with the same idempotency key gets its result.

use super::error::ApiError;
use super::input::{
    today, valid_attempt_id, validate_challenge_code, validate_confirm, IdempotencyKey, StrictJson,
};
use crate::payments::Payments;
use axum::extract::{Path, State};
use axum::Json;
use b24pay_protocol::api::{ChallengeRequest, ConfirmRequest, ErrorCode, PaymentView};
use std::sync::Arc;

pub type SharedPayments = Arc<Payments>;

async fn detached<F>(work: F) -> Result<Json<PaymentView>, ApiError>
where
    F: std::future::Future<Output = Result<PaymentView, ApiError>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result.map(Json),
        Err(e) => {
            tracing::error!(error = %e, "payment task panicked");
            Err(ApiError::internal())
        }
    }
}

/// `POST /api/v1/payments`
pub async fn confirm(
    State(payments): State<SharedPayments>,
    IdempotencyKey(key): IdempotencyKey,
    StrictJson(request): StrictJson<ConfirmRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    let input = validate_confirm(&request, today())?;
    // The fingerprint covers the parsed request, so whitespace or key order in the JSON does
    // not make a retry look like a different request.
    let canonical = serde_json::to_vec(&request).map_err(|_| ApiError::internal())?;
    drop(request);
    detached(async move { payments.confirm(&key, &canonical, &input).await }).await
}

/// `POST /api/v1/payments/{id}/challenge`
pub async fn challenge(
    State(payments): State<SharedPayments>,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    StrictJson(request): StrictJson<ChallengeRequest>,
) -> Result<Json<PaymentView>, ApiError> {
    if !valid_attempt_id(&id) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "no such payment attempt",
        ));
    }
    validate_challenge_code(&request.code)?;
    detached(async move { payments.challenge(&id, &key, &request.code).await }).await
}

/// `GET /api/v1/payments/{id}`
pub async fn status(
    State(payments): State<SharedPayments>,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    if !valid_attempt_id(&id) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "no such payment attempt",
        ));
    }
    payments.status(&id).await.map(Json)
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
