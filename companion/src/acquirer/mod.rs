//! Card acquiring behind a trait, so the payment flow never knows which processor it talks to:
//! [`TestAcquirer`] (the README's test cards, `b24pay_protocol::test_cards`) and any live
//! processor implement [`Acquirer`].
//!
//! # The rules an implementation keeps
//!
//! 1. **Two steps.** [`Acquirer::open`] creates the charge at the acquirer without moving money
//!    and returns the acquirer's reference for it (Stripe: the PaymentIntent id). The payment
//!    flow records that reference durably *before* it calls [`Acquirer::confirm`], which is the
//!    only call that may move money. So an attempt with no recorded reference has provably moved
//!    no money, and every later question about it is asked by reference, never by creating
//!    another charge.
//! 2. **Idempotency.** Every mutating call carries a key derived from the attempt id and the
//!    step ([`step_key`]); the same call with the same key never moves money twice, whether
//!    the first one answered or not.
//! 3. **An error is not a "no".** A timeout or an [`AcquirerError::Unavailable`] from `confirm`,
//!    `resume` or `cancel` means the money may or may not have moved. The flow then marks the
//!    attempt `unknown` and asks [`Acquirer::status`] later; it never charges the payment again
//!    until `status` gives a final answer. Likewise [`ChargeStatus::NotFound`] ("the acquirer
//!    has no record of this reference") is not [`ChargeStatus::NotCharged`].
//! 4. **`NotCharged` is a promise.** `status` answers `NotCharged` only when no money moved and
//!    none can move any more (the charge was cancelled, or failed for good). A charge that is
//!    still open or waiting for the customer is `Pending` / `ActionRequired`; the flow cancels it
//!    with [`Acquirer::cancel`] before it treats it as not charged, so a late `confirm` from a
//!    stalled process cannot move money behind its back.
//! 5. **Card data in memory only.** The [`Card`] lives for one request; an implementation may
//!    send it to its processor, and never logs or stores it.

pub mod stripe;
mod test_acquirer;

pub use stripe::StripeAcquirer;
pub use test_acquirer::TestAcquirer;

use async_trait::async_trait;
use b24pay_protocol::api::DeclineCode;
use b24pay_protocol::card::Brand;
use b24pay_protocol::ids::{AttemptId, PaySystemId, PaymentId};
use b24pay_protocol::Money;

b24pay_protocol::wire_enum! {
    /// Which acquirer charges an attempt (stored with it, shown in the admin listings).
    pub enum AcquirerKind {
        /// The built-in test acquirer (TEST mode): no money moves.
        Test = "test",
        /// Stripe (LIVE mode).
        Stripe = "stripe",
    }
}

/// The idempotency key of one step of one attempt (`pa_…:open-1`, `pa_…:confirm-1`, …).
pub fn step_key(attempt_id: &str, step: &str) -> String {
    format!("{attempt_id}:{step}")
}

/// A card that passed the server's own checks. Lives in memory for one request only: the number
/// and CVC are never stored or logged (`Debug` masks them).
#[derive(Clone)]
pub struct Card {
    pub number: String,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: String,
    pub holder: Option<String>,
    pub brand: Option<Brand>,
}

impl Card {
    pub fn last4(&self) -> &str {
        &self.number[self.number.len().saturating_sub(4)..]
    }
    pub fn brand_code(&self) -> &'static str {
        self.brand.map_or("unknown", Brand::code)
    }
    /// What may be shown and sent to the portal (`PS_CARD_NUMBER`).
    pub fn masked(&self) -> String {
        b24pay_protocol::card::mask(&self.number)
    }
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("number", &self.masked())
            .field("brand", &self.brand_code())
            .finish_non_exhaustive()
    }
}

/// Whose payment a charge is for; acquirers attach it to the charge (Stripe: `metadata`) so
/// every charge can be traced back to its portal payment from the acquirer's side too.
#[derive(Clone, Copy, Debug)]
pub struct ChargeMetadata<'a> {
    /// The portal's origin (or member id), e.g. `https://shop.bitrix24.ru`.
    pub portal: &'a str,
    pub paysystem_id: PaySystemId,
    pub payment_id: PaymentId,
    pub attempt_id: &'a AttemptId,
}

impl ChargeMetadata<'_> {
    /// `paysystem_id/payment_id`, the merchant's reference for this charge.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.paysystem_id, self.payment_id)
    }
}

