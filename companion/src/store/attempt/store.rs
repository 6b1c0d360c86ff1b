//! What the store answers and does for attempts (the trait both stores implement), and the
//! filters it takes.

use super::{Attempt, InsertOutcome, Lease, NewAttempt, Settlement};
use crate::acquirer::AcquirerKind;
use crate::portal::PortalKey;
use crate::store::StoreError;
use async_trait::async_trait;
use b24pay_protocol::ids::{AttemptId, PaySystemId, PaymentId};

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
