//! SQLite: one file, WAL, `synchronous=NORMAL` (a commit survives the process being killed).
//! SQLite has one writer at a time, so every write goes through one task that owns the writer
//! connection and commits concurrent payments' writes together ([`writer`]); checkpoints run
//! beside it ([`checkpoint`]). Reads go through a small pool of their own that never waits for
//! the writer; every write is committed before its caller hears back, so a later read sees it.

mod checkpoint;
mod writer;

use super::*;
use checkpoint::Checkpointer;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;
use writer::{BoxFuture, Writer};

/// How often the WAL is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

pub struct SqliteStore {
    writer: Writer,
    /// `None` for an in-memory database (one per connection): it is read through the writer.
    reader: Option<SqlitePool>,
    _checkpointer: Option<Checkpointer>,
}

const ATTEMPT_COLUMNS: &str = "id, idempotency_key, fingerprint, payment_id, paysystem_id, state, \
    decline_code, amount_minor, currency, brand, last4, registry, order_id, transaction_id, \
    challenge_ref, challenge_code_length, challenge_key, challenge_fingerprint, portal_notified, \
    lease_until, created_at, updated_at, acquirer";

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
            .synchronous(SqliteSynchronous::Normal)
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

    async fn attempt_where(
        &self,
        clause: &'static str,
        value: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let value = value.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE {clause}");
                let row: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(value)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(Attempt::try_from).transpose()
            })
        })
        .await
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

    async fn attempt(&self, id: &str) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("id = ?1", id).await
    }

    async fn attempt_by_key(&self, key: &str) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("idempotency_key = ?1", key).await
    }

    async fn live_attempt(
        &self,
        paysystem_id: &str,
        payment_id: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let (paysystem_id, payment_id) = (paysystem_id.to_string(), payment_id.to_string());
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE paysystem_id = ?1 \
                     AND payment_id = ?2 AND state IN ('processing', 'requires_action', 'succeeded')"
                );
                let row: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(paysystem_id)
                    .bind(payment_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(Attempt::try_from).transpose()
            })
        })
        .await
    }

    async fn insert_attempt(&self, a: &NewAttempt) -> Result<InsertOutcome, StoreError> {
        self.writer.insert_attempt(a.clone()).await
    }

    async fn take_over(
        &self,
        id: &str,
        from: PaymentState,
        lease_until: i64,
        now: i64,
    ) -> Result<TakeOver, StoreError> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let result = sqlx::query(
                        "UPDATE attempts SET state = 'processing', decline_code = NULL, \
                         lease_until = ?1, updated_at = ?2 \
                         WHERE id = ?3 AND state = ?4 AND lease_until < ?2",
                    )
                    .bind(lease_until)
                    .bind(now)
                    .bind(id)
                    .bind(state_str(from))
                    .execute(&mut *conn)
                    .await;
                    match result {
                        Ok(r) if r.rows_affected() == 1 => Ok(TakeOver::Taken),
                        Ok(_) => Ok(TakeOver::Lost),
                        Err(e) if is_unique_violation(&e) => Ok(TakeOver::PaymentBusy),
                        Err(e) => Err(e.into()),
                    }
                })
            })
            .await
    }

    async fn begin_challenge(
        &self,
        id: &str,
        key: &str,
        fingerprint: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (id, key, fingerprint) = (id.to_string(), key.to_string(), fingerprint.to_string());
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE attempts SET state = 'processing', challenge_key = ?1, \
                         challenge_fingerprint = ?2, lease_until = ?3, updated_at = ?4 \
                         WHERE id = ?5 AND state = 'requires_action'",
                    )
                    .bind(key)
                    .bind(fingerprint)
                    .bind(lease_until)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn record_outcome(
        &self,
        id: &str,
        outcome: &Outcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.writer
            .record_outcome(id.to_string(), outcome.clone(), now)
            .await
    }

    async fn expire_challenge(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE attempts SET state = 'declined', decline_code = 'challenge_failed', \
                         updated_at = ?1 WHERE id = ?2 AND state = 'requires_action'",
                    )
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn outbox_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    Ok(sqlx::query_as(
                        "UPDATE outbox SET tries = tries + 1, lease_until = ?1 WHERE id IN ( \
                           SELECT id FROM outbox WHERE done = 0 AND next_at <= ?2 \
                           AND lease_until < ?2 ORDER BY next_at LIMIT ?3) \
                         RETURNING id, attempt_id, payload, tries, clean_failures",
                    )
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?)
                })
            })
            .await
    }

    async fn outbox_done(&self, items: &[(i64, String)], now: i64) -> Result<(), StoreError> {
        // One statement per batch; the `outbox_done_notifies` trigger flags the attempts.
        let ids = serde_json::to_string(&items.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .expect("serialisable");
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE outbox SET done = 1, done_at = ?1, lease_until = 0 \
                         WHERE id IN (SELECT value FROM json_each(?2))",
                    )
                    .bind(now)
                    .bind(ids)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    async fn outbox_retry(
        &self,
        id: i64,
        next_at: i64,
        clean: bool,
        error: &str,
    ) -> Result<(), StoreError> {
        let error = error.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE outbox SET next_at = ?1, lease_until = 0, last_error = ?2, \
                         clean_failures = clean_failures + ?3 WHERE id = ?4",
                    )
                    .bind(next_at)
                    .bind(error)
                    .bind(clean as i64)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        self.read(|conn| {
            Box::pin(async move {
                Ok(
                    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE done = 0")
                        .fetch_one(&mut *conn)
                        .await?,
                )
            })
        })
        .await
    }

    async fn outbox_next_due(&self) -> Result<Option<i64>, StoreError> {
        self.read(|conn| {
            Box::pin(async move {
                let row =
                    sqlx::query("SELECT MIN(MAX(next_at, lease_until)) FROM outbox WHERE done = 0")
                        .fetch_one(&mut *conn)
                        .await?;
                Ok(row.try_get::<Option<i64>, _>(0)?)
            })
        })
        .await
    }

    async fn ledger_charge(&self, c: &LedgerCharge) -> Result<String, StoreError> {
        self.writer.ledger_charge(c.clone()).await
    }

    async fn ledger_find(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                Ok(sqlx::query_scalar(
                    "SELECT transaction_id FROM test_acquirer_charges WHERE idempotency_key = ?1",
                )
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?)
            })
        })
        .await
    }

    async fn ledger_count(&self, reference: Option<&str>) -> Result<i64, StoreError> {
        let reference = reference.map(str::to_string);
        self.read(move |conn| {
            Box::pin(async move {
                Ok(match reference {
                    Some(r) => {
                        sqlx::query_scalar(
                            "SELECT COUNT(*) FROM test_acquirer_charges WHERE reference = ?1",
                        )
                        .bind(r)
                        .fetch_one(&mut *conn)
                        .await?
                    }
                    None => {
                        sqlx::query_scalar("SELECT COUNT(*) FROM test_acquirer_charges")
                            .fetch_one(&mut *conn)
                            .await?
                    }
                })
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use b24pay_protocol::Currency;

    fn new_attempt(key: &str, payment_id: &str) -> NewAttempt {
        NewAttempt {
            id: format!("pa_{:032x}", rand::random::<u128>()),
            idempotency_key: key.to_string(),
            fingerprint: "f".into(),
            payment_id: payment_id.to_string(),
            paysystem_id: "1".into(),
            amount: Money {
                minor: 300_000,
                currency: Currency::parse("RUB").unwrap(),
            },
            brand: "visa".into(),
            last4: "4242".into(),
            registry: Registry::Order,
            order_id: None,
            acquirer: "test".into(),
            lease_until: now_ms() + 30_000,
            now: now_ms(),
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

    #[tokio::test]
    async fn concurrent_writes_keep_their_own_answers() {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());

        // The same idempotency key twenty times: one attempt, the rest told the key is taken.
        let s = store.clone();
        let same_key = all_at_once(20, move |_| {
            let s = s.clone();
            async move { s.insert_attempt(&new_attempt("key-1", "10")).await.unwrap() }
        })
        .await;
        let inserted = same_key
            .iter()
            .filter(|o| matches!(o, InsertOutcome::Inserted))
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
                s.insert_attempt(&new_attempt(&format!("key-2-{i}"), "20"))
                    .await
                    .unwrap()
            }
        })
        .await;
        let inserted = same_payment
            .iter()
            .filter(|o| matches!(o, InsertOutcome::Inserted))
            .count();
        assert_eq!(inserted, 1, "{same_payment:?}");
        assert!(same_payment
            .iter()
            .all(|o| matches!(o, InsertOutcome::Inserted | InsertOutcome::PaymentBusy)));

        // Twenty payments at once, each charged twice and recorded twice concurrently: one
        // charge per key, one recorded outcome per attempt, one outbox row per success.
        let s = store.clone();
        let attempts = all_at_once(20, move |i| {
            let s = s.clone();
            async move {
                let a = new_attempt(&format!("key-3-{i}"), &format!("3{i}"));
                assert!(matches!(
                    s.insert_attempt(&a).await.unwrap(),
                    InsertOutcome::Inserted
                ));
                a
            }
        })
        .await;
        for a in &attempts {
            let charge = |tx: &str| LedgerCharge {
                idempotency_key: a.id.clone(),
                transaction_id: tx.to_string(),
                amount: a.amount,
                last4: a.last4.clone(),
                reference: format!("1/{}", a.payment_id),
            };
            let (a_charge, b_charge) = (charge("tx-a"), charge("tx-b"));
            let (first, second) = tokio::join!(
                store.ledger_charge(&a_charge),
                store.ledger_charge(&b_charge)
            );
            assert_eq!(first.unwrap(), second.unwrap(), "one charge per key");
        }
        assert_eq!(store.ledger_count(None).await.unwrap(), 20);
        let s = store.clone();
        let ids: Vec<String> = attempts.iter().map(|a| a.id.clone()).collect();
        let recorded = all_at_once(40, move |i| {
            let s = s.clone();
            let id = ids[i % 20].clone();
            async move {
                let outcome = if i % 20 < 10 {
                    Outcome::Succeeded {
                        transaction_id: format!("tx-{i}"),
                        outbox_payload: "{}".into(),
                    }
                } else {
                    Outcome::Declined(DeclineCode::InsufficientFunds)
                };
                s.record_outcome(&id, &outcome, now_ms()).await.unwrap()
            }
        })
        .await;
        assert_eq!(recorded.iter().filter(|r| **r).count(), 20, "{recorded:?}");
        assert_eq!(store.outbox_depth().await.unwrap(), 10);
        for (i, a) in attempts.iter().enumerate() {
            let stored = store.attempt(&a.id).await.unwrap().unwrap();
            let expected = if i < 10 {
                PaymentState::Succeeded
            } else {
                PaymentState::Declined
            };
            assert_eq!(stored.state, expected);
            if i >= 10 {
                assert_eq!(stored.decline_code, Some(DeclineCode::InsufficientFunds));
                assert_eq!(stored.transaction_id, None);
            }
        }
    }

    #[tokio::test]
    async fn in_memory_database_reads_through_the_writer() {
        let store = SqliteStore::connect_url("sqlite::memory:").await.unwrap();
        let a = new_attempt("key-m", "1");
        assert!(matches!(
            store.insert_attempt(&a).await.unwrap(),
            InsertOutcome::Inserted
        ));
        assert_eq!(
            store.attempt_by_key("key-m").await.unwrap().unwrap().id,
            a.id
        );
    }
}
