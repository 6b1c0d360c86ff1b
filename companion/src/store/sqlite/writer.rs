//! Group commit: every write goes to one task that owns SQLite's single writer connection. It
//! takes whatever jobs are queued, writes the hot ones (new attempts, test-acquirer charges,
//! charge outcomes) with one statement per kind over a JSON array of the jobs, commits once, and
//! only then answers each caller. Under load many payments share one transaction and a handful
//! of hand-offs to sqlx's connection thread, instead of one pool acquire, one round trip and
//! one commit per write; with a single job the batch is just that job's statement.
//!
//! A caller is answered only after its write is committed, so what it was told survives a crash
//! exactly as before. If a batch fails as a whole, its jobs are retried one by one so that each
//! caller gets its own answer (and one bad job cannot fail the others). Rare writes (leases,
//! challenges, the outbox, metadata) run one at a time between batches, each in its own
//! transaction, with their own SQL.

use super::super::{DeclineCode, InsertOutcome, LedgerCharge, NewAttempt, Outcome, StoreError};
use serde::Serialize;
use sqlx::{Connection, Row, SqliteConnection};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// At most this many jobs share one transaction.
const MAX_BATCH: usize = 256;

pub(super) type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;
type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Job {
    Insert(NewAttempt, Reply<InsertOutcome>),
    Charge(LedgerCharge, Reply<String>),
    Record {
        id: String,
        outcome: Outcome,
        now: i64,
        reply: Reply<bool>,
    },
    /// Anything else: runs alone, in its own transaction, and answers for itself.
    Other(Work),
}

/// The handle the store writes through; cheap to clone.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

fn stopped() -> StoreError {
    StoreError::WriterStopped
}

async fn answer<T>(rx: oneshot::Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
    rx.await.map_err(|_| stopped())?
}

impl Writer {
    /// Starts the writer task; it ends (closing the connection) when the last handle is dropped.
    pub(super) fn start(conn: SqliteConnection) -> Writer {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(conn, rx));
        Writer { jobs }
    }

    pub(super) async fn insert_attempt(
        &self,
        new: NewAttempt,
    ) -> Result<InsertOutcome, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Insert(new, tx))
            .map_err(|_| stopped())?;
        answer(rx).await
    }

    pub(super) async fn ledger_charge(&self, charge: LedgerCharge) -> Result<String, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Charge(charge, tx))
            .map_err(|_| stopped())?;
        answer(rx).await
    }

    pub(super) async fn record_outcome(
        &self,
        id: String,
        outcome: Outcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (reply, rx) = oneshot::channel();
        let job = Job::Record {
            id,
            outcome,
            now,
            reply,
        };
        self.jobs.send(job).map_err(|_| stopped())?;
        answer(rx).await
    }

    /// Runs `work` on the writer connection, alone and in autocommit mode.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            Box::pin(async move {
                let _ = tx.send(work(conn).await);
            })
        });
        self.jobs.send(Job::Other(work)).map_err(|_| stopped())?;
        answer(rx).await
    }
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut queue: Vec<Job> = Vec::new();
    loop {
        if queue.is_empty() && rx.recv_many(&mut queue, MAX_BATCH).await == 0 {
            break;
        }
        while queue.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => queue.push(job),
                Err(_) => break,
            }
        }
        let mut batch = Batch::default();
        let mut later = Vec::new();
        for job in queue.drain(..) {
            match job {
                Job::Other(work) => work(&mut conn).await,
                job => {
                    if let Some(job) = batch.add(job) {
                        later.push(job);
                    }
                }
            }
        }
        // Jobs that would touch the same row twice in one statement wait for the next batch.
        queue = later;
        batch.write(&mut conn).await;
    }
    let _ = conn.close().await;
}

#[derive(Serialize)]
struct InsertRow<'a> {
    id: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    payment_id: &'a str,
    paysystem_id: &'a str,
    amount_minor: i64,
    currency: &'a str,
    brand: &'a str,
    last4: &'a str,
    registry: &'a str,
    order_id: Option<&'a str>,
    lease_until: i64,
    now: i64,
    acquirer: &'a str,
}

#[derive(Serialize)]
struct ChargeRow<'a> {
    key: &'a str,
    transaction_id: &'a str,
    amount_minor: i64,
    currency: &'a str,
    last4: &'a str,
    reference: &'a str,
    now: i64,
}

/// The columns an outcome sets; absent ones keep their value.
#[derive(Serialize)]
struct RecordRow<'a> {
    id: &'a str,
    state: &'static str,
    now: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    decline_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbox_payload: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge_ref: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge_code_length: Option<u8>,
}