/// One charge. `metadata.attempt_id` and `round` are what every idempotency key derives from.
#[derive(Clone, Copy, Debug)]
pub struct ChargeRequest<'a> {
    pub amount: Money,
    pub card: &'a Card,
    pub metadata: ChargeMetadata<'a>,
    /// Which try of the attempt this is (1, 2, …): an attempt that failed transiently (nothing
    /// charged) may be tried again with the same request, as a new charge at the acquirer.
    /// Steps are keyed `open-{round}`, `confirm-{round}`.
    pub round: u32,
}

/// What the customer did about a [`CustomerAction`].
#[derive(Clone, Copy, Debug)]
pub enum ActionResult<'a> {
    /// The code typed into the inline challenge.
    Code(&'a str),
    /// The widget says the customer finished the acquirer's own step (Stripe.js, a 3-D Secure
    /// page); the acquirer checks what really happened.
    Completed,
}

/// The customer's answer to an action, for the charge opened as `reference`.
#[derive(Clone, Copy, Debug)]
pub struct ResumeRequest<'a> {
    pub reference: &'a str,
    pub result: ActionResult<'a>,
    pub amount: Money,
    pub last4: &'a str,
    pub metadata: ChargeMetadata<'a>,
    /// Which answer this is for the attempt (1, 2, …): part of the step's idempotency key
    /// (`resume-{round}`), so a second code is a new call and a repeated one is not.
    pub round: u32,
}

/// What the customer must do before the acquirer decides. Rendered inside the widget's frame:
/// the portal's iframe cannot open popups.
///
/// The store keeps an action as its JSON, which never holds a secret: a Stripe.js action is
/// stored without its client secret (`serde` skips it), and the flow asks [`Acquirer::action`]
/// for it again when it shows a stored action to the customer.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerAction {
    /// Type a code into the widget (the test acquirer's 3-D Secure stand-in).
    Code { code_length: u8 },
    /// Let Stripe.js handle the PaymentIntent's next action in the frame.
    StripeJs {
        /// The PaymentIntent's client secret, as the acquirer just gave it; `None` once read
        /// back from the store.
        #[serde(skip_serializing, default)]
        client_secret: Option<String>,
        publishable_key: String,
        js_url: String,
    },
    /// Show this acquirer page (3-D Secure) in a frame inside the widget.
    Redirect { url: String },
}

impl CustomerAction {
    /// Whether the customer's answer is a code typed into the widget (the challenge endpoint),
    /// rather than a step the acquirer runs itself (the resume endpoint).
    pub fn takes_code(&self) -> bool {
        matches!(self, CustomerAction::Code { .. })
    }

    /// False for an action read back from the store without the secret the customer needs.
    pub fn is_complete(&self) -> bool {
        !matches!(
            self,
            CustomerAction::StripeJs {
                client_secret: None,
                ..
            }
        )
    }
}

impl std::fmt::Debug for CustomerAction {
    // Never print a client secret, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomerAction::Code { code_length } => f
                .debug_struct("Code")
                .field("code_length", code_length)
                .finish(),
            CustomerAction::StripeJs {
                client_secret,
                publishable_key,
                js_url,
            } => f
                .debug_struct("StripeJs")
                .field("client_secret", &client_secret.as_ref().map(|_| "***"))
                .field("publishable_key", publishable_key)
                .field("js_url", js_url)
                .finish(),
            CustomerAction::Redirect { .. } => f.write_str("Redirect { .. }"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Money moved. `transaction_id` goes to the portal as `PS_INVOICE_ID`.
    Approved {
        transaction_id: String,
    },
    Declined(DeclineCode),
    /// A transient processing error: provably nothing was charged; trying again is safe.
    Failed,
    /// The customer must act first.
    ActionRequired(CustomerAction),
    /// The acquirer has not decided yet (Stripe's `processing`): ask [`Acquirer::status`] later.
    Pending,
}

/// What the acquirer's own records say about a charge, by reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeStatus {
    Approved {
        transaction_id: String,
    },
    Declined(DeclineCode),
    /// No money moved and none can move any more (cancelled, or failed for good).
    NotCharged,
    /// Waiting for the customer.
    ActionRequired,
    /// Opened and not decided yet; a `confirm` may still be on its way.
    Pending,
    /// The acquirer has no record of this reference. Not "not charged": keep asking, and let an
    /// operator decide when it stays so.
    NotFound,
}

impl ChargeStatus {
    /// True when the answer will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ChargeStatus::Approved { .. } | ChargeStatus::Declined(_) | ChargeStatus::NotCharged
        )
    }
}

