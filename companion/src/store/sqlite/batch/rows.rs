//! The statements of a group commit, one per kind of job, and the JSON rows each reads
//! through `json_each` (one row per job).

use super::super::super::{LedgerEntry, NewAttempt};
use super::super::writer::{DecideJob, ReferenceJob, SettleJob};
use crate::store::ledger::LEDGER_COLUMNS;
use serde::Serialize;

// `WHERE true` keeps SQLite from reading `ON CONFLICT` as part of the SELECT's join.
pub(super) const INSERT_SQL: &str =
    "INSERT INTO attempts (id, idempotency_key, fingerprint, payment_id, \
     paysystem_id, state, amount_minor, currency, brand, last4, registry, order_id, session, \
     lease_until, lease_epoch, created_at, updated_at, acquirer, portal) \
     SELECT j.value ->> 'id', j.value ->> 'key', j.value ->> 'fingerprint', \
     j.value ->> 'payment_id', j.value ->> 'paysystem_id', 'processing', \
     j.value ->> 'amount_minor', j.value ->> 'currency', j.value ->> 'brand', \
     j.value ->> 'last4', j.value ->> 'registry', j.value ->> 'order_id', \
     j.value ->> 'session', j.value ->> 'lease_until', 1, j.value ->> 'now', j.value ->> 'now', \
     j.value ->> 'acquirer', j.value ->> 'portal' \
     FROM json_each(?1) AS j WHERE true \
     ON CONFLICT DO NOTHING \
     RETURNING id";

/// For attempts that were not inserted: which attempt holds the key (none: the payment is busy).
pub(super) const KEY_HOLDER_SQL: &str = "SELECT j.value ->> 'id', \
     (SELECT a.id FROM attempts a WHERE a.idempotency_key = j.value ->> 'key') \
     FROM json_each(?1) AS j";

/// The no-op update makes RETURNING yield the existing row on a repeated reference.
pub(super) fn ledger_sql() -> String {
    format!(
        "INSERT INTO test_acquirer_ledger (reference, merchant_reference, amount_minor, \
         currency, last4, status, transaction_id, decline_code, created_at, updated_at) \
         SELECT j.value ->> 'reference', j.value ->> 'merchant_reference', \
         j.value ->> 'amount_minor', j.value ->> 'currency', j.value ->> 'last4', \
         j.value ->> 'status', j.value ->> 'transaction_id', j.value ->> 'decline_code', \
         j.value ->> 'now', j.value ->> 'now' \
         FROM json_each(?1) AS j WHERE true \
         ON CONFLICT (reference) DO UPDATE SET reference = excluded.reference \
         RETURNING {LEDGER_COLUMNS}"
    )
}

/// Fenced by the lease epoch. For a success the `attempts_succeeded_enqueue` trigger writes the
/// outbox row, and `attempts_log_update` the history line, within this statement.
pub(super) const DECIDE_SQL: &str =
    "UPDATE test_acquirer_ledger SET status = j.value ->> 'status', \
     transaction_id = coalesce(j.value ->> 'transaction_id', test_acquirer_ledger.transaction_id), \
     decline_code = j.value ->> 'decline_code', updated_at = j.value ->> 'now' \
     FROM json_each(?1) AS j \
     WHERE test_acquirer_ledger.reference = j.value ->> 'reference' \
     AND test_acquirer_ledger.status = j.value ->> 'from'";

pub(super) fn decided_sql() -> String {
    format!(
        "SELECT {LEDGER_COLUMNS} FROM test_acquirer_ledger WHERE reference IN \
         (SELECT j.value ->> 'reference' FROM json_each(?1) AS j)"
    )
}

pub(super) const SETTLE_SQL: &str = "UPDATE attempts SET state = j.value ->> 'state', \
     decline_code = j.value ->> 'decline_code', \
     transaction_id = coalesce(j.value ->> 'transaction_id', attempts.transaction_id), \
     outbox_payload = coalesce(j.value ->> 'outbox_payload', attempts.outbox_payload), \
     action = coalesce(j.value ->> 'action', attempts.action), \
     note = j.value ->> 'note', \
     next_check_at = coalesce(j.value ->> 'next_check_at', 0), \
     unknown_since = CASE WHEN j.value ->> 'state' = 'unknown' \
         THEN coalesce(attempts.unknown_since, j.value ->> 'now') ELSE attempts.unknown_since END, \
     lease_until = 0, updated_at = j.value ->> 'now' \
     FROM json_each(?1) AS j \
     WHERE attempts.id = j.value ->> 'id' AND attempts.lease_epoch = j.value ->> 'epoch' \
     RETURNING attempts.id";

