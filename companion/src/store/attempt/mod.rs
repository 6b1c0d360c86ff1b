//! One payment attempt as the store keeps it: its state, its lease, what the acquirer knows it
//! by, and how it ended. `payments/mod.rs` draws the state machine these types carry.

use super::StoreError;
use crate::acquirer::{AcquirerKind, CustomerAction};
use crate::portal::PortalKey;
use b24pay_protocol::api::{CardSummary, DeclineCode, NextAction, PaymentState, PaymentView};
use b24pay_protocol::ids::{AttemptId, InvoiceId, PaySystemId, PaymentId, Registry};
use b24pay_protocol::{Currency, Money};

mod outcome;
mod store;
pub use outcome::{InsertOutcome, Lease, Settlement};
pub use store::{AttemptFilter, AttemptStore, Due, LogEntry};

b24pay_protocol::wire_enum! {
    /// Where an attempt is in its life (see the diagram in `payments/mod.rs`).
    pub enum AttemptState {
        /// Leased to whoever is charging it right now.
        Processing = "processing",
        /// Waiting for the customer's action (a code, a 3-D Secure step).
        RequiresAction = "requires_action",
        /// The money may or may not have moved: only the acquirer's final answer settles it.
        Unknown = "unknown",
        Succeeded = "succeeded",
        Declined = "declined",
        /// Nothing was charged; the same request may be tried again.
        Failed = "failed",
    }
}

impl AttemptState {
    /// As the API shows it: `unknown` is still being worked on, for the customer.
    pub fn wire(self) -> PaymentState {
        match self {
            AttemptState::Processing | AttemptState::Unknown => PaymentState::Processing,
            AttemptState::RequiresAction => PaymentState::RequiresAction,
            AttemptState::Succeeded => PaymentState::Succeeded,
            AttemptState::Declined => PaymentState::Declined,
            AttemptState::Failed => PaymentState::Failed,
        }
    }

    /// States that keep every other attempt of the same payment out (the store's unique index
    /// `attempts_one_live_per_payment` lists the same).
    pub fn blocks_payment(self) -> bool {
        matches!(
            self,
            AttemptState::Processing
                | AttemptState::RequiresAction
                | AttemptState::Unknown
                | AttemptState::Succeeded
        )
    }
}

/// The row as stored (column names match the schema).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub payment_id: String,
    pub paysystem_id: String,
    pub state: String,
    pub decline_code: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub brand: String,
    pub last4: String,
    pub registry: String,
    pub order_id: Option<String>,
    pub transaction_id: Option<String>,
    pub acquirer_ref: Option<String>,
    pub action: Option<String>,
    pub challenge_key: Option<String>,
    pub challenge_fingerprint: Option<String>,
    pub portal_notified: bool,
    pub lease_until: i64,
    pub lease_epoch: i64,
    pub round: i64,
    pub action_rounds: i64,
    pub session: Option<String>,
    pub note: Option<String>,
    pub next_check_at: i64,
    pub unknown_since: Option<i64>,
    pub review_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub acquirer: String,
    pub portal: String,
}

/// The columns of [`AttemptRow`], in order, for `SELECT`s.
pub const ATTEMPT_COLUMNS: &str = "id, idempotency_key, fingerprint, payment_id, paysystem_id, \
    state, decline_code, amount_minor, currency, brand, last4, registry, order_id, \
    transaction_id, acquirer_ref, action, challenge_key, challenge_fingerprint, portal_notified, \
    lease_until, lease_epoch, round, action_rounds, session, note, next_check_at, unknown_since, \
    review_at, created_at, updated_at, acquirer, portal";

