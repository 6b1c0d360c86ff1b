//! Refunds as the store keeps them: one row per refund of a charged attempt, whether an
//! operator asked for it (`b24pay refund`) or the acquirer reported one made elsewhere (Stripe's
//! Dashboard, learned from its `charge.refunded` event). A refund is recorded before the
//! acquirer is asked to move money back, like a charge's reference, and its state changes are
//! lines of the attempt's history.

use super::StoreError;
use async_trait::async_trait;
use b24pay_protocol::ids::AttemptId;
use b24pay_protocol::{Currency, Money};

b24pay_protocol::wire_enum! {
    pub enum RefundState {
        /// Recorded; the acquirer has not answered yet (or could not be reached): the same
        /// command again asks it under the same key.
        Requested = "requested",
        /// The acquirer accepted it and settles it later.
        Pending = "pending",
        /// The money went back.
        Succeeded = "succeeded",
        /// Refused by the acquirer: nothing went back, and it does not count against the charge.
        Failed = "failed",
    }
}

impl RefundState {
    /// Whether the refund takes (or may still take) money back.
    pub fn counts(self) -> bool {
        self != RefundState::Failed
    }

    pub fn is_final(self) -> bool {
        matches!(self, RefundState::Succeeded | RefundState::Failed)
    }
}

b24pay_protocol::wire_enum! {
    pub enum RefundOrigin {
        /// `b24pay refund`.
        Operator = "operator",
        /// Made at the acquirer outside b24pay, recorded from the acquirer's own records.
        Acquirer = "acquirer",
    }
}

/// The columns of [`RefundRow`], in order.
pub const REFUND_COLUMNS: &str = "id, attempt_id, idempotency_key, amount_minor, currency, \
    state, origin, acquirer_refund_id, note, created_at, updated_at";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RefundRow {
    pub id: String,
    pub attempt_id: String,
    pub idempotency_key: String,
    pub amount_minor: i64,
    pub currency: String,
    pub state: String,
    pub origin: String,
    pub acquirer_refund_id: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One refund, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    /// `rf_…`
    pub id: String,
    pub attempt_id: AttemptId,
    /// What the acquirer deduplicates it by.
    pub idempotency_key: String,
    pub amount: Money,
    pub state: RefundState,
    pub origin: RefundOrigin,
    pub acquirer_refund_id: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<RefundRow> for Refund {
    type Error = StoreError;
    fn try_from(r: RefundRow) -> Result<Refund, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("refund {}: {what}", r.id));
        Ok(Refund {
            attempt_id: AttemptId::parse(&r.attempt_id).map_err(|_| corrupt("attempt_id"))?,
            amount: Money {
                minor: u64::try_from(r.amount_minor).map_err(|_| corrupt("amount"))?,
                currency: Currency::parse(&r.currency).ok_or_else(|| corrupt("currency"))?,
            },
            state: RefundState::from_code(&r.state).ok_or_else(|| corrupt("state"))?,
            origin: RefundOrigin::from_code(&r.origin).ok_or_else(|| corrupt("origin"))?,
            id: r.id,
            idempotency_key: r.idempotency_key,
            acquirer_refund_id: r.acquirer_refund_id,
            note: r.note,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A refund about to be recorded.
#[derive(Clone, Debug)]
pub struct NewRefund {
    pub refund: Refund,
    /// Refused (`TooMuch`) when the refunds of the attempt that count, with this one, would
    /// exceed this many minor units; `None` records it whatever the sum (the acquirer already
    /// made it).
    pub cap_minor: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundInsert {
    Created(Refund),
    /// A refund with the same idempotency key (or the same acquirer refund id) exists: it,
    /// unchanged.
    Exists(Refund),
    /// It would refund more than was charged; `refunded_minor` already counts.
    TooMuch {
        refunded_minor: u64,
    },
}

/// How a refund moves on, as the acquirer answered.
#[derive(Clone, Debug)]
pub struct RefundUpdate {
    pub state: RefundState,
    pub acquirer_refund_id: Option<String>,
    pub note: String,
    /// For a refund that reached `succeeded`: the portal call that writes it into the paid
    /// payment's status, queued in the same transaction (once per refund).
    pub outbox_payload: Option<String>,
}

/// Refunds.
#[async_trait]
pub trait RefundStore: Send + Sync {
    /// Records a refund, unless its key (or acquirer refund id) is taken or it exceeds its cap.
    async fn refund_insert(&self, new: &NewRefund, now: i64) -> Result<RefundInsert, StoreError>;
    /// Moves a refund that is not final yet (`requested`, `pending`) on; false when it is final
    /// already (nothing written then).
    async fn refund_update(
        &self,
        id: &str,
        update: &RefundUpdate,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// An attempt's refunds, oldest first.
    async fn refunds_of(&self, attempt: &AttemptId) -> Result<Vec<Refund>, StoreError>;
}
