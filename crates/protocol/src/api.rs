//! The companion's payment API (`/api/v1`), as both sides see it on the wire.
//!
//! ```text
//! POST /api/v1/payments                    Idempotency-Key: <key>   body: ConfirmRequest
//! POST /api/v1/payments/{id}/challenge     Idempotency-Key: <key>   body: ChallengeRequest
//! POST /api/v1/payments/{id}/resume        Idempotency-Key: <key>   body: ResumeRequest ({})
//! GET  /api/v1/payments/{id}
//! ```
//! Every success answers a [`PaymentView`]; every failure answers [`ErrorBody`] with an
//! [`ErrorCode`] the widget translates. The full contract is `companion/openapi.yaml`.

use serde::{Deserialize, Serialize};

/// Where the payment API lives: the companion nests [`path`]'s routes under it (an installed
/// portal's under `/p/{pid}` + this), and it is the widget's default API base.
pub const API_PREFIX: &str = "/api/v1";

/// The API's routes below [`API_PREFIX`], in axum's `{name}` syntax.
pub mod path {
    pub const PAYMENTS: &str = "/payments";
    pub const PAYMENT: &str = "/payments/{id}";
    pub const CHALLENGE: &str = "/payments/{id}/challenge";
    pub const RESUME: &str = "/payments/{id}/resume";

    /// `route` with its `{id}` filled in (the caller encodes `id` for a URL path).
    pub fn with_id(route: &str, id: &str) -> String {
        route.replacen("{id}", id, 1)
    }
}
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
    /// A random id the widget draws once per page load (16 to 64 characters like an idempotency
    /// key). A new attempt from the same page may replace that page's own unanswered challenge at
    /// once; one from another page waits for the challenge's short hold to run out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// `POST /api/v1/payments/{id}/challenge`: the code the customer entered in the inline
/// challenge step (3-D Secure style).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub code: String,
}

/// `POST /api/v1/payments/{id}/resume`: the customer finished the acquirer's own step of a
/// [`NextAction::StripeJs`] action (3-D Secure in Stripe.js). It carries nothing: the server asks
/// the acquirer what really happened. The body is an empty JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {}

crate::wire_enum! {
    pub enum PaymentState {
        /// Accepted, outcome not known yet.
        Processing = "processing",
        /// The customer must act (see [`PaymentView::action`]).
        RequiresAction = "requires_action",
        /// Charged. The portal is told through the outbox; see `portal_notified`.
        Succeeded = "succeeded",
        /// Refused by the issuer; see `decline_code`. Nothing was charged; the customer may retry
        /// with other card data (a new idempotency key).
        Declined = "declined",
        /// A transient processing error; nothing was charged. Retrying with the same idempotency
        /// key and body tries again and can never charge twice.
        Failed = "failed",
    }
}

crate::wire_enum! {
    pub enum DeclineCode {
        GenericDecline = "generic_decline",
        InsufficientFunds = "insufficient_funds",
        ExpiredCard = "expired_card",
        IncorrectCvc = "incorrect_cvc",
        ProcessingError = "processing_error",
        ChallengeFailed = "challenge_failed",
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Show a code entry inside the widget; the iframe cannot open popups.
    Challenge {
        /// How many digits/characters the code has (for the input's size and validation).
        code_length: u8,
    },
    /// Let Stripe.js finish the PaymentIntent's next action (3-D Secure) inside the widget's
    /// frame: load `js_url` (only now, never before), call
    /// `Stripe(publishable_key).handleNextAction({clientSecret: client_secret})` (the fake
    /// Stripe.js of localstripe: `confirmCardPayment(client_secret)`), then
    /// `POST /payments/{id}/resume` whatever it answered: the server asks Stripe.
    StripeJs {
        /// The PaymentIntent's client secret: lets this browser finish this one payment; never
        /// logged, never stored by the server.
        client_secret: String,
        /// Stripe's publishable key (public by design).
        publishable_key: String,
        /// Where Stripe.js is loaded from (`https://js.stripe.com/v3/`).
        js_url: String,
    },
}

impl core::fmt::Debug for NextAction {
    // Never print a client secret, even in a debug log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NextAction::Challenge { code_length } => f
                .debug_struct("Challenge")
                .field("code_length", code_length)
                .finish(),
            NextAction::StripeJs {
                publishable_key,
                js_url,
                ..
            } => f
                .debug_struct("StripeJs")
                .field("client_secret", &"***")
                .field("publishable_key", publishable_key)
                .field("js_url", js_url)
                .finish(),
        }
    }
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
    /// The pay system is in TEST mode: no real money moves.
    #[serde(default)]
    pub test_mode: bool,
    /// Canonical decimal text of the amount charged (or to be charged).
    pub amount: String,
    pub currency: String,
    pub card: CardSummary,
}