fn record_row<'a>(id: &'a str, outcome: &'a Outcome, now: i64) -> RecordRow<'a> {
    let mut row = RecordRow {
        id,
        state: "",
        now,
        decline_code: None,
        transaction_id: None,
        outbox_payload: None,
        challenge_ref: None,
        challenge_code_length: None,
    };
    match outcome {
        Outcome::Succeeded {
            transaction_id,
            outbox_payload,
        } => {
            row.state = "succeeded";
            row.transaction_id = Some(transaction_id);
            row.outbox_payload = Some(outbox_payload);
        }
        Outcome::Declined(code) => {
            row.state = "declined";
            row.decline_code = Some(code.as_str());
        }
        Outcome::Failed => {
            row.state = "failed";
            row.decline_code = Some(DeclineCode::ProcessingError.as_str());
        }
        Outcome::RequiresAction {
            reference,
            code_length,
        } => {
            row.state = "requires_action";
            row.challenge_ref = Some(reference);
            row.challenge_code_length = Some(*code_length);
        }
    }
    row
}

// `WHERE true` keeps SQLite from reading `ON CONFLICT` as part of the SELECT's join.
const INSERT_SQL: &str = "INSERT INTO attempts (id, idempotency_key, fingerprint, payment_id, \
     paysystem_id, state, amount_minor, currency, brand, last4, registry, order_id, lease_until, \
     created_at, updated_at, acquirer) \
     SELECT j.value ->> 'id', j.value ->> 'key', j.value ->> 'fingerprint', \
     j.value ->> 'payment_id', j.value ->> 'paysystem_id', 'processing', \
     j.value ->> 'amount_minor', j.value ->> 'currency', j.value ->> 'brand', \
     j.value ->> 'last4', j.value ->> 'registry', j.value ->> 'order_id', \
     j.value ->> 'lease_until', j.value ->> 'now', j.value ->> 'now', j.value ->> 'acquirer' \
     FROM json_each(?1) AS j WHERE true \
     ON CONFLICT DO NOTHING \
     RETURNING id";

/// For attempts that were not inserted: which attempt holds the key (none: the payment is busy).
const KEY_HOLDER_SQL: &str = "SELECT j.value ->> 'id', \
     (SELECT a.id FROM attempts a WHERE a.idempotency_key = j.value ->> 'key') \
     FROM json_each(?1) AS j";

// The no-op update makes RETURNING yield the existing row on a repeated key.
const CHARGE_SQL: &str = "INSERT INTO test_acquirer_charges (idempotency_key, transaction_id, \
     amount_minor, currency, last4, reference, created_at) \
     SELECT j.value ->> 'key', j.value ->> 'transaction_id', j.value ->> 'amount_minor', \
     j.value ->> 'currency', j.value ->> 'last4', j.value ->> 'reference', j.value ->> 'now' \
     FROM json_each(?1) AS j WHERE true \
     ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = excluded.idempotency_key \
     RETURNING idempotency_key, transaction_id";

// For a success the `attempts_succeeded_enqueue` trigger writes the outbox row in the same
// statement.
const RECORD_SQL: &str = "UPDATE attempts SET state = j.value ->> 'state', \
     decline_code = coalesce(j.value ->> 'decline_code', attempts.decline_code), \
     transaction_id = coalesce(j.value ->> 'transaction_id', attempts.transaction_id), \
     outbox_payload = coalesce(j.value ->> 'outbox_payload', attempts.outbox_payload), \
     challenge_ref = coalesce(j.value ->> 'challenge_ref', attempts.challenge_ref), \
     challenge_code_length = coalesce(j.value ->> 'challenge_code_length', \
         attempts.challenge_code_length), \
     lease_until = 0, updated_at = j.value ->> 'now' \
     FROM json_each(?1) AS j \
     WHERE attempts.id = j.value ->> 'id' AND attempts.state = 'processing' \
     RETURNING attempts.id";

/// The hot jobs of one transaction, by kind. At most one charge per key and one outcome per
/// attempt, so no upsert or update touches a row twice.
#[derive(Default)]
struct Batch {
    inserts: Vec<(NewAttempt, Reply<InsertOutcome>)>,
    charges: Vec<(LedgerCharge, Reply<String>)>,
    records: Vec<(String, Outcome, i64, Reply<bool>)>,
    charge_keys: HashSet<String>,
    record_ids: HashSet<String>,
}

impl Batch {
    /// Takes `job`, or gives it back when the batch already has one for the same row.
    fn add(&mut self, job: Job) -> Option<Job> {
        match job {
            // Rows are inserted in order, so a repeated key or payment in one statement
            // conflicts with the earlier row like with any committed one.
            Job::Insert(new, reply) => self.inserts.push((new, reply)),
            Job::Charge(charge, reply) => {
                if !self.charge_keys.insert(charge.idempotency_key.clone()) {
                    return Some(Job::Charge(charge, reply));
                }
                self.charges.push((charge, reply));
            }
            Job::Record {
                id,
                outcome,
                now,
                reply,
            } => {
                if !self.record_ids.insert(id.clone()) {
                    return Some(Job::Record {
                        id,
                        outcome,
                        now,
                        reply,
                    });
                }
                self.records.push((id, outcome, now, reply));
            }
            Job::Other(work) => return Some(Job::Other(work)),
        }
        None
    }

    fn len(&self) -> usize {
        self.inserts.len() + self.charges.len() + self.records.len()
    }