pub(super) const REFERENCE_SQL: &str =
    "UPDATE attempts SET acquirer_ref = j.value ->> 'reference', \
     note = 'acquirer reference ' || (j.value ->> 'reference'), updated_at = j.value ->> 'now' \
     FROM json_each(?1) AS j \
     WHERE attempts.id = j.value ->> 'id' AND attempts.lease_epoch = j.value ->> 'epoch' \
     RETURNING attempts.id";

#[derive(Serialize)]
pub(super) struct InsertRow<'a> {
    id: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    payment_id: String,
    paysystem_id: String,
    amount_minor: i64,
    currency: &'a str,
    brand: &'a str,
    last4: &'a str,
    registry: &'a str,
    order_id: Option<String>,
    session: Option<&'a str>,
    lease_until: i64,
    now: i64,
    acquirer: &'a str,
    portal: &'a str,
}

impl<'a> InsertRow<'a> {
    pub(super) fn of(a: &'a NewAttempt) -> InsertRow<'a> {
        InsertRow {
            id: a.id.as_str(),
            key: &a.idempotency_key,
            fingerprint: &a.fingerprint,
            payment_id: a.payment_id.to_string(),
            paysystem_id: a.paysystem_id.to_string(),
            amount_minor: a.amount.minor as i64,
            currency: a.amount.currency.code(),
            brand: &a.brand,
            last4: &a.last4,
            registry: a.registry.as_str(),
            order_id: a.order_id.map(|o| o.to_string()),
            session: a.session.as_deref(),
            lease_until: a.lease_until,
            now: a.now,
            acquirer: a.acquirer.as_str(),
            portal: a.portal.as_str(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct LedgerRow<'a> {
    reference: &'a str,
    merchant_reference: &'a str,
    amount_minor: i64,
    currency: &'a str,
    last4: &'a str,
    status: &'static str,
    transaction_id: Option<&'a str>,
    decline_code: Option<&'a str>,
    now: i64,
}

impl<'a> LedgerRow<'a> {
    pub(super) fn of(e: &'a LedgerEntry, now: i64) -> LedgerRow<'a> {
        LedgerRow {
            reference: &e.reference,
            merchant_reference: &e.merchant_reference,
            amount_minor: e.amount.minor as i64,
            currency: e.amount.currency.code(),
            last4: &e.last4,
            status: e.status.as_str(),
            transaction_id: e.transaction_id.as_deref(),
            decline_code: e.decline_code.as_deref(),
            now,
        }
    }
}

#[derive(Serialize)]
pub(super) struct DecideRow<'a> {
    reference: &'a str,
    from: &'static str,
    status: &'static str,
    transaction_id: Option<&'a str>,
    decline_code: Option<&'a str>,
    now: i64,
}

impl<'a> DecideRow<'a> {
    pub(super) fn of(j: &'a DecideJob) -> DecideRow<'a> {
        DecideRow {
            reference: &j.to.reference,
            from: j.from.as_str(),
            status: j.to.status.as_str(),
            transaction_id: j.to.transaction_id.as_deref(),
            decline_code: j.to.decline_code.as_deref(),
            now: j.now,
        }
    }
}

/// The columns a settlement sets; absent ones keep their value (or become NULL, see SQL).
#[derive(Serialize)]
pub(super) struct SettleRow<'a> {
    id: &'a str,
    epoch: i64,
    state: &'static str,
    now: i64,
    note: &'a str,
    decline_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbox_payload: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_check_at: Option<i64>,
}

impl<'a> SettleRow<'a> {
    pub(super) fn of(j: &'a SettleJob) -> SettleRow<'a> {
        use super::super::super::Settlement;
        let (transaction_id, outbox_payload) = match &j.settlement {
            Settlement::Succeeded {
                transaction_id,
                outbox_payload,
            } => (Some(transaction_id.as_str()), Some(outbox_payload.as_str())),
            _ => (None, None),
        };
        SettleRow {
            id: j.id.as_str(),
            epoch: j.epoch,
            state: j.settlement.state().as_str(),
            now: j.now,
            note: &j.note,
            decline_code: j.settlement.decline_code().map(|c| c.as_str()),
            transaction_id,
            outbox_payload,
            action: j.settlement.action_json(),
            next_check_at: match j.settlement {
                Settlement::Unknown { next_check_at } => Some(next_check_at),
                _ => None,
            },
        }
    }
}

#[derive(Serialize)]
pub(super) struct ReferenceRow<'a> {
    id: &'a str,
    epoch: i64,
    reference: &'a str,
    now: i64,
}

impl<'a> ReferenceRow<'a> {
    pub(super) fn of(j: &'a ReferenceJob) -> ReferenceRow<'a> {
        ReferenceRow {
            id: j.id.as_str(),
            epoch: j.epoch,
            reference: &j.reference,
            now: j.now,
        }
    }
}
