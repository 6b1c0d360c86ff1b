//! Group commit: every write goes to one task that owns SQLite's single writer connection. It
//! takes whatever jobs are queued, writes the hot ones (new attempts, acquirer references,
//! settlements, the test acquirer's charges and decisions) with one statement per kind over a JSON array of
//! the jobs ([`batch`](super::batch)), commits once, and only then answers each caller. Under
//! load many payments share one transaction (and, with `synchronous=FULL`, one `fsync`) instead
//! of one each; with a single job the batch is just that job's statement.
//!
//! A caller is answered only after its write is committed, so what it was told survives a crash.
//! If a batch fails as a whole, its jobs are retried one by one so that each caller gets its own
//! answer (and one bad job cannot fail the others). Rare writes (leases, the outbox, metadata)
//! run one at a time between batches, each on its own, with their own SQL.

use super::super::{InsertOutcome, LedgerEntry, LedgerStatus, NewAttempt, Settlement, StoreError};
use super::batch::Batch;
use b24pay_protocol::ids::AttemptId;
use sqlx::{Connection, SqliteConnection};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// At most this many jobs share one transaction.
const MAX_BATCH: usize = 256;

pub(super) type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;
pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A lease holder's settlement of one attempt.
pub(super) struct SettleJob {
    pub id: AttemptId,
    pub epoch: i64,
    pub settlement: Settlement,
    pub note: String,
    pub now: i64,
}

/// A lease holder's record of the acquirer's reference.
pub(super) struct ReferenceJob {
    pub id: AttemptId,
    pub epoch: i64,
    pub reference: String,
    pub now: i64,
}

/// A test-acquirer decision: the charge moves from `from` to `to.status`.
pub(super) struct DecideJob {
    pub from: LedgerStatus,
    pub to: LedgerEntry,
    pub now: i64,
}

pub(super) enum Job {
    Insert(NewAttempt, Reply<InsertOutcome>),
    Ledger(LedgerEntry, i64, Reply<LedgerEntry>),
    Decide(DecideJob, Reply<Option<LedgerEntry>>),
    Settle(SettleJob, Reply<bool>),
    Reference(ReferenceJob, Reply<bool>),
    /// Anything else: runs alone and answers for itself.
    Other(Work),
}

/// The handle the store writes through; cheap to clone.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

async fn answer<T>(rx: oneshot::Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
    rx.await.map_err(|_| StoreError::WriterStopped)?
}

impl Writer {
    /// Starts the writer task; it ends (closing the connection) when the last handle is dropped.
    pub(super) fn start(conn: SqliteConnection) -> Writer {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(conn, rx));
        Writer { jobs }
    }

    /// Queues a hot job and waits for its committed answer.
    pub(super) async fn hot<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(job(tx))
            .map_err(|_| StoreError::WriterStopped)?;
        answer(rx).await
    }

    /// Runs `work` on the writer connection, alone and in autocommit mode (or in a transaction
    /// it opens itself).
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
        self.jobs
            .send(Job::Other(work))
            .map_err(|_| StoreError::WriterStopped)?;
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
