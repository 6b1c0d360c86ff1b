//! The built-in test acquirer's ledger: what a real acquirer remembers about each charge it
//! was asked for, kept in the companion's own store. No real money is behind any of it.

use super::StoreError;
use async_trait::async_trait;

use b24pay_protocol::Money;

b24pay_protocol::wire_enum! {
    pub enum LedgerStatus {
        /// Created by `open`; no money moved yet.
        Opened = "opened",
        Approved = "approved",
        Declined = "declined",
        /// A processing error: nothing charged.
        Failed = "failed",
        RequiresAction = "requires_action",
        /// Cancelled before it was decided: it can no longer be approved.
        Canceled = "canceled",
    }
}

/// One charge in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// What `open` returned.
    pub reference: String,
    /// `paysystem_id/payment_id`, so tests can count charges per portal payment.
    pub merchant_reference: String,
    pub amount: Money,
    pub last4: String,
    pub status: LedgerStatus,
    pub transaction_id: Option<String>,
    pub decline_code: Option<String>,
    pub refunded_minor: u64,
}

/// A refund of (part of) a ledger charge.
#[derive(Clone, Debug)]
pub struct LedgerRefund {
    pub idempotency_key: String,
    pub reference: String,
    pub refund_id: String,
    pub amount_minor: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundResult {
    /// Recorded (or found under the same key).
    Refunded { refund_id: String },
    /// The charge is not approved, or this would refund more than it was.
    Refused(String),
}

/// The test acquirer's records.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Records a charge under its reference; when the reference is already there, records
    /// nothing and returns the first entry.
    async fn ledger_insert(&self, entry: &LedgerEntry, now: i64)
        -> Result<LedgerEntry, StoreError>;
    /// Moves the charge `to.reference` from `from` to `to.status` (with `to`'s transaction id
    /// and decline code); returns the entry as it is afterwards, moved or not.
    async fn ledger_decide(
        &self,
        from: LedgerStatus,
        to: &LedgerEntry,
        now: i64,
    ) -> Result<Option<LedgerEntry>, StoreError>;
    async fn ledger_get(&self, reference: &str) -> Result<Option<LedgerEntry>, StoreError>;
    /// Approved charges for one `paysystem_id/payment_id`, or all of them.
    async fn ledger_count(&self, merchant_reference: Option<&str>) -> Result<i64, StoreError>;
    async fn ledger_refund(
        &self,
        refund: &LedgerRefund,
        now: i64,
    ) -> Result<RefundResult, StoreError>;
}
