//! The body-read timeout: a request's body is read whole (it is small: `limits.body_bytes`)
//! before its handler runs, within `limits.body_read_timeout`. A client that sends its body
//! slowly gets a JSON `timeout` error and holds none of the handlers' concurrency meanwhile;
//! the handler's own timeout (`limits.request_timeout`) starts only once the body is in.

use crate::api::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use b24pay_protocol::api::ErrorCode;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct BodyRead {
    pub timeout: Duration,
    /// Bodies larger than this are refused (`body_too_large`).
    pub max_bytes: usize,
}

/// Middleware: reads the body within the timeout, then runs the rest with it in memory.
pub async fn read_body(State(limits): State<BodyRead>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, limits.max_bytes);
    let bytes = match tokio::time::timeout(limits.timeout, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) if is_length_limit(&e) => {
            return ApiError::new(ErrorCode::BodyTooLarge, "request body too large").into_response()
        }
        Ok(Err(_)) => {
            return ApiError::new(ErrorCode::InvalidJson, "could not read the request body")
                .into_response()
        }
        Err(_) => {
            tracing::info!(
                timeout_ms = u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
                "request body not received in time"
            );
            return ApiError::new(
                ErrorCode::Timeout,
                "the request body did not arrive in time; retry with the same idempotency key",
            )
            .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}
