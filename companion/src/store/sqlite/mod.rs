//! SQLite: one file, WAL, `synchronous=FULL` (a commit survives the machine losing power, not
//! only the process being killed; group commit keeps the cost of the extra `fsync` small).
//! SQLite has one writer at a time, so every write goes through one task that owns the writer
//! connection and commits concurrent payments' writes together ([`writer`], [`batch`]);
//! checkpoints run beside it ([`checkpoint`]). Reads go through a small pool of their own that
//! never waits for the writer; every write is committed before its caller hears back, so a later
//! read sees it. [`attempts`], [`outbox`] and [`ledger`] hold each part's SQL.

mod attempts;
mod batch;
mod checkpoint;
mod ledger;
mod outbox;
mod portals;
mod refunds;
mod writer;

use super::*;
use checkpoint::Checkpointer;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use writer::{BoxFuture, Writer};

/// How often the WAL is checkpointed.
/// How a write transaction starts: with the write lock, waiting for it (the busy timeout).
/// A deferred one that reads first and writes later fails at once with `database is locked`
/// when another process (`b24pay refund` beside a running server) wrote in between.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

pub struct SqliteStore {
    writer: Writer,
    /// `None` for an in-memory database (one per connection): it is read through the writer.
    reader: Option<SqlitePool>,
    _checkpointer: Option<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating when missing) `b24pay.sqlite3` in `dir`.
    pub async fn open_dir(dir: &Path) -> Result<SqliteStore, StoreError> {
        ensure_dir(dir)?;
        let options = SqliteConnectOptions::new().filename(dir.join("b24pay.sqlite3"));
        Self::connect(options, false).await
    }

    /// `sqlite:path/to/file.db`, `sqlite::memory:`.
    pub async fn connect_url(url: &str) -> Result<SqliteStore, StoreError> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::connect(SqliteConnectOptions::from_str(url)?, memory).await
    }

    async fn connect(
        options: SqliteConnectOptions,
        memory: bool,
    ) -> Result<SqliteStore, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        let writer_options = if memory {
            options.clone()
        } else {
            options.clone().pragma("wal_autocheckpoint", "0")
        };
        let mut conn = SqliteConnection::connect_with(&writer_options).await?;
        sqlx::migrate!("src/store/migrations/sqlite")
            .run(&mut conn)
            .await?;
        let writer = Writer::start(conn);
        if memory {
            return Ok(SqliteStore {
                writer,
                reader: None,
                _checkpointer: None,
            });
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .idle_timeout(None)
            .max_lifetime(None)
            // A local file cannot go stale: no round trip to check a connection before each use.
            .test_before_acquire(false)
            .connect_with(options.clone().read_only(true))
            .await?;
        let checkpointer = Checkpointer::start(&options, CHECKPOINT_EVERY).await?;
        Ok(SqliteStore {
            writer,
            reader: Some(reader),
            _checkpointer: Some(checkpointer),
        })
    }

    /// Runs a read on a reader connection (or through the writer for an in-memory database).
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        match &self.reader {
            Some(pool) => {
                let mut conn = pool.acquire().await?;
                work(&mut conn).await
            }
            None => self.writer.run(work).await,
        }
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            Box::pin(async move {
                sqlx::query("SELECT 1").execute(&mut *conn).await?;
                Ok(())
            })
        })
        .await
    }
}

