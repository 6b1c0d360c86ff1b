//! `PaymentError`: every way the payment flow refuses or cannot finish a request, and the one
//! place it becomes the API's answer (code, message, `Retry-After`).

use crate::api::error::ApiError;
use crate::portal::PortalError;
use crate::store::{now_ms, StoreError};
use b24pay_protocol::api::ErrorCode;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// No such payment for this pay system, or not with this amount and currency: one answer
    /// for both, so nobody learns from it which payments exist or what they cost.
    #[error("this payment cannot be paid with these details")]
    Unavailable,
    #[error("the payment is already paid")]
    AlreadyPaid,
    #[error("another attempt for this payment is in progress")]
    InProgress,
    #[error("this idempotency key was used with a different request")]
    KeyReused,
    #[error("no such payment attempt")]
    NotFound,
    #[error("this payment is not waiting for the customer")]
    InvalidState,
    #[error("the pay system is in LIVE mode and no live acquirer is configured")]
    LiveModeUnavailable,
    #[error("the pay system is in TEST mode and this server does not take test payments (payments.allow_test_mode)")]
    TestModeNotAllowed,
    #[error("the pay system is not set up for b24pay: {0}")]
    NotConfigured(String),
    #[error("too many attempts; retry later")]
    TooManyAttempts { retry_after: Duration },
    #[error("the portal is rate limiting; retry shortly")]
    PortalRateLimited { retry_after: Duration },
    #[error("the portal is unavailable")]
    PortalUnavailable,
    #[error("the portal did not answer in time")]
    PortalTimeout,
    #[error("the acquirer did not answer in time; retry with the same idempotency key")]
    AcquirerTimeout,
    #[error("the acquirer is unavailable; retry with the same idempotency key")]
    AcquirerUnavailable,
    #[error("store failure: {0}")]
    Store(#[from] StoreError),
}

impl PaymentError {
    pub fn code(&self) -> ErrorCode {
        use PaymentError::*;
        match self {
            Unavailable => ErrorCode::PaymentUnavailable,
            AlreadyPaid => ErrorCode::AlreadyPaid,
            InProgress => ErrorCode::PaymentInProgress,
            KeyReused => ErrorCode::IdempotencyKeyReused,
            NotFound => ErrorCode::NotFound,
            InvalidState => ErrorCode::InvalidState,
            LiveModeUnavailable => ErrorCode::LiveModeUnavailable,
            TestModeNotAllowed => ErrorCode::TestModeNotAllowed,
            NotConfigured(_) => ErrorCode::PaysystemNotConfigured,
            TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            PortalRateLimited { .. } => ErrorCode::RateLimited,
            PortalUnavailable => ErrorCode::PortalUnavailable,
            PortalTimeout | AcquirerTimeout => ErrorCode::Timeout,
            AcquirerUnavailable | Store(_) => ErrorCode::Internal,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PaymentError::TooManyAttempts { retry_after }
            | PaymentError::PortalRateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// What the flow tells the customer when the portal fails during verification.
    pub fn from_portal(e: &PortalError) -> PaymentError {
        match e {
            PortalError::NotFound(_) => PaymentError::Unavailable,
            PortalError::NotConfigured(why) => PaymentError::NotConfigured(why.clone()),
            PortalError::RateLimited { retry_at, .. } => PaymentError::PortalRateLimited {
                retry_after: retry_at
                    .map(|at| Duration::from_millis((at - now_ms()).clamp(1000, 3_600_000) as u64))
                    .unwrap_or(Duration::from_secs(1)),
            },
            e if e.is_timeout() => PaymentError::PortalTimeout,
            _ => PaymentError::PortalUnavailable,
        }
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> ApiError {
        if let PaymentError::Store(inner) = &e {
            tracing::error!(error = %inner, "store failure");
            return ApiError::internal();
        }
        let mut api = ApiError::new(e.code(), e.to_string());
        api.retry_after = e.retry_after().map(|d| d.as_secs().max(1));
        api
    }
}
