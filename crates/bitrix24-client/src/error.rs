//! One error type for every way a call can fail, with the portal's code, description and HTTP
//! status, and what it means for retrying.

use std::fmt;
use std::sync::Arc;

use crate::lenient::open_enum;

open_enum! {
    /// Errors a specific method reports about its input or the portal's data
    /// (HTTP 400, `ACCESS_DENIED` 403). Never worth retrying unchanged.
    pub enum MethodError {
        /// Insufficient permissions for this method.
        AccessDenied = "ACCESS_DENIED",
        /// A required field is missing or a value is wrong (details in the description).
        CheckFailure = "ERROR_CHECK_FAILURE",
        /// `sale.paysystem.handler.add`: a handler with this CODE exists.
        HandlerAlreadyExist = "ERROR_HANDLER_ALREADY_EXIST",
        /// `sale.paysystem.handler.add`: other failures.
        HandlerAdd = "ERROR_HANDLER_ADD",
        /// Unknown handler, or `settings.update` with empty SETTINGS.
        HandlerNotFound = "ERROR_HANDLER_NOT_FOUND",
        /// `PERSON_TYPE_ID` unknown or not in the pay system's registry.
        PersonTypeNotFound = "ERROR_PERSON_TYPE_NOT_FOUND",
        /// `handler.update`: a field value is invalid.
        HandlerUpdate = "ERROR_HANDLER_UPDATE",
        /// Unknown pay system.
        PaySystemNotFound = "ERROR_PAY_SYSTEM_NOT_FOUND",
        /// `sale.paysystem.add`: other failures.
        PaySystemAdd = "ERROR_PAY_SYSTEM_ADD",
        /// A delete was refused (e.g. a handler still used by a pay system).
        PaySystemDelete = "ERROR_PAY_SYSTEM_DELETE",
        /// `pay.invoice` / `settings.invoice.get`: no such legacy invoice.
        InternalInvoiceNotFound = "ERROR_INTERNAL_INVOICE_NOT_FOUND",
        /// No such order.
        InternalOrderNotFound = "ERROR_INTERNAL_ORDER_NOT_FOUND",
        /// The portal could not apply the payment result (details in the description).
        ProcessRequestResult = "ERROR_PROCESS_REQUEST_RESULT",
        /// An error the portal raised without a specific code (e.g. a field not allowed in a
        /// list's SELECT).
        Core = "ERROR_CORE",
    }
}

open_enum! {
    /// Errors the REST layer can return for any method: auth, limits, outages.
    pub enum SystemError {
        /// 500: internal server error.
        InternalServerError = "INTERNAL_SERVER_ERROR",
        /// 500: the server returned an unexpected answer.
        UnexpectedAnswer = "ERROR_UNEXPECTED_ANSWER",
        /// 503: the leaky-bucket request limit was exceeded; nothing was executed.
        QueryLimitExceeded = "QUERY_LIMIT_EXCEEDED",
        /// 429: the method's operating time limit was exceeded until `operating_reset_at`.
        OperationTimeLimit = "OPERATION_TIME_LIMIT",
        /// 405: method not allowed in batch.
        BatchMethodNotAllowed = "ERROR_BATCH_METHOD_NOT_ALLOWED",
        /// 400: batch too long.
        BatchLengthExceeded = "ERROR_BATCH_LENGTH_EXCEEDED",
        /// 401: wrong access token or webhook code.
        NoAuthFound = "NO_AUTH_FOUND",
        /// 400: HTTPS required.
        InvalidRequest = "INVALID_REQUEST",
        /// 503: the REST API is manually blocked for this portal; needs Bitrix24 support.
        OverloadLimit = "OVERLOAD_LIMIT",
        /// 403: the user behind the token or webhook lacks permissions.
        InvalidCredentials = "INVALID_CREDENTIALS",
        /// 404: the manifest is not available.
        ManifestIsNotAvailable = "ERROR_MANIFEST_IS_NOT_AVAILABLE",
        /// 403: the token or webhook lacks the method's scope.
        InsufficientScope = "insufficient_scope",
        /// 401: the OAuth access token expired (the client refreshes and retries once).
        ExpiredToken = "expired_token",
        /// 401: the OAuth access token is invalid.
        InvalidToken = "invalid_token",
        /// 403: the user has no access to the application.
        UserAccessError = "user_access_error",
        /// 500: the portal was deleted or its public part is closed.
        PortalDeleted = "PORTAL_DELETED",
        /// 404: no such REST method.
        MethodNotFound = "ERROR_METHOD_NOT_FOUND",
    }
}

