//! The hot writes of one group commit, by kind: one statement per kind over a JSON array of the
//! jobs, in one transaction (see [`writer`](super::writer)).

use super::super::{InsertOutcome, LedgerEntry, NewAttempt, StoreError};
use super::ledger::{entry_of, LEDGER_RETURNING};
use super::writer::{DecideJob, Job, ReferenceJob, Reply, SettleJob};
use serde::Serialize;
use sqlx::{Connection, Row, SqliteConnection};
use std::collections::{HashMap, HashSet};

// `WHERE true` keeps SQLite from reading `ON CONFLICT` as part of the SELECT's join.
const INSERT_SQL: &str = "INSERT INTO attempts (id, idempotency_key, fingerprint, payment_id, \
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
const KEY_HOLDER_SQL: &str = "SELECT j.value ->> 'id', \
     (SELECT a.id FROM attempts a WHERE a.idempotency_key = j.value ->> 'key') \
     FROM json_each(?1) AS j";

/// The no-op update makes RETURNING yield the existing row on a repeated reference.
fn ledger_sql() -> String {
    format!(
        "INSERT INTO test_acquirer_ledger (reference, merchant_reference, amount_minor, \
         currency, last4, status, transaction_id, decline_code, created_at, updated_at) \
         SELECT j.value ->> 'reference', j.value ->> 'merchant_reference', \
         j.value ->> 'amount_minor', j.value ->> 'currency', j.value ->> 'last4', \
         j.value ->> 'status', j.value ->> 'transaction_id', j.value ->> 'decline_code', \
         j.value ->> 'now', j.value ->> 'now' \
         FROM json_each(?1) AS j WHERE true \
         ON CONFLICT (reference) DO UPDATE SET reference = excluded.reference \
         RETURNING {LEDGER_RETURNING}"
    )
}

/// Fenced by the lease epoch. For a success the `attempts_succeeded_enqueue` trigger writes the
/// outbox row, and `attempts_log_update` the history line, within this statement.
const DECIDE_SQL: &str = "UPDATE test_acquirer_ledger SET status = j.value ->> 'status', \
     transaction_id = coalesce(j.value ->> 'transaction_id', test_acquirer_ledger.transaction_id), \
     decline_code = j.value ->> 'decline_code', updated_at = j.value ->> 'now' \
     FROM json_each(?1) AS j \
     WHERE test_acquirer_ledger.reference = j.value ->> 'reference' \
     AND test_acquirer_ledger.status = j.value ->> 'from'";

fn decided_sql() -> String {
    format!(
        "SELECT {LEDGER_RETURNING} FROM test_acquirer_ledger WHERE reference IN \
         (SELECT j.value ->> 'reference' FROM json_each(?1) AS j)"
    )
}

const SETTLE_SQL: &str = "UPDATE attempts SET state = j.value ->> 'state', \
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

const REFERENCE_SQL: &str = "UPDATE attempts SET acquirer_ref = j.value ->> 'reference', \
     note = 'acquirer reference ' || (j.value ->> 'reference'), updated_at = j.value ->> 'now' \
     FROM json_each(?1) AS j \
     WHERE attempts.id = j.value ->> 'id' AND attempts.lease_epoch = j.value ->> 'epoch' \
     RETURNING attempts.id";