/// A refund of (part of) an approved charge.
#[derive(Clone, Copy, Debug)]
pub struct RefundRequest<'a> {
    /// The refund's own idempotency key (one per refund the operator asked for).
    pub idempotency_key: &'a str,
    pub reference: &'a str,
    pub transaction_id: &'a str,
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded {
        refund_id: String,
    },
    /// Accepted; the acquirer settles it later.
    Pending {
        refund_id: String,
    },
    /// Refused for good (already refunded, more than was charged, …).
    Refused(String),
}

/// A refund as the acquirer's records have it ([`Acquirer::refunds`]), including ones made
/// outside b24pay (Stripe's Dashboard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcquirerRefund {
    pub refund_id: String,
    pub amount: Money,
    /// The idempotency key b24pay made it with, when b24pay made it.
    pub key: Option<String>,
    /// Where it stands: `Refunded`, `Pending`, or `Refused` for one that failed.
    pub outcome: RefundOutcome,
}

#[derive(Debug, thiserror::Error)]
pub enum AcquirerError {
    /// The acquirer could not be reached or did not answer: the call may or may not have taken
    /// effect. Retrying with the same idempotency key finds out without charging twice.
    #[error("acquirer unavailable: {0}")]
    Unavailable(String),
    /// The acquirer refused the request itself (credentials, parameters): it did not act.
    #[error("acquirer refused the request: {0}")]
    Refused(String),
    /// The acquirer refused the card before any charge existed (Stripe checks the card when
    /// `open` creates its PaymentMethod): nothing charged, and the customer hears why.
    #[error("the card was declined before a charge existed: {0}")]
    Declined(DeclineCode),
}

#[async_trait]
pub trait Acquirer: Send + Sync + 'static {
    fn kind(&self) -> AcquirerKind;

    /// Creates the charge without moving money; returns the acquirer's reference. Idempotent on
    /// `step_key(attempt, "open-{round}")`.
    async fn open(&self, request: &ChargeRequest<'_>) -> Result<String, AcquirerError>;

    /// Asks the acquirer to move money for an opened charge. Idempotent on
    /// `step_key(attempt, "confirm-{round}")`.
    async fn confirm(
        &self,
        reference: &str,
        request: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError>;

    /// Continues a charge after the customer's action.
    async fn resume(&self, request: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError>;

    /// The acquirer's own answer about the charge opened as `reference`.
    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError>;

    /// Makes sure the charge can no longer move money, and answers its status afterwards (which
    /// is `Approved` when the money moved before the cancel arrived).
    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError>;

    async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError>;

    /// The action a charge waiting for the customer asks for now, secrets included (`None`
    /// when it waits for nothing). Asked when a stored action is shown again, since the store
    /// keeps no secrets; an acquirer whose actions carry none needs nothing here.
    async fn action(&self, reference: &str) -> Result<Option<CustomerAction>, AcquirerError> {
        let _ = reference;
        Ok(None)
    }

    /// Every refund of the charge opened as `reference`, as the acquirer's records have them
    /// (read when the acquirer reports a refund, e.g. Stripe's `charge.refunded`).
    async fn refunds(&self, reference: &str) -> Result<Vec<AcquirerRefund>, AcquirerError> {
        let _ = reference;
        Err(AcquirerError::Refused(format!(
            "the {} acquirer does not list refunds",
            self.kind()
        )))
    }
}

/// The live acquirer the configuration names (`[acquirer.stripe]`), built; `None` when none
/// is configured (LIVE pay systems are then refused with `live_mode_unavailable`).
pub fn configured_live(
    config: &crate::config::Config,
) -> anyhow::Result<Option<std::sync::Arc<dyn Acquirer>>> {
    match &config.stripe {
        Some(settings) => {
            let stripe =
                StripeAcquirer::new(settings).map_err(|e| anyhow::anyhow!("Stripe: {e}"))?;
            Ok(Some(std::sync::Arc::new(stripe)))
        }
        None => Ok(None),
    }
}

/// One line for `b24pay check-config`: which live acquirer LIVE pay systems charge through
/// (no secrets: the keys' mode, the API, where Stripe must send its webhooks).
pub fn describe_live(config: &crate::config::Config) -> String {
    match &config.stripe {
        Some(s) => format!(
            "live acquirer: stripe ({} keys, publishable key {}, API {}, Stripe.js {}, webhook endpoint {}webhooks/stripe); TEST pay systems use the built-in test acquirer",
            if s.livemode() { "LIVE" } else { "test-mode" },
            s.publishable_key,
            s.api_base,
            s.js_url,
            config.public_url,
        ),
        None => "live acquirer: none configured ([acquirer.stripe]); LIVE pay systems are refused (live_mode_unavailable), TEST ones use the built-in test acquirer".into(),
    }
}