/// One payment attempt, typed.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub id: AttemptId,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub payment_id: PaymentId,
    pub paysystem_id: PaySystemId,
    pub state: AttemptState,
    pub decline_code: Option<DeclineCode>,
    pub amount: Money,
    pub brand: String,
    pub last4: String,
    pub registry: Registry,
    /// For legacy invoices: the invoice `pay.invoice` needs.
    pub order_id: Option<InvoiceId>,
    pub transaction_id: Option<String>,
    /// What the acquirer knows the charge by, recorded before any money may move.
    pub acquirer_ref: Option<String>,
    /// What the customer must do, while `requires_action`.
    pub action: Option<CustomerAction>,
    pub challenge_key: Option<String>,
    pub challenge_fingerprint: Option<String>,
    pub portal_notified: bool,
    pub lease_until: i64,
    /// The fencing token of the current (or last) lease.
    pub lease_epoch: i64,
    /// Charge tries of this attempt (a `failed` attempt may be tried again).
    pub round: u32,
    /// Answers to customer actions so far.
    pub action_rounds: u32,
    pub session: Option<String>,
    pub note: Option<String>,
    pub next_check_at: i64,
    pub unknown_since: Option<i64>,
    pub review_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub acquirer: AcquirerKind,
    /// Which portal the payment is on ([`crate::portal::PortalKey`]).
    pub portal: PortalKey,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;
    fn try_from(r: AttemptRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("attempt {}: {what}", r.id));
        let currency = Currency::parse(&r.currency).ok_or_else(|| corrupt("currency"))?;
        let action = match &r.action {
            Some(json) => Some(serde_json::from_str(json).map_err(|_| corrupt("action"))?),
            None => None,
        };
        Ok(Attempt {
            id: AttemptId::parse(&r.id).map_err(|_| corrupt("id"))?,
            payment_id: PaymentId::parse(&r.payment_id).map_err(|_| corrupt("payment_id"))?,
            paysystem_id: PaySystemId::parse(&r.paysystem_id)
                .map_err(|_| corrupt("paysystem_id"))?,
            state: AttemptState::from_code(&r.state).ok_or_else(|| corrupt("state"))?,
            decline_code: match &r.decline_code {
                Some(c) => Some(DeclineCode::from_code(c).ok_or_else(|| corrupt("decline_code"))?),
                None => None,
            },
            amount: Money {
                minor: u64::try_from(r.amount_minor).map_err(|_| corrupt("amount"))?,
                currency,
            },
            registry: Registry::from_code(&r.registry).ok_or_else(|| corrupt("registry"))?,
            order_id: match &r.order_id {
                Some(o) => Some(InvoiceId::parse(o).map_err(|_| corrupt("order_id"))?),
                None => None,
            },
            acquirer: AcquirerKind::from_code(&r.acquirer).ok_or_else(|| corrupt("acquirer"))?,
            round: u32::try_from(r.round).map_err(|_| corrupt("round"))?,
            action_rounds: u32::try_from(r.action_rounds).map_err(|_| corrupt("action_rounds"))?,
            action,
            idempotency_key: r.idempotency_key,
            fingerprint: r.fingerprint,
            brand: r.brand,
            last4: r.last4,
            transaction_id: r.transaction_id,
            acquirer_ref: r.acquirer_ref,
            challenge_key: r.challenge_key,
            challenge_fingerprint: r.challenge_fingerprint,
            portal_notified: r.portal_notified,
            lease_until: r.lease_until,
            lease_epoch: r.lease_epoch,
            session: r.session,
            note: r.note,
            next_check_at: r.next_check_at,
            unknown_since: r.unknown_since,
            review_at: r.review_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            portal: PortalKey::from_stored(r.portal),
        })
    }
}

impl Attempt {
    /// `paysystem_id/payment_id`: the merchant's reference for the attempt's charge.
    pub fn merchant_reference(&self) -> String {
        format!("{}/{}", self.paysystem_id, self.payment_id)
    }

    pub fn is_test(&self) -> bool {
        self.acquirer == AcquirerKind::Test
    }

    /// As the API answers it.
    pub fn view(&self) -> PaymentView {
        let state = self.state.wire();
        PaymentView {
            id: self.id.to_string(),
            state,
            decline_code: self.decline_code,
            action: match state {
                PaymentState::RequiresAction => self.action.as_ref().and_then(next_action),
                _ => None,
            },
            portal_notified: self.portal_notified,
            test_mode: self.is_test(),
            amount: self.amount.to_decimal_string(),
            currency: self.amount.currency.code().to_string(),
            card: CardSummary {
                brand: self.brand.clone(),
                last4: self.last4.clone(),
            },
        }
    }
}

/// An action as the widget gets it; `None` for one it cannot show (a Stripe.js action read
/// back from the store without its client secret, a redirect the wire has no form for yet).
fn next_action(action: &CustomerAction) -> Option<NextAction> {
    match action {
        CustomerAction::Code { code_length } => Some(NextAction::Challenge {
            code_length: *code_length,
        }),
        CustomerAction::StripeJs {
            client_secret: Some(client_secret),
            publishable_key,
            js_url,
        } => Some(NextAction::StripeJs {
            client_secret: client_secret.clone(),
            publishable_key: publishable_key.clone(),
            js_url: js_url.clone(),
        }),
        CustomerAction::StripeJs { .. } | CustomerAction::Redirect { .. } => None,
    }
}

/// What a new attempt starts with: `processing`, leased to its creator with epoch 1.
#[derive(Clone, Debug)]
pub struct NewAttempt {
    pub id: AttemptId,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub payment_id: PaymentId,
    pub paysystem_id: PaySystemId,
    pub amount: Money,
    pub brand: String,
    pub last4: String,
    pub registry: Registry,
    pub order_id: Option<InvoiceId>,
    pub acquirer: AcquirerKind,
    pub session: Option<String>,
    pub lease_until: i64,
    pub now: i64,
    pub portal: PortalKey,
}

impl NewAttempt {
    /// The attempt as it is once inserted.
    pub fn into_attempt(self) -> Attempt {
        Attempt {
            id: self.id,
            idempotency_key: self.idempotency_key,
            fingerprint: self.fingerprint,
            payment_id: self.payment_id,
            paysystem_id: self.paysystem_id,
            state: AttemptState::Processing,
            decline_code: None,
            amount: self.amount,
            brand: self.brand,
            last4: self.last4,
            registry: self.registry,
            order_id: self.order_id,
            transaction_id: None,
            acquirer_ref: None,
            action: None,
            challenge_key: None,
            challenge_fingerprint: None,
            portal_notified: false,
            lease_until: self.lease_until,
            lease_epoch: 1,
            round: 1,
            action_rounds: 0,
            session: self.session,
            note: None,
            next_check_at: 0,
            unknown_since: None,
            review_at: None,
            created_at: self.now,
            updated_at: self.now,
            acquirer: self.acquirer,
            portal: self.portal,
        }
    }
}
