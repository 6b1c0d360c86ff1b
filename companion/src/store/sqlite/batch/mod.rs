//! The hot writes of one group commit, by kind: one statement per kind over a JSON array of the
//! jobs, in one transaction (see [`writer`](super::writer)).

use super::super::{InsertOutcome, LedgerEntry, NewAttempt, StoreError};
use super::writer::{DecideJob, Job, ReferenceJob, Reply, SettleJob};
use crate::store::ledger::entry_of;
use sqlx::{Connection, Row, SqliteConnection};
use std::collections::{HashMap, HashSet};

mod rows;
use rows::*;

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
                .map(|(e, now, _)| LedgerRow::of(e, *now))
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
                .map(|(j, _)| ReferenceRow::of(j))
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
        let rows: Vec<DecideRow> = self.decides.iter().map(|(j, _)| DecideRow::of(j)).collect();
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