    /// Writes and commits the batch, then answers every job.
    async fn write(self, conn: &mut SqliteConnection) {
        if self.len() == 0 {
            return;
        }
        let kinds = [
            !self.inserts.is_empty(),
            !self.charges.is_empty(),
            !self.records.is_empty(),
        ]
        .iter()
        .filter(|k| **k)
        .count();
        let results = if kinds == 1 {
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
        let mut tx = conn.begin().await?;
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
            let rows: Vec<InsertRow> = self
                .inserts
                .iter()
                .map(|(a, _)| InsertRow {
                    id: &a.id,
                    key: &a.idempotency_key,
                    fingerprint: &a.fingerprint,
                    payment_id: &a.payment_id,
                    paysystem_id: &a.paysystem_id,
                    amount_minor: a.amount.minor as i64,
                    currency: a.amount.currency.code(),
                    brand: &a.brand,
                    last4: &a.last4,
                    registry: a.registry.as_str(),
                    order_id: a.order_id.as_deref(),
                    lease_until: a.lease_until,
                    now: a.now,
                    acquirer: &a.acquirer,
                })
                .collect();
            let json = serde_json::to_string(&rows).expect("serialisable");
            let inserted: Vec<String> = sqlx::query_scalar(INSERT_SQL)
                .bind(&json)
                .fetch_all(&mut *conn)
                .await?;
            results.inserted = inserted.into_iter().collect();
            if results.inserted.len() < self.inserts.len() {
                let holders = sqlx::query(KEY_HOLDER_SQL)
                    .bind(&json)
                    .fetch_all(&mut *conn)
                    .await?;
                for row in holders {
                    let id: String = row.try_get(0)?;
                    let holder: Option<String> = row.try_get(1)?;
                    results.key_holders.insert(id, holder);
                }
            }
        }
        if !self.charges.is_empty() {
            let rows: Vec<ChargeRow> = self
                .charges
                .iter()
                .map(|(c, _)| ChargeRow {
                    key: &c.idempotency_key,
                    transaction_id: &c.transaction_id,
                    amount_minor: c.amount.minor as i64,
                    currency: c.amount.currency.code(),
                    last4: &c.last4,
                    reference: &c.reference,
                    now: super::super::now_ms(),
                })
                .collect();
            let json = serde_json::to_string(&rows).expect("serialisable");
            for row in sqlx::query(CHARGE_SQL)
                .bind(json)
                .fetch_all(&mut *conn)
                .await?
            {
                results.charged.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        if !self.records.is_empty() {
            let rows: Vec<RecordRow> = self
                .records
                .iter()
                .map(|(id, outcome, now, _)| record_row(id, outcome, *now))
                .collect();
            let json = serde_json::to_string(&rows).expect("serialisable");
            let recorded: Vec<String> = sqlx::query_scalar(RECORD_SQL)
                .bind(json)
                .fetch_all(&mut *conn)
                .await?;
            results.recorded = recorded.into_iter().collect();
        }
        Ok(results)
    }

    fn answer(self, mut results: Results) {
        for (new, reply) in self.inserts {
            let outcome = if results.inserted.contains(&new.id) {
                InsertOutcome::Inserted
            } else {
                match results.key_holders.get(&new.id) {
                    Some(Some(_)) => InsertOutcome::KeyTaken,
                    _ => InsertOutcome::PaymentBusy,
                }
            };
            let _ = reply.send(Ok(outcome));
        }
        for (charge, reply) in self.charges {
            let _ = reply.send(
                results
                    .charged
                    .remove(&charge.idempotency_key)
                    .ok_or_else(|| StoreError::Corrupt("a charge returned no row".into())),
            );
        }
        for (id, _, _, reply) in self.records {
            let _ = reply.send(Ok(results.recorded.contains(&id)));
        }
    }

    fn fail(self, e: StoreError) {
        if let Some((_, reply)) = self.inserts.into_iter().next() {
            let _ = reply.send(Err(e));
        } else if let Some((_, reply)) = self.charges.into_iter().next() {
            let _ = reply.send(Err(e));
        } else if let Some((_, _, _, reply)) = self.records.into_iter().next() {
            let _ = reply.send(Err(e));
        }
    }

    fn split(self) -> Vec<Batch> {
        let mut out = Vec::with_capacity(self.len());
        for (new, reply) in self.inserts {
            let mut b = Batch::default();
            b.inserts.push((new, reply));
            out.push(b);
        }
        for (charge, reply) in self.charges {
            let mut b = Batch::default();
            b.charges.push((charge, reply));
            out.push(b);
        }
        for record in self.records {
            let mut b = Batch::default();
            b.records.push(record);
            out.push(b);
        }
        out
    }
}

#[derive(Default)]
struct Results {
    inserted: HashSet<String>,
    /// Attempt id → the attempt holding its idempotency key, for attempts not inserted.
    key_holders: std::collections::HashMap<String, Option<String>>,
    charged: std::collections::HashMap<String, String>,
    recorded: HashSet<String>,
}
