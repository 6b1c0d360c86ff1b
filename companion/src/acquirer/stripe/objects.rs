//! The Stripe API objects the adapter reads, parsed once at the edge. Only the fields the adapter
//! uses; unknown fields and unknown enum values are accepted (Stripe adds both without notice).

use serde::Deserialize;
use std::collections::HashMap;

/// The metadata keys every PaymentIntent carries, so a charge can be traced back to its portal
/// payment from Stripe's side (dashboard, webhooks) too.
pub mod meta {
    pub const PORTAL: &str = "portal";
    pub const PAYSYSTEM: &str = "paysystem_id";
    pub const PAYMENT: &str = "payment_id";
    pub const ATTEMPT: &str = "attempt_id";
    /// Which try of the attempt (a round is a new PaymentIntent).
    pub const ROUND: &str = "round";
    /// On refunds: the idempotency key the operator's refund was made with.
    pub const REFUND_KEY: &str = "refund_key";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Canceled,
    Succeeded,
    /// A status this adapter does not know: treated as undecided.
    #[serde(other)]
    Unknown,
}

impl IntentStatus {
    /// Stripe's own name, for idempotency keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            IntentStatus::RequiresPaymentMethod => "requires_payment_method",
            IntentStatus::RequiresConfirmation => "requires_confirmation",
            IntentStatus::RequiresAction => "requires_action",
            IntentStatus::Processing => "processing",
            IntentStatus::RequiresCapture => "requires_capture",
            IntentStatus::Canceled => "canceled",
            IntentStatus::Succeeded => "succeeded",
            IntentStatus::Unknown => "unknown",
        }
    }
}

/// Why the last confirmation failed (`last_payment_error`), or a card error's body.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PaymentError {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

#[derive(Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: IntentStatus,
    pub amount: u64,
    pub currency: String,
    /// Lets the customer's browser finish the next action; never logged.
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl PaymentIntent {
    pub fn attempt_id(&self) -> Option<&str> {
        self.metadata.get(meta::ATTEMPT).map(String::as_str)
    }
}

impl std::fmt::Debug for PaymentIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentIntent")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("last_payment_error", &self.last_payment_error)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct Charge {
    pub id: String,
    pub amount: u64,
    #[serde(default)]
    pub amount_refunded: u64,
    pub currency: String,
    #[serde(default)]
    pub refunded: bool,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: u64,
    /// Absent in old API versions: a refund was then final when created.
    #[serde(default)]
    pub status: Option<RefundStatus>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// Stripe's error body: `{"error": {...}}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: PaymentError,
}