#[async_trait]
impl MetaStore for SqliteStore {
    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
                    .bind(key)
                    .fetch_optional(&mut *conn)
                    .await?)
            })
        })
        .await
    }

    async fn meta_put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(key)
                    .bind(value)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                         ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(&key)
                    .bind(value)
                    .execute(&mut *conn)
                    .await?;
                    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
                        .bind(key)
                        .fetch_one(&mut *conn)
                        .await?)
                })
            })
            .await
    }

    async fn meta_lock(&self, _name: &str) -> Result<MetaLock, StoreError> {
        // One process per SQLite database: the client's own lock already serialises its
        // refreshes.
        Ok(MetaLock::none())
    }

    async fn meta_update(&self, key: &str, update: MetaUpdate) -> Result<(), StoreError> {
        let key = key.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    // IMMEDIATE: the write lock first, so another process cannot slip in
                    // between the read and the write.
                    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                    let value: Option<String> =
                        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
                            .bind(&key)
                            .fetch_optional(&mut *tx)
                            .await?;
                    sqlx::query(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(&key)
                    .bind(update(value))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquirer::AcquirerKind;
    use b24pay_protocol::api::DeclineCode;
    use b24pay_protocol::ids::{AttemptId, PaySystemId, PaymentId};
    use b24pay_protocol::{Currency, Money};

    fn new_attempt(key: &str, payment_id: u64) -> NewAttempt {
        NewAttempt {
            id: AttemptId::from_random(rand::random()),
            idempotency_key: key.to_string(),
            fingerprint: "f".into(),
            payment_id: PaymentId::from_u64(payment_id).unwrap(),
            paysystem_id: PaySystemId::from_u64(1).unwrap(),
            amount: Money {
                minor: 300_000,
                currency: Currency::parse("RUB").unwrap(),
            },
            brand: "visa".into(),
            last4: "4242".into(),
            registry: Registry::Order,
            order_id: None,
            acquirer: AcquirerKind::Test,
            session: None,
            lease_until: now_ms() + 30_000,
            now: now_ms(),
            portal: crate::portal::PortalKey::configured(),
        }
    }

    #[tokio::test]
    async fn the_same_payment_number_on_two_portals_is_two_payments() {
        let store = SqliteStore::connect_url("sqlite::memory:").await.unwrap();
        let a = new_attempt("key-on-the-configured-portal-1", 7);
        let mut b = new_attempt("key-on-an-installed-portal-01", 7);
        b.portal = crate::portal::PortalKey::from_stored("abcdefghijkmnpqrstuv".into());
        assert_eq!(
            store.insert_attempt(&a).await.unwrap(),
            InsertOutcome::Inserted
        );
        assert_eq!(
            store.insert_attempt(&b).await.unwrap(),
            InsertOutcome::Inserted
        );
        let mut c = new_attempt("key-on-an-installed-portal-02", 7);
        c.portal = b.portal.clone();
        assert_eq!(
            store.insert_attempt(&c).await.unwrap(),
            InsertOutcome::PaymentBusy
        );
        let live = store
            .live_attempt(&b.portal, b.paysystem_id, b.payment_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live.id, b.id);
        assert_eq!(live.portal, b.portal);
    }

    fn ledger_entry(reference: &str, tx: &str) -> LedgerEntry {
        LedgerEntry {
            reference: reference.to_string(),
            merchant_reference: "1/1".into(),
            amount: Money {
                minor: 100,
                currency: Currency::parse("RUB").unwrap(),
            },
            last4: "4242".into(),
            status: LedgerStatus::Approved,
            transaction_id: Some(tx.to_string()),
            decline_code: None,
            refunded_minor: 0,
        }
    }

    /// Runs `n` copies of a store call at once, so the writer sees them queued together.
    async fn all_at_once<T, F, Fut>(n: usize, call: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = T> + Send + 'static,
    {
        let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(i))).collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    async fn open() -> (tempfile::TempDir, SharedStore) {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());
        (dir, store)
    }

    #[tokio::test]
    async fn concurrent_inserts_keep_their_own_answers() {
        let (_dir, store) = open().await;
        // The same idempotency key twenty times: one attempt, the rest told the key is taken.
        let s = store.clone();
        let same_key = all_at_once(20, move |_| {
            let s = s.clone();
            async move { s.insert_attempt(&new_attempt("key-1", 10)).await.unwrap() }
        })
        .await;
        let inserted = same_key
            .iter()
            .filter(|o| **o == InsertOutcome::Inserted)
            .count();
        assert_eq!(inserted, 1, "{same_key:?}");
        assert!(same_key
            .iter()
            .all(|o| matches!(o, InsertOutcome::Inserted | InsertOutcome::KeyTaken)));
        // Twenty keys for one payment: one attempt, the rest told the payment is busy.
        let s = store.clone();
        let same_payment = all_at_once(20, move |i| {
            let s = s.clone();
            async move {
                s.insert_attempt(&new_attempt(&format!("key-2-{i}"), 20))
                    .await
                    .unwrap()
            }
        })
        .await;
        let inserted = same_payment
            .iter()
            .filter(|o| **o == InsertOutcome::Inserted)
            .count();
        assert_eq!(inserted, 1, "{same_payment:?}");
        assert!(same_payment
            .iter()
            .all(|o| matches!(o, InsertOutcome::Inserted | InsertOutcome::PaymentBusy)));
    }

    #[tokio::test]
    async fn concurrent_settlements_and_ledger_entries_keep_their_own_answers() {
        let (_dir, store) = open().await;
        let s = store.clone();
        let attempts = all_at_once(20, move |i| {
            let s = s.clone();
            async move {
                let a = new_attempt(&format!("key-3-{i}"), 30 + i as u64);
                assert_eq!(s.insert_attempt(&a).await.unwrap(), InsertOutcome::Inserted);
                a
            }
        })
        .await;
        // Two entries under one reference at once: the first one stays.
        for a in &attempts {
            let reference = format!("ref-{}", a.id);
            let (a_entry, b_entry) = (
                ledger_entry(&reference, "tx-a"),
                ledger_entry(&reference, "tx-b"),
            );
            let (first, second) = tokio::join!(
                store.ledger_insert(&a_entry, now_ms()),
                store.ledger_insert(&b_entry, now_ms())
            );
            assert_eq!(first.unwrap(), second.unwrap(), "one charge per reference");
        }
        assert_eq!(store.ledger_count(None).await.unwrap(), 20);
        // Every attempt settled twice at once under its lease: one settlement each, one outbox
        // row per success.
        let s = store.clone();
        let ids: Vec<AttemptId> = attempts.iter().map(|a| a.id.clone()).collect();
        let settled = all_at_once(40, move |i| {
            let s = s.clone();
            let id = ids[i % 20].clone();
            async move {
                let settlement = if i % 20 < 10 {
                    Settlement::Succeeded {
                        transaction_id: format!("tx-{i}"),
                        outbox_payload: "{}".into(),
                    }
                } else {
                    Settlement::Declined(DeclineCode::InsufficientFunds)
                };
                s.settle(&id, 1, &settlement, "test", now_ms())
                    .await
                    .unwrap()
            }
        })
        .await;
        // Both writes of one attempt carry the same epoch and both land (the second one only
        // rewrites the same state); what matters is that a stale epoch never does.
        assert!(settled.iter().all(|s| *s), "{settled:?}");
        assert_eq!(store.outbox_depth().await.unwrap(), 10);
        for (i, a) in attempts.iter().enumerate() {
            let stored = store.attempt(&a.id).await.unwrap().unwrap();
            let expected = if i < 10 {
                AttemptState::Succeeded
            } else {
                AttemptState::Declined
            };
            assert_eq!(stored.state, expected);
        }
    }

    #[tokio::test]
    async fn a_stale_lease_writes_nothing() {
        let (_dir, store) = open().await;
        let mut a = new_attempt("key-fence", 7);
        a.lease_until = now_ms() - 1;
        store.insert_attempt(&a).await.unwrap();
        let claimed = store
            .claim(&a.id, now_ms() + 30_000, now_ms())
            .await
            .unwrap()
            .expect("an expired lease can be claimed");
        assert_eq!(claimed.lease_epoch, 2);
        assert!(!store
            .set_reference(&a.id, 1, "late", now_ms())
            .await
            .unwrap());
        let late = Settlement::Succeeded {
            transaction_id: "tx-late".into(),
            outbox_payload: "{}".into(),
        };
        assert!(!store
            .settle(&a.id, 1, &late, "late", now_ms())
            .await
            .unwrap());
        assert!(store
            .set_reference(&a.id, 2, "ref", now_ms())
            .await
            .unwrap());
        let unknown = Settlement::Unknown {
            next_check_at: now_ms() + 1000,
        };
        assert!(store
            .settle(&a.id, 2, &unknown, "why", now_ms())
            .await
            .unwrap());
        let stored = store.attempt(&a.id).await.unwrap().unwrap();
        assert_eq!(stored.state, AttemptState::Unknown);
        assert_eq!(stored.acquirer_ref.as_deref(), Some("ref"));
        assert!(stored.unknown_since.is_some());
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
        let log = store.attempt_log(&a.id).await.unwrap();
        let events: Vec<&str> = log.iter().map(|l| l.event.as_str()).collect();
        assert_eq!(events, ["processing", "processing", "unknown"], "{log:?}");
    }

    #[tokio::test]
    async fn in_memory_database_reads_through_the_writer() {
        let store = SqliteStore::connect_url("sqlite::memory:").await.unwrap();
        let a = new_attempt("key-m", 1);
        assert_eq!(
            store.insert_attempt(&a).await.unwrap(),
            InsertOutcome::Inserted
        );
        assert_eq!(
            store.attempt_by_key("key-m").await.unwrap().unwrap().id,
            a.id
        );
    }
}