/// Which method on which portal: all an error message may say about the request. Never the
/// URL, which carries the webhook code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub method: Arc<str>,
    /// Host and port of the portal (or of the OAuth server for token refreshes).
    pub host: Arc<str>,
}

impl Call {
    pub fn new(method: &str, host: &str) -> Call {
        Call {
            method: method.into(),
            host: host.into(),
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.method, self.host)
    }
}

/// How a request failed before a complete response arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made: the request was never sent.
    Connect,
    /// The per-request timeout elapsed: the portal may or may not have executed the call.
    Timeout,
    /// The connection broke after it was made (reset, closed, truncated response): the portal
    /// may or may not have executed the call.
    Connection,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "CONNECT_FAILED",
            TransportKind::Timeout => "TIMEOUT",
            TransportKind::Connection => "CONNECTION_BROKEN",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection failed",
            TransportKind::Timeout => "request timed out",
            TransportKind::Connection => "connection broken",
        })
    }
}

/// How a response failed to be what the protocol promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolKind {
    /// The body is not JSON (a proxy's HTML error page, an empty body).
    NotJson,
    /// JSON, but neither `{result}` nor `{error}`, or `result` has the wrong shape.
    UnexpectedShape,
}

impl ProtocolKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolKind::NotJson => "NOT_JSON",
            ProtocolKind::UnexpectedShape => "UNEXPECTED_SHAPE",
        }
    }
}

/// Whether a failed call may be sent again, and whether the portal might have executed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryClass {
    /// Retrying the same request cannot succeed (bad input, no permission, bad credentials).
    Permanent,
    /// Retrying may succeed and the portal provably did nothing (rate limits, connection
    /// refused): safe to retry even for calls with side effects.
    NotExecuted,
    /// Retrying may succeed, but the portal may have executed the call (timeout, dropped
    /// connection, 5xx): retry only calls that are safe to repeat.
    Ambiguous,
}

/// Everything that can go wrong with a call. `Display` names the method and the portal host,
/// never the webhook URL or a token.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The method refused the request (`ERROR_CHECK_FAILURE`, `ACCESS_DENIED`, …).
    #[error("{call}: {code} (HTTP {status}): {description}")]
    Method {
        call: Call,
        code: MethodError,
        description: String,
        status: u16,
    },
    /// The REST layer refused or failed the request (limits, auth, outages).
    #[error("{call}: {code} (HTTP {status}): {description}")]
    System {
        call: Call,
        code: SystemError,
        description: String,
        status: u16,
        /// Unix time (seconds) when a method blocked by `OPERATION_TIME_LIMIT` is usable again.
        operating_reset_at: Option<i64>,
        /// The `Retry-After` header, in seconds, when the portal sent one.
        retry_after: Option<u64>,
    },
    /// No complete HTTP response arrived.
    #[error("{call}: {kind}: {detail}")]
    Transport {
        call: Call,
        kind: TransportKind,
        detail: String,
    },
    /// A response arrived but does not follow the REST protocol.
    #[error("{call}: unexpected response (HTTP {status}): {detail}")]
    Protocol {
        call: Call,
        kind: ProtocolKind,
        status: u16,
        detail: String,
    },
    /// The OAuth server refused to refresh the access token (`invalid_grant`, …). The app
    /// needs new tokens (reinstall, or the `ONAPPINSTALL` event).
    #[error("token refresh at {host}: {code} (HTTP {status}): {description}")]
    TokenRefresh {
        host: String,
        code: String,
        description: String,
        status: u16,
    },
    /// The client-side rate limit would have delayed the call beyond `RetryConfig::max_total`;
    /// nothing was sent.
    #[error("{call}: client-side rate limit: next slot in {} ms", wait.as_millis())]
    Throttled {
        call: Call,
        wait: std::time::Duration,
    },
    /// The client was configured or called wrongly (bad webhook URL, params not an object).
    #[error("invalid client configuration or call: {0}")]
    Config(String),
}