crate::wire_enum! {
    /// Every error code the API answers. The widget has a translated message for each.
    pub enum ErrorCode {
        // The request itself (400, 413, 415, 422).
        InvalidJson = "invalid_json",
        BodyTooLarge = "body_too_large",
        UnsupportedMediaType = "unsupported_media_type",
        MissingIdempotencyKey = "missing_idempotency_key",
        InvalidIdempotencyKey = "invalid_idempotency_key",
        InvalidPaymentId = "invalid_payment_id",
        InvalidPaysystemId = "invalid_paysystem_id",
        InvalidAmount = "invalid_amount",
        UnknownCurrency = "unknown_currency",
        InvalidCardNumber = "invalid_card_number",
        InvalidExpiry = "invalid_expiry",
        CardExpired = "card_expired",
        InvalidCvc = "invalid_cvc",
        InvalidHolder = "invalid_holder",
        InvalidChallengeCode = "invalid_challenge_code",
        // Checked against the portal and the store (404, 409, 422, 429).
        NotFound = "not_found",
        /// The portal has no such payment for this pay system, or its amount or currency differ
        /// from the request's: one answer for both, so nobody can probe which payments exist.
        PaymentUnavailable = "payment_unavailable",
        AlreadyPaid = "already_paid",
        PaymentInProgress = "payment_in_progress",
        IdempotencyKeyReused = "idempotency_key_reused",
        InvalidState = "invalid_state",
        LiveModeUnavailable = "live_mode_unavailable",
        /// The pay system is in TEST mode and this companion does not take test payments
        /// (`[payments] allow_test_mode`).
        TestModeNotAllowed = "test_mode_not_allowed",
        PaysystemNotConfigured = "paysystem_not_configured",
        /// Too many attempts from this client or for this payment (declines, codes); see
        /// `Retry-After`.
        TooManyAttempts = "too_many_attempts",
        // Transient (429, 502, 503, 504): safe to retry with the same idempotency key.
        RateLimited = "rate_limited",
        PortalUnavailable = "portal_unavailable",
        Timeout = "timeout",
        Overloaded = "overloaded",
        Internal = "internal",
    }
}

impl ErrorCode {
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
            test_mode: true,
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
                code: ErrorCode::PaymentUnavailable,
                message: "m".into(),
                field: Some("amount".into()),
            },
        };
        assert_eq!(
            serde_json::to_value(&err).unwrap()["error"]["code"],
            "payment_unavailable"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn stripe_js_action_on_the_wire() {
        let action = NextAction::StripeJs {
            client_secret: "pi_1_secret_2".into(),
            publishable_key: "pk_test_1".into(),
            js_url: "https://js.stripe.com/v3/".into(),
        };
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["type"], "stripe_js");
        assert_eq!(json["client_secret"], "pi_1_secret_2");
        assert_eq!(serde_json::from_value::<NextAction>(json).unwrap(), action);
        assert!(!format!("{action:?}").contains("secret_2"));
        assert!(serde_json::from_str::<ResumeRequest>("{}").is_ok());
        assert!(serde_json::from_str::<ResumeRequest>(r#"{"ok":true}"#).is_err());
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