#[derive(Serialize)]
struct InsertRow<'a> {
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
    fn of(a: &'a NewAttempt) -> InsertRow<'a> {
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
struct LedgerRow<'a> {
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

#[derive(Serialize)]
struct DecideRow<'a> {
    reference: &'a str,
    from: &'static str,
    status: &'static str,
    transaction_id: Option<&'a str>,
    decline_code: Option<&'a str>,
    now: i64,
}

/// The columns a settlement sets; absent ones keep their value (or become NULL, see SQL).
#[derive(Serialize)]
struct SettleRow<'a> {
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
    fn of(j: &'a SettleJob) -> SettleRow<'a> {
        use super::super::Settlement;
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
struct ReferenceRow<'a> {
    id: &'a str,
    epoch: i64,
    reference: &'a str,
    now: i64,
}

/// The hot jobs of one transaction, by kind. At most one job per row for the updates and one
/// ledger entry per reference, so no statement touches a row twice.
#[derive(Default)]
pub(super) struct Batch {
    inserts: Vec<(NewAttempt, Reply<InsertOutcome>)>,
    ledger: Vec<(LedgerEntry, i64, Reply<LedgerEntry>)>,
    decides: Vec<(DecideJob, Reply<Option<LedgerEntry>>)>,
    settles: Vec<(SettleJob, Reply<bool>)>,
    references: Vec<(ReferenceJob, Reply<bool>)>,
    ledger_refs: HashSet<String>,
    touched: HashSet<String>,
}

#[derive(Default)]
struct Results {
    inserted: HashSet<String>,
    /// Attempt id → the attempt holding its idempotency key, for attempts not inserted.
    key_holders: HashMap<String, Option<String>>,
    ledger: HashMap<String, LedgerEntry>,
    decided: HashMap<String, LedgerEntry>,
    settled: HashSet<String>,
    referenced: HashSet<String>,
}

impl Batch {
    /// Takes `job`, or gives it back when the batch already has one for the same row.
    pub(super) fn add(&mut self, job: Job) -> Option<Job> {
        match job {
            // Rows are inserted in order, so a repeated key or payment in one statement
            // conflicts with the earlier row like with any committed one.
            Job::Insert(new, reply) => self.inserts.push((new, reply)),
            Job::Ledger(entry, now, reply) => {
                if !self.ledger_refs.insert(entry.reference.clone()) {
                    return Some(Job::Ledger(entry, now, reply));
                }
                self.ledger.push((entry, now, reply));
            }
            Job::Decide(j, reply) => {
                if !self.ledger_refs.insert(j.to.reference.clone()) {
                    return Some(Job::Decide(j, reply));
                }
                self.decides.push((j, reply));
            }
            Job::Settle(j, reply) => {
                if !self.touched.insert(j.id.to_string()) {
                    return Some(Job::Settle(j, reply));
                }
                self.settles.push((j, reply));
            }
            Job::Reference(j, reply) => {
                if !self.touched.insert(j.id.to_string()) {
                    return Some(Job::Reference(j, reply));
                }
                self.references.push((j, reply));
            }
            Job::Other(work) => return Some(Job::Other(work)),
        }
        None
    }

    fn len(&self) -> usize {
        self.inserts.len()
            + self.ledger.len()
            + self.decides.len()
            + self.settles.len()
            + self.references.len()
    }

    fn kinds(&self) -> usize {
        [
            self.inserts.len(),
            self.ledger.len(),
            self.decides.len(),
            self.settles.len(),
            self.references.len(),
        ]
        .iter()
        .filter(|n| **n > 0)
        .count()
    }

    /// Writes and commits the batch, then answers every job.
    pub(super) async fn write(self, conn: &mut SqliteConnection) {
        if self.len() == 0 {
            return;
        }
        let results = if self.kinds() == 1 {
            // One statement commits on its own.
            self.execute(conn).await
        } else {
            self.execute_in_transaction(conn).await
        };
        match results {
            Ok(results) => self.answer(results),
            Err(e) if self.len() == 1 => self.fail(e),
            Err(e) => {
                tracing::warn!(error = %e, jobs = self.len(), "batch write failed; writing its jobs one by one");
                for single in self.split() {
                    Box::pin(single.write(conn)).await;
                }
            }
        }
    }

    async fn execute_in_transaction(
        &self,
        conn: &mut SqliteConnection,
    ) -> Result<Results, StoreError> {
        let mut tx = conn.begin_with(super::BEGIN_WRITE).await?;
        match self.execute(&mut tx).await {
            Ok(results) => {
                tx.commit().await?;
                Ok(results)
            }
            Err(e) => {
                // Dropping `tx` would roll back too, but only on the connection's next use.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn execute(&self, conn: &mut SqliteConnection) -> Result<Results, StoreError> {
        let mut results = Results::default();
        if !self.inserts.is_empty() {
            self.execute_inserts(conn, &mut results).await?;
        }
        if !self.ledger.is_empty() {
            let rows: Vec<LedgerRow> = self
                .ledger
                .iter()
                .map(|(e, now, _)| LedgerRow {
                    reference: &e.reference,
                    merchant_reference: &e.merchant_reference,
                    amount_minor: e.amount.minor as i64,
                    currency: e.amount.currency.code(),
                    last4: &e.last4,
                    status: e.status.as_str(),
                    transaction_id: e.transaction_id.as_deref(),
                    decline_code: e.decline_code.as_deref(),
                    now: *now,
                })
                .collect();
            let json = serde_json::to_string(&rows).expect("serialisable");
            for row in sqlx::query(&ledger_sql())
                .bind(json)
                .fetch_all(&mut *conn)
                .await?
            {
                let entry = entry_of(&row)?;
                results.ledger.insert(entry.reference.clone(), entry);
            }
        }
        if !self.decides.is_empty() {
            self.execute_decides(conn, &mut results).await?;
        }
        if !self.settles.is_empty() {
            let rows: Vec<SettleRow> = self.settles.iter().map(|(j, _)| SettleRow::of(j)).collect();
            let json = serde_json::to_string(&rows).expect("serialisable");
            let settled: Vec<String> = sqlx::query_scalar(SETTLE_SQL)
                .bind(json)
                .fetch_all(&mut *conn)
                .await?;
            results.settled = settled.into_iter().collect();
        }
        if !self.references.is_empty() {
            let rows: Vec<ReferenceRow> = self
                .references
                .iter()
                .map(|(j, _)| ReferenceRow {
                    id: j.id.as_str(),
                    epoch: j.epoch,
                    reference: &j.reference,
                    now: j.now,
                })
                .collect();
            let json = serde_json::to_string(&rows).expect("serialisable");
            let done: Vec<String> = sqlx::query_scalar(REFERENCE_SQL)
                .bind(json)
                .fetch_all(&mut *conn)
                .await?;
            results.referenced = done.into_iter().collect();
        }
        Ok(results)
    }

    async fn execute_inserts(
        &self,
        conn: &mut SqliteConnection,
        results: &mut Results,
    ) -> Result<(), StoreError> {
        let rows: Vec<InsertRow> = self.inserts.iter().map(|(a, _)| InsertRow::of(a)).collect();
        let json = serde_json::to_string(&rows).expect("serialisable");
        let inserted: Vec<String> = sqlx::query_scalar(INSERT_SQL)
            .bind(&json)
            .fetch_all(&mut *conn)
            .await?;
        results.inserted = inserted.into_iter().collect();
        if results.inserted.len() < self.inserts.len() {
            for row in sqlx::query(KEY_HOLDER_SQL)
                .bind(&json)
                .fetch_all(&mut *conn)
                .await?
            {
                let id: String = row.try_get(0)?;
                let holder: Option<String> = row.try_get(1)?;
                results.key_holders.insert(id, holder);
            }
        }
        Ok(())
    }

    async fn execute_decides(
        &self,
        conn: &mut SqliteConnection,
        results: &mut Results,
    ) -> Result<(), StoreError> {
        let rows: Vec<DecideRow> = self
            .decides
            .iter()
            .map(|(j, _)| DecideRow {
                reference: &j.to.reference,
                from: j.from.as_str(),
                status: j.to.status.as_str(),
                transaction_id: j.to.transaction_id.as_deref(),
                decline_code: j.to.decline_code.as_deref(),
                now: j.now,
            })
            .collect();
        let json = serde_json::to_string(&rows).expect("serialisable");
        sqlx::query(DECIDE_SQL)
            .bind(&json)
            .execute(&mut *conn)
            .await?;
        for row in sqlx::query(&decided_sql())
            .bind(&json)
            .fetch_all(&mut *conn)
            .await?
        {
            let entry = entry_of(&row)?;
            results.decided.insert(entry.reference.clone(), entry);
        }
        Ok(())
    }

    fn answer(self, mut results: Results) {
        for (new, reply) in self.inserts {
            let outcome = if results.inserted.contains(new.id.as_str()) {
                InsertOutcome::Inserted
            } else {
                match results.key_holders.get(new.id.as_str()) {
                    Some(Some(_)) => InsertOutcome::KeyTaken,
                    _ => InsertOutcome::PaymentBusy,
                }
            };
            let _ = reply.send(Ok(outcome));
        }
        for (entry, _, reply) in self.ledger {
            let _ = reply.send(
                results
                    .ledger
                    .remove(&entry.reference)
                    .ok_or_else(|| StoreError::Corrupt("a ledger insert returned no row".into())),
            );
        }
        for (j, reply) in self.decides {
            let _ = reply.send(Ok(results.decided.remove(&j.to.reference)));
        }
        for (j, reply) in self.settles {
            let _ = reply.send(Ok(results.settled.contains(j.id.as_str())));
        }
        for (j, reply) in self.references {
            let _ = reply.send(Ok(results.referenced.contains(j.id.as_str())));
        }
    }

    fn fail(self, e: StoreError) {
        if let Some((_, reply)) = self.inserts.into_iter().next() {
            let _ = reply.send(Err(e));
        } else if let Some((_, _, reply)) = self.ledger.into_iter().next() {
            let _ = reply.send(Err(e));
        } else if let Some((_, reply)) = self.decides.into_iter().next() {
            let _ = reply.send(Err(e));
        } else if let Some((_, reply)) = self.settles.into_iter().next() {
            let _ = reply.send(Err(e));
        } else if let Some((_, reply)) = self.references.into_iter().next() {
            let _ = reply.send(Err(e));
        }
    }

    fn split(self) -> Vec<Batch> {
        let mut out = Vec::with_capacity(self.len());
        for job in self.inserts {
            out.push(Batch {
                inserts: vec![job],
                ..Batch::default()
            });
        }
        for job in self.ledger {
            out.push(Batch {
                ledger: vec![job],
                ..Batch::default()
            });
        }
        for job in self.decides {
            out.push(Batch {
                decides: vec![job],
                ..Batch::default()
            });
        }
        for job in self.settles {
            out.push(Batch {
                settles: vec![job],
                ..Batch::default()
            });
        }
        for job in self.references {
            out.push(Batch {
                references: vec![job],
                ..Batch::default()
            });
        }
        out
    }
}