impl Error {
    /// A stable code for metrics and matching: the portal's error code for `Method`/`System`/
    /// `TokenRefresh`, otherwise a code of this crate (`TIMEOUT`, `CONNECT_FAILED`,
    /// `CONNECTION_BROKEN`, `NOT_JSON`, `UNEXPECTED_SHAPE`, `CONFIG`).
    pub fn code(&self) -> &str {
        match self {
            Error::Method { code, .. } => code.as_str(),
            Error::System { code, .. } => code.as_str(),
            Error::Transport { kind, .. } => kind.as_str(),
            Error::Protocol { kind, .. } => kind.as_str(),
            Error::TokenRefresh { code, .. } => code,
            Error::Throttled { .. } => "CLIENT_THROTTLED",
            Error::Config(_) => "CONFIG",
        }
    }

    /// The HTTP status of the response, if one arrived.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Method { status, .. }
            | Error::System { status, .. }
            | Error::Protocol { status, .. }
            | Error::TokenRefresh { status, .. } => Some(*status),
            Error::Transport { .. } | Error::Throttled { .. } | Error::Config(_) => None,
        }
    }

    /// The portal's `error_description`, if the portal answered with an error.
    pub fn description(&self) -> Option<&str> {
        match self {
            Error::Method { description, .. }
            | Error::System { description, .. }
            | Error::TokenRefresh { description, .. } => Some(description),
            _ => None,
        }
    }

    /// The method and portal host this error is about, when it is about a call.
    pub fn call(&self) -> Option<&Call> {
        match self {
            Error::Method { call, .. }
            | Error::System { call, .. }
            | Error::Transport { call, .. }
            | Error::Protocol { call, .. }
            | Error::Throttled { call, .. } => Some(call),
            Error::TokenRefresh { .. } | Error::Config(_) => None,
        }
    }

    /// Whether sending the same request again may succeed. For calls with side effects also
    /// check [`Error::may_have_executed`].
    pub fn is_retryable(&self) -> bool {
        self.retry_class() != RetryClass::Permanent
    }

    /// Whether the portal may have executed the call despite the error (timeouts, dropped
    /// connections, 5xx). When it matters, re-read the state before repeating the call.
    pub fn may_have_executed(&self) -> bool {
        match self {
            Error::Method { .. }
            | Error::Config(_)
            | Error::TokenRefresh { .. }
            | Error::Throttled { .. } => false,
            Error::System { .. } => self.retry_class() == RetryClass::Ambiguous,
            Error::Transport { kind, .. } => *kind != TransportKind::Connect,
            // A 2xx response that cannot be read still means the call ran.
            Error::Protocol { .. } => true,
        }
    }

    /// Retry classification used by the client's retry loop.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            Error::Method { .. } | Error::Config(_) => RetryClass::Permanent,
            Error::Throttled { .. } => RetryClass::NotExecuted,
            Error::System { code, status, .. } => match code {
                SystemError::QueryLimitExceeded | SystemError::OperationTimeLimit => {
                    RetryClass::NotExecuted
                }
                SystemError::InternalServerError | SystemError::UnexpectedAnswer => {
                    RetryClass::Ambiguous
                }
                // A manual block and a deleted portal do not heal by retrying.
                SystemError::OverloadLimit | SystemError::PortalDeleted => RetryClass::Permanent,
                SystemError::Other(_) if *status >= 500 => RetryClass::Ambiguous,
                _ => RetryClass::Permanent,
            },
            Error::Transport { kind, .. } => match kind {
                TransportKind::Connect => RetryClass::NotExecuted,
                TransportKind::Timeout | TransportKind::Connection => RetryClass::Ambiguous,
            },
            // A proxy's 502/503/504 HTML page: the portal may be back soon.
            Error::Protocol { status, .. } if *status >= 500 => RetryClass::Ambiguous,
            Error::Protocol { .. } => RetryClass::Permanent,
            // The method itself was not called; the OAuth server may recover.
            Error::TokenRefresh { status, .. } if *status >= 500 => RetryClass::NotExecuted,
            Error::TokenRefresh { .. } => RetryClass::Permanent,
        }
    }

    /// The portal answered with a redirect: it moved to another domain (the method did not
    /// run; refreshed OAuth tokens name its new `client_endpoint`).
    pub(crate) fn is_moved(&self) -> bool {
        self.http_status().is_some_and(|s| (300..400).contains(&s))
    }

    pub(crate) fn is_expired_token(&self) -> bool {
        matches!(
            self,
            Error::System {
                code: SystemError::ExpiredToken,
                ..
            }
        )
    }

    pub(crate) fn is_query_limit(&self) -> bool {
        matches!(
            self,
            Error::System {
                code: SystemError::QueryLimitExceeded,
                ..
            }
        )
    }

    /// Builds a portal error from its code: known system codes, and unknown codes with a 5xx
    /// status, are system errors; everything else is the method's.
    pub(crate) fn from_portal(
        call: Call,
        code: &str,
        description: String,
        status: u16,
        operating_reset_at: Option<i64>,
        retry_after: Option<u64>,
    ) -> Error {
        let system = SystemError::parse(code);
        if system.is_known() || status >= 500 {
            Error::System {
                call,
                code: system,
                description,
                status,
                operating_reset_at,
                retry_after,
            }
        } else {
            Error::Method {
                call,
                code: MethodError::parse(code),
                description,
                status,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call::new("sale.paysystem.pay.payment", "portal.example")
    }

    #[test]
    fn portal_codes_are_classified() {
        let e = Error::from_portal(
            call(),
            "ERROR_CHECK_FAILURE",
            "Pay system not found".into(),
            400,
            None,
            None,
        );
        assert!(matches!(
            e,
            Error::Method {
                code: MethodError::CheckFailure,
                ..
            }
        ));
        assert_eq!(e.code(), "ERROR_CHECK_FAILURE");
        assert_eq!(e.http_status(), Some(400));
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "sale.paysystem.pay.payment at portal.example: ERROR_CHECK_FAILURE (HTTP 400): Pay system not found"
        );

        let e = Error::from_portal(call(), "ERROR_SOMETHING_NEW", "new".into(), 400, None, None);
        assert!(
            matches!(&e, Error::Method { code: MethodError::Other(c), .. } if c == "ERROR_SOMETHING_NEW")
        );
        assert_eq!(e.code(), "ERROR_SOMETHING_NEW");

        let e = Error::from_portal(
            call(),
            "QUERY_LIMIT_EXCEEDED",
            "Too many requests".into(),
            503,
            None,
            None,
        );
        assert_eq!(e.retry_class(), RetryClass::NotExecuted);
        assert!(!e.may_have_executed());

        let e = Error::from_portal(
            call(),
            "OPERATION_TIME_LIMIT",
            "".into(),
            429,
            Some(1_700_000_000),
            None,
        );
        assert_eq!(e.retry_class(), RetryClass::NotExecuted);

        let e = Error::from_portal(call(), "INTERNAL_SERVER_ERROR", "".into(), 500, None, None);
        assert_eq!(e.retry_class(), RetryClass::Ambiguous);
        assert!(e.may_have_executed());

        let e = Error::from_portal(call(), "SOME_GATEWAY_THING", "".into(), 502, None, None);
        assert!(matches!(
            e,
            Error::System {
                code: SystemError::Other(_),
                ..
            }
        ));
        assert_eq!(e.retry_class(), RetryClass::Ambiguous);

        for (code, status) in [
            ("expired_token", 401),
            ("NO_AUTH_FOUND", 401),
            ("insufficient_scope", 403),
            ("OVERLOAD_LIMIT", 503),
            ("ERROR_METHOD_NOT_FOUND", 404),
        ] {
            let e = Error::from_portal(call(), code, "".into(), status, None, None);
            assert!(matches!(e, Error::System { .. }), "{code}");
            assert!(!e.is_retryable(), "{code}");
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn transport_errors_are_classified() {
        let e = Error::Transport {
            call: call(),
            kind: TransportKind::Connect,
            detail: "refused".into(),
        };
        assert_eq!(e.retry_class(), RetryClass::NotExecuted);
        assert_eq!(e.code(), "CONNECT_FAILED");
        assert_eq!(e.http_status(), None);
        let e = Error::Transport {
            call: call(),
            kind: TransportKind::Timeout,
            detail: "".into(),
        };
        assert_eq!(e.retry_class(), RetryClass::Ambiguous);
        assert!(e.may_have_executed());
        let e = Error::Protocol {
            call: call(),
            kind: ProtocolKind::NotJson,
            status: 502,
            detail: "".into(),
        };
        assert!(e.is_retryable());
        let e = Error::Protocol {
            call: call(),
            kind: ProtocolKind::NotJson,
            status: 200,
            detail: "".into(),
        };
        assert!(!e.is_retryable());
        assert!(e.may_have_executed());
    }
}
