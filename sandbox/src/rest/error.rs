//! The portal's error answers: `{"error": CODE, "error_description": TEXT}` with its statuses.

use axum::http::StatusCode;

/// Every error code the sandbox answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    // Method errors (400).
    CheckFailure,
    HandlerAlreadyExist,
    HandlerNotFound,
    HandlerUpdate,
    PersonTypeNotFound,
    PaySystemAdd,
    PaySystemNotFound,
    PaySystemDelete,
    InternalInvoiceNotFound,
    ProcessRequestResult,
    /// A `RestException` thrown without a code (e.g. a field not allowed in `.list`).
    Core,
    // System errors.
    InvalidRequest,
    MethodNotFound,
    AccessDenied,
    NoAuthFound,
    ExpiredToken,
    InsufficientScope,
    QueryLimitExceeded,
    OperationTimeLimit,
    InternalServerError,
    BatchLengthExceeded,
    BatchMethodNotAllowed,
}

impl ErrorCode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CheckFailure => "ERROR_CHECK_FAILURE",
            ErrorCode::HandlerAlreadyExist => "ERROR_HANDLER_ALREADY_EXIST",
            ErrorCode::HandlerNotFound => "ERROR_HANDLER_NOT_FOUND",
            ErrorCode::HandlerUpdate => "ERROR_HANDLER_UPDATE",
            ErrorCode::PersonTypeNotFound => "ERROR_PERSON_TYPE_NOT_FOUND",
            ErrorCode::PaySystemAdd => "ERROR_PAY_SYSTEM_ADD",
            ErrorCode::PaySystemNotFound => "ERROR_PAY_SYSTEM_NOT_FOUND",
            ErrorCode::PaySystemDelete => "ERROR_PAY_SYSTEM_DELETE",
            ErrorCode::InternalInvoiceNotFound => "ERROR_INTERNAL_INVOICE_NOT_FOUND",
            ErrorCode::ProcessRequestResult => "ERROR_PROCESS_REQUEST_RESULT",
            ErrorCode::Core => "ERROR_CORE",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::MethodNotFound => "ERROR_METHOD_NOT_FOUND",
            ErrorCode::AccessDenied => "ACCESS_DENIED",
            ErrorCode::NoAuthFound => "NO_AUTH_FOUND",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::QueryLimitExceeded => "QUERY_LIMIT_EXCEEDED",
            ErrorCode::OperationTimeLimit => "OPERATION_TIME_LIMIT",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
            ErrorCode::BatchLengthExceeded => "ERROR_BATCH_LENGTH_EXCEEDED",
            ErrorCode::BatchMethodNotAllowed => "ERROR_BATCH_METHOD_NOT_ALLOWED",
        }
    }

    pub(crate) fn status(self) -> StatusCode {
        match self {
            ErrorCode::MethodNotFound => StatusCode::NOT_FOUND,
            ErrorCode::AccessDenied | ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::NoAuthFound | ErrorCode::ExpiredToken => StatusCode::UNAUTHORIZED,
            ErrorCode::QueryLimitExceeded => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::OperationTimeLimit => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::BatchMethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// One error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RestError {
    pub code: ErrorCode,
    pub description: String,
}

impl RestError {
    pub(crate) fn new(code: ErrorCode, description: impl Into<String>) -> RestError {
        RestError {
            code,
            description: description.into(),
        }
    }

    pub(crate) fn check(description: impl Into<String>) -> RestError {
        RestError::new(ErrorCode::CheckFailure, description)
    }

    pub(crate) fn method_not_found() -> RestError {
        RestError::new(ErrorCode::MethodNotFound, "Method not found!")
    }

    pub(crate) fn access_denied() -> RestError {
        RestError::new(ErrorCode::AccessDenied, "Access denied!")
    }

    pub(crate) fn no_auth() -> RestError {
        RestError::new(ErrorCode::NoAuthFound, "Wrong authorization data")
    }

    pub(crate) fn expired_token() -> RestError {
        RestError::new(
            ErrorCode::ExpiredToken,
            "The access token provided has expired.",
        )
    }

    pub(crate) fn query_limit() -> RestError {
        RestError::new(ErrorCode::QueryLimitExceeded, "Too many requests")
    }

    pub(crate) fn operation_time_limit() -> RestError {
        RestError::new(
            ErrorCode::OperationTimeLimit,
            "Method is blocked due to operation time limit.",
        )
    }

    pub(crate) fn internal() -> RestError {
        RestError::new(ErrorCode::InternalServerError, "Internal server error")
    }
}
