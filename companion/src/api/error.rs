//! `ApiError`: every failure of the payment API, answered as `ErrorBody` with an `ErrorCode` the
//! widget translates and the HTTP status that goes with it. Never axum's plain-text rejections.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use b24pay_protocol::api::{ErrorBody, ErrorCode, ErrorDetail};

#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_string()),
            ..ApiError::new(code, message)
        }
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            ErrorCode::Internal,
            "internal error; retry with the same idempotency key",
        )
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    pub fn code_str(&self) -> &'static str {
        self.code.as_str()
    }
}

/// The HTTP status of each error code (documented in `openapi.yaml`).
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        InvalidJson | MissingIdempotencyKey | InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
        BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        InvalidPaymentId | InvalidPaysystemId | InvalidAmount | UnknownCurrency
        | InvalidCardNumber | InvalidExpiry | CardExpired | InvalidCvc | InvalidHolder
        | InvalidChallengeCode => StatusCode::UNPROCESSABLE_ENTITY,
        NotFound | PaymentUnavailable => StatusCode::NOT_FOUND,
        LiveModeUnavailable | TestModeNotAllowed | PaysystemNotConfigured => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        AlreadyPaid | PaymentInProgress | IdempotencyKeyReused | InvalidState => {
            StatusCode::CONFLICT
        }
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        PortalUnavailable => StatusCode::BAD_GATEWAY,
        Timeout => StatusCode::GATEWAY_TIMEOUT,
        Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        tracing::error!(error = %e, "store failure");
        ApiError::internal()
    }
}
