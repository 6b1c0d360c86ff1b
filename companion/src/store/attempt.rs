//! One payment attempt as the store keeps it: its state, its lease, what the acquirer knows it
//! by, and how it ended. `payments/mod.rs` draws the state machine these types carry.

use super::StoreError;
use crate::acquirer::{AcquirerKind, CustomerAction};
use crate::portal::PortalKey;
use async_trait::async_trait;
use b24pay_protocol::api::{CardSummary, DeclineCode, NextAction, PaymentState, PaymentView};
use b24pay_protocol::ids::{AttemptId, InvoiceId, PaySystemId, PaymentId, Registry};
use b24pay_protocol::{Currency, Money};

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

#[derive(Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted,
    /// Another attempt already holds this idempotency key.
    KeyTaken,
    /// Another attempt blocks this portal payment (see [`AttemptState::blocks_payment`]).
    PaymentBusy,
}

/// The answer to a lease request.
#[derive(Debug, PartialEq, Eq)]
pub enum Lease {
    /// Granted, with this fencing token: every write of the holder carries it.
    Granted { epoch: i64 },
    /// The attempt was not in a state that can be leased, or its lease has not run out.
    Refused,
    /// Another attempt for the same payment became live meanwhile.
    PaymentBusy,
}

/// How a lease holder leaves an attempt (the write releases the lease).
#[derive(Clone, Debug)]
pub enum Settlement {
    /// Charged: the portal call (`outbox_payload`) is queued in the same write.
    Succeeded {
        transaction_id: String,
        outbox_payload: String,
    },
    Declined(DeclineCode),
    /// Nothing charged; the same request may try again.
    Failed,
    RequiresAction(CustomerAction),
    /// Nobody knows yet whether money moved; ask the acquirer again at `next_check_at`.
    Unknown {
        next_check_at: i64,
    },
}

impl Settlement {
    pub fn state(&self) -> AttemptState {
        match self {
            Settlement::Succeeded { .. } => AttemptState::Succeeded,
            Settlement::Declined(_) => AttemptState::Declined,
            Settlement::Failed => AttemptState::Failed,
            Settlement::RequiresAction(_) => AttemptState::RequiresAction,
            Settlement::Unknown { .. } => AttemptState::Unknown,
        }
    }

    /// The decline code stored with it (`processing_error` for a failure).
    pub fn decline_code(&self) -> Option<DeclineCode> {
        match self {
            Settlement::Declined(code) => Some(*code),
            Settlement::Failed => Some(DeclineCode::ProcessingError),
            _ => None,
        }
    }

    pub fn action_json(&self) -> Option<String> {
        match self {
            Settlement::RequiresAction(a) => Some(serde_json::to_string(a).expect("serialisable")),
            _ => None,
        }
    }
}

/// Which attempts an operator lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFilter {
    /// Everything not settled: processing, requires_action, unknown.
    Unsettled,
    /// `unknown` attempts listed for manual review.
    Review,
    /// The newest attempts, whatever their state.
    Recent,
}

/// One line of an attempt's history.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LogEntry {
    pub at: i64,
    pub event: String,
    pub note: Option<String>,
}

/// Which unsettled attempts the reconciler takes up now.
#[derive(Clone, Copy, Debug)]
pub struct Due {
    pub now: i64,
    /// `requires_action` attempts last changed before this have waited long enough.
    pub action_hold_before: i64,
}

/// Attempts: their leases, settlements and history.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    async fn attempt(&self, id: &AttemptId) -> Result<Option<Attempt>, StoreError>;
    async fn attempt_by_key(&self, key: &str) -> Result<Option<Attempt>, StoreError>;
    /// The attempt whose current charge the acquirer knows by `reference` (a webhook names it).
    async fn attempt_by_reference(
        &self,
        acquirer: AcquirerKind,
        reference: &str,
    ) -> Result<Option<Attempt>, StoreError>;
    /// The charged (`succeeded`) attempts of a portal payment, of one pay system or any.
    async fn charged_attempts(
        &self,
        payment_id: PaymentId,
        paysystem_id: Option<PaySystemId>,
    ) -> Result<Vec<Attempt>, StoreError>;
    /// The attempt that blocks new ones for this payment, if any.
    async fn live_attempt(
        &self,
        portal: &PortalKey,
        paysystem_id: PaySystemId,
        payment_id: PaymentId,
    ) -> Result<Option<Attempt>, StoreError>;
    async fn insert_attempt(&self, new: &NewAttempt) -> Result<InsertOutcome, StoreError>;
    /// A `failed` attempt tried again with the same request: `processing`, its next round, a
    /// new lease.
    async fn retry_failed(
        &self,
        id: &AttemptId,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError>;
    /// Leases one unsettled attempt (processing, requires_action, unknown) whose lease has run
    /// out, keeping its state; the attempt as leased.
    async fn claim(
        &self,
        id: &AttemptId,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<Attempt>, StoreError>;
    /// Leases up to `limit` unsettled attempts that are due (see [`Due`]).
    async fn claim_due(
        &self,
        due: Due,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError>;
    /// `requires_action` → `processing` for the customer's answer, remembering the answer's
    /// idempotency key and fingerprint; refused while someone else holds the lease.
    async fn begin_action(
        &self,
        id: &AttemptId,
        key: &str,
        fingerprint: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError>;
    /// The holder of lease `epoch` records the acquirer's reference. False when the lease is
    /// no longer theirs.
    async fn set_reference(
        &self,
        id: &AttemptId,
        epoch: i64,
        reference: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The holder of lease `epoch` settles the attempt and releases the lease; for a success
    /// the outbox row is written in the same statement. False when the lease is no longer
    /// theirs (nothing is written then).
    async fn settle(
        &self,
        id: &AttemptId,
        epoch: i64,
        settlement: &Settlement,
        note: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The holder of lease `epoch` gives the attempt back unchanged (its state, action and
    /// hold stay as they were). False when the lease is no longer theirs.
    async fn release(&self, id: &AttemptId, epoch: i64) -> Result<bool, StoreError>;
    /// Lists an `unknown` attempt for manual review (once).
    async fn mark_review(&self, id: &AttemptId, now: i64) -> Result<bool, StoreError>;
    /// Declined attempts of one payment since `since`.
    async fn declines_since(
        &self,
        portal: &PortalKey,
        paysystem_id: PaySystemId,
        payment_id: PaymentId,
        since: i64,
    ) -> Result<i64, StoreError>;
    async fn list_attempts(
        &self,
        filter: AttemptFilter,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError>;
    /// An attempt's history, oldest first.
    async fn attempt_log(&self, id: &AttemptId) -> Result<Vec<LogEntry>, StoreError>;
}
