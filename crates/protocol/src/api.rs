//! The companion's payment API (`/api/v1`), as both sides see it on the wire.
//!
//! ```text
//! POST /api/v1/payments                    Idempotency-Key: <key>   body: ConfirmRequest
//! POST /api/v1/payments/{id}/challenge     Idempotency-Key: <key>   body: ChallengeRequest
//! GET  /api/v1/payments/{id}
//! ```
//! Every success answers a [`PaymentView`]; every failure answers [`ErrorBody`] with an
//! [`ErrorCode`] the widget translates. The full contract is `companion/openapi.yaml`.

use serde::{Deserialize, Serialize};

pub const API_PREFIX: &str = "/api/v1";
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Idempotency keys: 16 to 64 characters of `[A-Za-z0-9_-]` (the widget sends 32 hex digits).
pub fn valid_idempotency_key(key: &str) -> bool {
    (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The card as typed; the server validates it again and never stores `number` or `cvc`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// Digits only.
    pub number: String,
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: u16,
    pub cvc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

impl core::fmt::Debug for CardInput {
    // Never print the number or the CVC, even in a debug log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CardInput")
            .field("number", &crate::card::mask(&self.number))
            .field("exp_month", &self.exp_month)
            .field("exp_year", &self.exp_year)
            .field("cvc", &"***")
            .field("holder", &self.holder.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `POST /api/v1/payments`: confirm (charge) one portal payment. `amount` and `currency` are what
/// the customer was shown; the server refuses them unless they equal the portal's own values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// `BX_SYSTEM_PARAMS.PAYMENT_ID`, decimal digits.
    pub payment_id: String,
    /// `BX_SYSTEM_PARAMS.PAYSYSTEM_ID`, decimal digits.
    pub paysystem_id: String,
    /// Decimal text as the portal sent it ("1250.50").
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    pub card: CardInput,
    /// Only for pay systems bound to legacy CRM invoices (`ENTITY_REGISTRY_TYPE=CRM_INVOICE`):
    /// the invoice id the portal posts in FIELDS as `invoiceId`. The portal looks a legacy
    /// invoice's payment up by invoice, not by payment id. Omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
}

/// `POST /api/v1/payments/{id}/challenge`: the code the customer entered in the inline
/// challenge step (3-D Secure style).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub code: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Accepted, outcome not known yet.
    Processing,
    /// The customer must enter a challenge code (see [`PaymentView::action`]).
    RequiresAction,
    /// Charged. The portal is told through the outbox; see `portal_notified`.
    Succeeded,
    /// Refused by the issuer; see `decline_code`. Nothing was charged; the customer may retry
    /// with other card data (a new idempotency key).
    Declined,
    /// A transient processing error; nothing was charged. Retrying with the same idempotency
    /// key and body tries again and can never charge twice.
    Failed,
}

impl PaymentState {
    pub const ALL: [PaymentState; 5] = [
        PaymentState::Processing,
        PaymentState::RequiresAction,
        PaymentState::Succeeded,
        PaymentState::Declined,
        PaymentState::Failed,
    ];

    /// The wire name (equal to the serde name; a test keeps them in step).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Processing => "processing",
            PaymentState::RequiresAction => "requires_action",
            PaymentState::Succeeded => "succeeded",
            PaymentState::Declined => "declined",
            PaymentState::Failed => "failed",
        }
    }

    /// Looks up a wire name; for clients that read JSON without serde (the widget's wasm).
    pub fn from_code(code: &str) -> Option<PaymentState> {
        PaymentState::ALL.into_iter().find(|s| s.as_str() == code)
    }

    pub fn is_final(self) -> bool {
        matches!(self, PaymentState::Succeeded | PaymentState::Declined)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineCode {
    GenericDecline,
    InsufficientFunds,
    ExpiredCard,
    IncorrectCvc,
    ProcessingError,
    ChallengeFailed,
}

impl DeclineCode {
    pub const ALL: [DeclineCode; 6] = [
        DeclineCode::GenericDecline,
        DeclineCode::InsufficientFunds,
        DeclineCode::ExpiredCard,
        DeclineCode::IncorrectCvc,
        DeclineCode::ProcessingError,
        DeclineCode::ChallengeFailed,
    ];

    pub fn from_code(code: &str) -> Option<DeclineCode> {
        DeclineCode::ALL.into_iter().find(|d| d.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::GenericDecline => "generic_decline",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExpiredCard => "expired_card",
            DeclineCode::IncorrectCvc => "incorrect_cvc",
            DeclineCode::ProcessingError => "processing_error",
            DeclineCode::ChallengeFailed => "challenge_failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Show a code entry inside the widget; the iframe cannot open popups.
    Challenge {
        /// How many digits/characters the code has (for the input's size and validation).
        code_length: u8,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    /// [`crate::card::Brand::code`], or "unknown".
    pub brand: String,
    pub last4: String,
}

/// The state of one payment attempt, as every successful call answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    /// The attempt's id, for the challenge and status calls.
    pub id: String,
    pub state: PaymentState,
    /// Set when `state` is `declined` or `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<DeclineCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<NextAction>,
    /// True once the portal has accepted `sale.paysystem.pay.payment` (or `.pay.invoice`).
    pub portal_notified: bool,
    /// Canonical decimal text of the amount charged (or to be charged).
    pub amount: String,
    pub currency: String,
    pub card: CardSummary,
}

/// Every error code the API answers. The widget has a translated message for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // The request itself (400, 413, 415, 422).
    InvalidJson,
    BodyTooLarge,
    UnsupportedMediaType,
    MissingIdempotencyKey,
    InvalidIdempotencyKey,
    InvalidPaymentId,
    InvalidPaysystemId,
    InvalidAmount,
    UnknownCurrency,
    InvalidCardNumber,
    InvalidExpiry,
    CardExpired,
    InvalidCvc,
    InvalidHolder,
    InvalidChallengeCode,
    // Checked against the portal and the store (404, 409, 422).
    NotFound,
    PaymentNotFound,
    AmountMismatch,
    CurrencyMismatch,
    AlreadyPaid,
    PaymentInProgress,
    IdempotencyKeyReused,
    InvalidState,
    LiveModeUnavailable,
    PaysystemNotConfigured,
    // Transient (429, 502, 503, 504): safe to retry with the same idempotency key.
    RateLimited,
    PortalUnavailable,
    Timeout,
    Overloaded,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 30] = [
        ErrorCode::InvalidJson,
        ErrorCode::BodyTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::MissingIdempotencyKey,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::InvalidPaymentId,
        ErrorCode::InvalidPaysystemId,
        ErrorCode::InvalidAmount,
        ErrorCode::UnknownCurrency,
        ErrorCode::InvalidCardNumber,
        ErrorCode::InvalidExpiry,
        ErrorCode::CardExpired,
        ErrorCode::InvalidCvc,
        ErrorCode::InvalidHolder,
        ErrorCode::InvalidChallengeCode,
        ErrorCode::NotFound,
        ErrorCode::PaymentNotFound,
        ErrorCode::AmountMismatch,
        ErrorCode::CurrencyMismatch,
        ErrorCode::AlreadyPaid,
        ErrorCode::PaymentInProgress,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::InvalidState,
        ErrorCode::LiveModeUnavailable,
        ErrorCode::PaysystemNotConfigured,
        ErrorCode::RateLimited,
        ErrorCode::PortalUnavailable,
        ErrorCode::Timeout,
        ErrorCode::Overloaded,
        ErrorCode::Internal,
    ];

    /// The wire name (equal to the serde name; a test keeps them in step).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MissingIdempotencyKey => "missing_idempotency_key",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
            ErrorCode::InvalidPaymentId => "invalid_payment_id",
            ErrorCode::InvalidPaysystemId => "invalid_paysystem_id",
            ErrorCode::InvalidAmount => "invalid_amount",
            ErrorCode::UnknownCurrency => "unknown_currency",
            ErrorCode::InvalidCardNumber => "invalid_card_number",
            ErrorCode::InvalidExpiry => "invalid_expiry",
            ErrorCode::CardExpired => "card_expired",
            ErrorCode::InvalidCvc => "invalid_cvc",
            ErrorCode::InvalidHolder => "invalid_holder",
            ErrorCode::InvalidChallengeCode => "invalid_challenge_code",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PaymentNotFound => "payment_not_found",
            ErrorCode::AmountMismatch => "amount_mismatch",
            ErrorCode::CurrencyMismatch => "currency_mismatch",
            ErrorCode::AlreadyPaid => "already_paid",
            ErrorCode::PaymentInProgress => "payment_in_progress",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::LiveModeUnavailable => "live_mode_unavailable",
            ErrorCode::PaysystemNotConfigured => "paysystem_not_configured",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PortalUnavailable => "portal_unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::Internal => "internal",
        }
    }

    /// Looks up a wire name; for clients that read JSON without serde (the widget's wasm).
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// Errors after which the same request, with the same idempotency key, may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::PortalUnavailable
                | ErrorCode::Timeout
                | ErrorCode::Overloaded
                | ErrorCode::Internal
                | ErrorCode::PaymentInProgress
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// English, for developers and logs; customers see the widget's translation of `code`.
    pub message: String,
    /// The request field at fault, as a JSON path ("card.number"), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let view = PaymentView {
            id: "pa_1".into(),
            state: PaymentState::RequiresAction,
            decline_code: None,
            action: Some(NextAction::Challenge { code_length: 3 }),
            portal_notified: false,
            amount: "1250.50".into(),
            currency: "RUB".into(),
            card: CardSummary {
                brand: "visa".into(),
                last4: "3184".into(),
            },
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["state"], "requires_action");
        assert_eq!(json["action"]["type"], "challenge");
        assert!(json.get("decline_code").is_none());
        let err = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::AmountMismatch,
                message: "m".into(),
                field: Some("amount".into()),
            },
        };
        assert_eq!(
            serde_json::to_value(&err).unwrap()["error"]["code"],
            "amount_mismatch"
        );
    }

    #[test]
    fn confirm_request_is_strict() {
        let ok = r#"{"payment_id":"247","paysystem_id":"11","amount":"3000","currency":"RUB",
            "card":{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"}}"#;
        assert!(serde_json::from_str::<ConfirmRequest>(ok).is_ok());
        let extra = ok.replace("\"currency\"", "\"sneaky\":1,\"currency\"");
        assert!(serde_json::from_str::<ConfirmRequest>(&extra).is_err());
    }

    #[test]
    fn card_debug_hides_secrets() {
        let card = CardInput {
            number: "4242424242424242".into(),
            exp_month: 1,
            exp_year: 2030,
            cvc: "987".into(),
            holder: Some("IVAN".into()),
        };
        let text = format!("{card:?}");
        assert!(
            !text.contains("4242424242424242") && !text.contains("987") && !text.contains("IVAN")
        );
        assert!(text.contains("4242"));
    }

    #[test]
    fn wire_names_match_serde() {
        let name = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for s in PaymentState::ALL {
            assert_eq!(name(serde_json::to_value(s).unwrap()), s.as_str());
            assert_eq!(PaymentState::from_code(s.as_str()), Some(s));
        }
        for d in DeclineCode::ALL {
            assert_eq!(name(serde_json::to_value(d).unwrap()), d.as_str());
            assert_eq!(DeclineCode::from_code(d.as_str()), Some(d));
        }
        for c in ErrorCode::ALL {
            assert_eq!(name(serde_json::to_value(c).unwrap()), c.as_str());
            assert_eq!(ErrorCode::from_code(c.as_str()), Some(c));
        }
        assert_eq!(ErrorCode::from_code("nope"), None);
    }

    #[test]
    fn idempotency_keys() {
        assert!(valid_idempotency_key("0123456789abcdef0123456789abcdef"));
        assert!(!valid_idempotency_key("short"));
        assert!(!valid_idempotency_key("0123456789abcdef 0123456789abcdef"));
    }
}
