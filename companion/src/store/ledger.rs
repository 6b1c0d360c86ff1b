//! The built-in test acquirer's ledger: what a real acquirer remembers about each charge it
//! was asked for, kept in the companion's own store. No real money is behind any of it.

use super::StoreError;
use async_trait::async_trait;
use sqlx::FromRow;

use b24pay_protocol::{Currency, Money};

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

/// The ledger's columns, in the order both stores read them.
pub const LEDGER_COLUMNS: &str = "reference, merchant_reference, amount_minor, currency, last4, \
    status, transaction_id, decline_code, refunded_minor";

/// One ledger row as either store returns it, before its values are checked.
#[derive(sqlx::FromRow)]
pub struct LedgerRow {
    reference: String,
    merchant_reference: String,
    amount_minor: i64,
    currency: String,
    last4: String,
    status: String,
    transaction_id: Option<String>,
    decline_code: Option<String>,
    refunded_minor: i64,
}

impl TryFrom<LedgerRow> for LedgerEntry {
    type Error = StoreError;

    fn try_from(r: LedgerRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("ledger {}: {what}", r.reference));
        Ok(LedgerEntry {
            amount: Money {
                minor: u64::try_from(r.amount_minor).map_err(|_| corrupt("amount"))?,
                currency: Currency::parse(&r.currency).ok_or_else(|| corrupt("currency"))?,
            },
            status: LedgerStatus::from_code(&r.status).ok_or_else(|| corrupt("status"))?,
            refunded_minor: u64::try_from(r.refunded_minor).map_err(|_| corrupt("refunded"))?,
            merchant_reference: r.merchant_reference,
            last4: r.last4,
            transaction_id: r.transaction_id,
            decline_code: r.decline_code,
            reference: r.reference,
        })
    }
}

/// The entry in a row of [`LEDGER_COLUMNS`], from either store.
pub fn entry_of<'r, R: sqlx::Row>(row: &'r R) -> Result<LedgerEntry, StoreError>
where
    LedgerRow: sqlx::FromRow<'r, R>,
{
    LedgerEntry::try_from(LedgerRow::from_row(row)?)
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
