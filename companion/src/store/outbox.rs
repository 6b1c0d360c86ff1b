//! The outbox's rows as the store keeps them: one portal call owed per approved charge.

use super::StoreError;
use async_trait::async_trait;

b24pay_protocol::wire_enum! {
    pub enum OutboxState {
        /// Owed: the worker delivers it when due.
        Pending = "pending",
        /// The portal shows the payment paid.
        Done = "done",
        /// Refused for good (the payment or pay system is gone, access denied) for longer than
        /// `outbox.dead_after`: no more tries until an operator re-queues it.
        Dead = "dead",
    }
}

/// A claimed row, as the worker delivers it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub attempt_id: String,
    pub payload: String,
    /// Claims so far, including this one.
    pub tries: i64,
    /// Tries that failed in a way that proves the portal did not act on them.
    pub clean_failures: i64,
    /// The claim's fencing token.
    pub claim_epoch: i64,
    /// When the portal first refused it for good, if it did.
    pub refused_since: Option<i64>,
    /// The refund whose status this call writes into the paid payment; `None` for the
    /// charge's own call.
    pub refund_id: Option<String>,
}

impl OutboxItem {
    /// True when an earlier try may have reached the portal (a timeout, a dropped connection,
    /// a crash mid-call): the payment's PAID flag must be re-read before calling again.
    pub fn in_doubt(&self) -> bool {
        self.tries - 1 > self.clean_failures
    }
}

/// How one delivery try ended, as the worker writes it back (fenced by the claim).
#[derive(Clone, Debug)]
pub struct OutboxRetry {
    pub next_at: i64,
    /// The portal provably did not act on this try.
    pub clean: bool,
    pub error: String,
    /// Set when this try was refused for good (kept from the first such refusal).
    pub refused_since: Option<i64>,
    /// The portal answered `true` but the payment was not saved as paid.
    pub unsaved: bool,
}

/// A row as an operator lists it (`b24pay outbox list`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub attempt_id: String,
    pub state: String,
    pub tries: i64,
    pub unsaved: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub refused_since: Option<i64>,
    pub created_at: i64,
    pub done_at: Option<i64>,
    pub refund_id: Option<String>,
}

/// The outbox of portal calls.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Leases up to `limit` due outbox rows until `lease_until`.
    async fn outbox_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// Marks claimed rows (`(id, claim_epoch)`) delivered and their attempts
    /// `portal_notified`, in one statement.
    async fn outbox_done(&self, items: &[(i64, i64)], now: i64) -> Result<(), StoreError>;
    async fn outbox_retry(
        &self,
        id: i64,
        epoch: i64,
        retry: &OutboxRetry,
        now: i64,
    ) -> Result<bool, StoreError>;
    async fn outbox_dead(
        &self,
        id: i64,
        epoch: i64,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Rows still owed (`pending`).
    async fn outbox_depth(&self) -> Result<i64, StoreError>;
    async fn outbox_dead_count(&self) -> Result<i64, StoreError>;
    /// When the earliest pending row becomes due.
    async fn outbox_next_due(&self) -> Result<Option<i64>, StoreError>;
    async fn outbox_list(
        &self,
        state: Option<OutboxState>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Puts a dead (or pending) row back to `pending`, due now. False when there is none.
    async fn outbox_requeue(&self, id: i64, now: i64) -> Result<bool, StoreError>;
}
