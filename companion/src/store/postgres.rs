//! PostgreSQL, for several companion instances behind a load balancer. The same rules as SQLite;
//! the outbox claim adds `FOR UPDATE SKIP LOCKED` so instances never take the same rows.

use super::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pool: PgPool,
}

const ATTEMPT_COLUMNS: &str = "id, idempotency_key, fingerprint, payment_id, paysystem_id, state, \
    decline_code, amount_minor, currency, brand, last4, registry, order_id, transaction_id, \
    challenge_ref, challenge_code_length, challenge_key, challenge_fingerprint, portal_notified, \
    lease_until, created_at, updated_at, acquirer";

impl PgStore {
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("src/store/migrations/postgres")
            .run(&pool)
            .await?;
        Ok(PgStore { pool })
    }

    async fn attempt_where(
        &self,
        clause: &str,
        value: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE {clause}");
        let row: Option<AttemptRow> = sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Attempt::try_from).transpose()
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

#[async_trait]
impl Store for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn meta_put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn meta_lock(&self, name: &str) -> Result<MetaLock, StoreError> {
        lock::pg_advisory(&self.pool, name).await
    }

    async fn attempt(&self, id: &str) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("id = $1", id).await
    }

    async fn attempt_by_key(&self, key: &str) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("idempotency_key = $1", key).await
    }

    async fn live_attempt(
        &self,
        paysystem_id: &str,
        payment_id: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE paysystem_id = $1 AND payment_id = $2 \
             AND state IN ('processing', 'requires_action', 'succeeded')"
        );
        let row: Option<AttemptRow> = sqlx::query_as(&sql)
            .bind(paysystem_id)
            .bind(payment_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Attempt::try_from).transpose()
    }

    async fn insert_attempt(&self, a: &NewAttempt) -> Result<InsertOutcome, StoreError> {
        let result = sqlx::query(
            "INSERT INTO attempts (id, idempotency_key, fingerprint, payment_id, paysystem_id, \
             state, amount_minor, currency, brand, last4, registry, order_id, lease_until, \
             created_at, updated_at, acquirer) \
             VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&a.id)
        .bind(&a.idempotency_key)
        .bind(&a.fingerprint)
        .bind(&a.payment_id)
        .bind(&a.paysystem_id)
        .bind(a.amount.minor as i64)
        .bind(a.amount.currency.code())
        .bind(&a.brand)
        .bind(&a.last4)
        .bind(a.registry.as_str())
        .bind(&a.order_id)
        .bind(a.lease_until)
        .bind(a.now)
        .bind(&a.acquirer)
        .execute(&self.pool)
        .await;
        match result {
            Ok(r) if r.rows_affected() == 1 => Ok(InsertOutcome::Inserted),
            Ok(_) => Ok(InsertOutcome::KeyTaken),
            Err(e) if is_unique_violation(&e) => Ok(InsertOutcome::PaymentBusy),
            Err(e) => Err(e.into()),
        }
    }

    async fn take_over(
        &self,
        id: &str,
        from: PaymentState,
        lease_until: i64,
        now: i64,
    ) -> Result<TakeOver, StoreError> {
        let result = sqlx::query(
            "UPDATE attempts SET state = 'processing', decline_code = NULL, lease_until = $1, \
             updated_at = $2 WHERE id = $3 AND state = $4 AND lease_until < $2",
        )
        .bind(lease_until)
        .bind(now)
        .bind(id)
        .bind(state_str(from))
        .execute(&self.pool)
        .await;
        match result {
            Ok(r) if r.rows_affected() == 1 => Ok(TakeOver::Taken),
            Ok(_) => Ok(TakeOver::Lost),
            Err(e) if is_unique_violation(&e) => Ok(TakeOver::PaymentBusy),
            Err(e) => Err(e.into()),
        }
    }

    async fn begin_challenge(
        &self,
        id: &str,
        key: &str,
        fingerprint: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE attempts SET state = 'processing', challenge_key = $1, \
             challenge_fingerprint = $2, lease_until = $3, updated_at = $4 \
             WHERE id = $5 AND state = 'requires_action'",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(lease_until)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn record_outcome(
        &self,
        id: &str,
        outcome: &Outcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        // One statement: for a success the `attempts_succeeded_enqueue` trigger writes the
        // outbox row within it.
        let query = match outcome {
            Outcome::Succeeded {
                transaction_id,
                outbox_payload,
            } => sqlx::query(
                "UPDATE attempts SET state = 'succeeded', transaction_id = $1, \
                 outbox_payload = $4, lease_until = 0, updated_at = $2 \
                 WHERE id = $3 AND state = 'processing'",
            )
            .bind(transaction_id)
            .bind(now)
            .bind(id)
            .bind(outbox_payload),
            Outcome::Declined(code) => sqlx::query(
                "UPDATE attempts SET state = 'declined', decline_code = $1, lease_until = 0, \
                 updated_at = $2 WHERE id = $3 AND state = 'processing'",
            )
            .bind(code.as_str())
            .bind(now)
            .bind(id),
            Outcome::Failed => sqlx::query(
                "UPDATE attempts SET state = 'failed', decline_code = $1, lease_until = 0, \
                 updated_at = $2 WHERE id = $3 AND state = 'processing'",
            )
            .bind(DeclineCode::ProcessingError.as_str())
            .bind(now)
            .bind(id),
            Outcome::RequiresAction {
                reference,
                code_length,
            } => sqlx::query(
                "UPDATE attempts SET state = 'requires_action', challenge_ref = $1, \
                 challenge_code_length = $4, lease_until = 0, updated_at = $2 \
                 WHERE id = $3 AND state = 'processing'",
            )
            .bind(reference)
            .bind(now)
            .bind(id)
            .bind(*code_length as i64),
        };
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn expire_challenge(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE attempts SET state = 'declined', decline_code = 'challenge_failed', \
             updated_at = $1 WHERE id = $2 AND state = 'requires_action'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn outbox_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE outbox SET tries = tries + 1, lease_until = $1 WHERE id IN ( \
               SELECT id FROM outbox WHERE NOT done AND next_at <= $2 AND lease_until < $2 \
               ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, attempt_id, payload, tries, clean_failures",
        )
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn outbox_done(&self, items: &[(i64, String)], now: i64) -> Result<(), StoreError> {
        // One statement per batch; the `outbox_done_notifies` trigger flags the attempts.
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "UPDATE outbox SET done = TRUE, done_at = $1, lease_until = 0 WHERE id = ANY($2)",
        )
        .bind(now)
        .bind(ids)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbox_retry(
        &self,
        id: i64,
        next_at: i64,
        clean: bool,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET next_at = $1, lease_until = 0, last_error = $2, \
             clean_failures = clean_failures + $3 WHERE id = $4",
        )
        .bind(next_at)
        .bind(error)
        .bind(clean as i64)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE NOT done")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn outbox_next_due(&self) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT MIN(GREATEST(next_at, lease_until)) FROM outbox WHERE NOT done")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    async fn ledger_charge(&self, c: &LedgerCharge) -> Result<String, StoreError> {
        // The no-op update makes RETURNING yield the existing row on a repeated key.
        Ok(sqlx::query_scalar(
            "INSERT INTO test_acquirer_charges (idempotency_key, transaction_id, amount_minor, \
             currency, last4, reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = excluded.idempotency_key \
             RETURNING transaction_id",
        )
        .bind(&c.idempotency_key)
        .bind(&c.transaction_id)
        .bind(c.amount.minor as i64)
        .bind(c.amount.currency.code())
        .bind(&c.last4)
        .bind(&c.reference)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?)
    }

    async fn ledger_find(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT transaction_id FROM test_acquirer_charges WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn ledger_count(&self, reference: Option<&str>) -> Result<i64, StoreError> {
        Ok(match reference {
            Some(r) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM test_acquirer_charges WHERE reference = $1",
                )
                .bind(r)
                .fetch_one(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT COUNT(*) FROM test_acquirer_charges")
                    .fetch_one(&self.pool)
                    .await?
            }
        })
    }
}
