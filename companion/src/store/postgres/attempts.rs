//! Attempts on PostgreSQL.

use super::*;
use crate::acquirer::AcquirerKind;
use crate::portal::PortalKey;
use crate::store::attempt::ATTEMPT_COLUMNS;
use b24pay_protocol::ids::{AttemptId, PaySystemId, PaymentId};

const LIVE_STATES: &str = "('processing', 'requires_action', 'unknown', 'succeeded')";
const UNSETTLED_STATES: &str = "('processing', 'requires_action', 'unknown')";

fn attempts_of(rows: Vec<AttemptRow>) -> Result<Vec<Attempt>, StoreError> {
    rows.into_iter().map(Attempt::try_from).collect()
}

fn lease_of(result: Result<Option<i64>, sqlx::Error>) -> Result<Lease, StoreError> {
    match result {
        Ok(Some(epoch)) => Ok(Lease::Granted { epoch }),
        Ok(None) => Ok(Lease::Refused),
        Err(e) if is_unique_violation(&e) => Ok(Lease::PaymentBusy),
        Err(e) => Err(e.into()),
    }
}

impl PgStore {
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

#[async_trait]
impl AttemptStore for PgStore {
    async fn attempt(&self, id: &AttemptId) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("id = $1", id.as_str()).await
    }

    async fn attempt_by_key(&self, key: &str) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("idempotency_key = $1", key).await
    }

    async fn attempt_by_reference(
        &self,
        acquirer: AcquirerKind,
        reference: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE acquirer_ref = $1 AND acquirer = $2"
        );
        let row: Option<AttemptRow> = sqlx::query_as(&sql)
            .bind(reference)
            .bind(acquirer.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(Attempt::try_from).transpose()
    }

    async fn charged_attempts(
        &self,
        payment_id: PaymentId,
        paysystem_id: Option<PaySystemId>,
    ) -> Result<Vec<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE payment_id = $1 \
             AND ($2::TEXT IS NULL OR paysystem_id = $2) AND state = 'succeeded' \
             ORDER BY created_at"
        );
        let rows: Vec<AttemptRow> = sqlx::query_as(&sql)
            .bind(payment_id.to_string())
            .bind(paysystem_id.map(|p| p.to_string()))
            .fetch_all(&self.pool)
            .await?;
        attempts_of(rows)
    }

    async fn release(&self, id: &AttemptId, epoch: i64) -> Result<bool, StoreError> {
        let r =
            sqlx::query("UPDATE attempts SET lease_until = 0 WHERE id = $1 AND lease_epoch = $2")
                .bind(id.as_str())
                .bind(epoch)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn live_attempt(
        &self,
        portal: &PortalKey,
        paysystem_id: PaySystemId,
        payment_id: PaymentId,
    ) -> Result<Option<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE paysystem_id = $1 AND payment_id = $2 \
             AND portal = $3 AND state IN {LIVE_STATES}"
        );
        let row: Option<AttemptRow> = sqlx::query_as(&sql)
            .bind(paysystem_id.to_string())
            .bind(payment_id.to_string())
            .bind(portal.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(Attempt::try_from).transpose()
    }

    async fn insert_attempt(&self, a: &NewAttempt) -> Result<InsertOutcome, StoreError> {
        let result = sqlx::query(
            "INSERT INTO attempts (id, idempotency_key, fingerprint, payment_id, paysystem_id, \
             state, amount_minor, currency, brand, last4, registry, order_id, session, \
             lease_until, lease_epoch, created_at, updated_at, acquirer, portal) \
             VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7, $8, $9, $10, $11, $12, $13, 1, \
             $14, $14, $15, $16) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(a.id.as_str())
        .bind(&a.idempotency_key)
        .bind(&a.fingerprint)
        .bind(a.payment_id.to_string())
        .bind(a.paysystem_id.to_string())
        .bind(a.amount.minor as i64)
        .bind(a.amount.currency.code())
        .bind(&a.brand)
        .bind(&a.last4)
        .bind(a.registry.as_str())
        .bind(a.order_id.map(|o| o.to_string()))
        .bind(&a.session)
        .bind(a.lease_until)
        .bind(a.now)
        .bind(a.acquirer.as_str())
        .bind(a.portal.as_str())
        .execute(&self.pool)
        .await;
        match result {
            Ok(r) if r.rows_affected() == 1 => Ok(InsertOutcome::Inserted),
            Ok(_) => Ok(InsertOutcome::KeyTaken),
            Err(e) if is_unique_violation(&e) => Ok(InsertOutcome::PaymentBusy),
            Err(e) => Err(e.into()),
        }
    }

    async fn retry_failed(
        &self,
        id: &AttemptId,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError> {
        let result = sqlx::query_scalar(
            "UPDATE attempts SET state = 'processing', decline_code = NULL, round = round + 1, \
             acquirer_ref = NULL, lease_epoch = lease_epoch + 1, lease_until = $1, \
             note = 'tried again with the same request', updated_at = $2 \
             WHERE id = $3 AND state = 'failed' RETURNING lease_epoch",
        )
        .bind(lease_until)
        .bind(now)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await;
        lease_of(result)
    }

    async fn claim(
        &self,
        id: &AttemptId,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<Attempt>, StoreError> {
        let sql = format!(
            "UPDATE attempts SET lease_epoch = lease_epoch + 1, lease_until = $1 \
             WHERE id = $2 AND state IN {UNSETTLED_STATES} AND lease_until < $3 \
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let row: Option<AttemptRow> = sqlx::query_as(&sql)
            .bind(lease_until)
            .bind(id.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Attempt::try_from).transpose()
    }

    async fn claim_due(
        &self,
        due: Due,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        let sql = format!(
            "UPDATE attempts SET lease_epoch = lease_epoch + 1, lease_until = $1 \
             WHERE id IN (SELECT id FROM attempts WHERE lease_until < $2 AND ( \
               state = 'processing' \
               OR (state = 'unknown' AND next_check_at <= $2) \
               OR (state = 'requires_action' AND updated_at < $3)) \
             ORDER BY updated_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let rows: Vec<AttemptRow> = sqlx::query_as(&sql)
            .bind(lease_until)
            .bind(due.now)
            .bind(due.action_hold_before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        attempts_of(rows)
    }

    async fn begin_action(
        &self,
        id: &AttemptId,
        key: &str,
        fingerprint: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError> {
        let result = sqlx::query_scalar(
            "UPDATE attempts SET state = 'processing', challenge_key = $1, \
             challenge_fingerprint = $2, action_rounds = action_rounds + 1, \
             lease_epoch = lease_epoch + 1, lease_until = $3, \
             note = 'the customer answered the action', updated_at = $4 \
             WHERE id = $5 AND state = 'requires_action' AND lease_until < $4 \
             RETURNING lease_epoch",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(lease_until)
        .bind(now)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await;
        lease_of(result)
    }

    async fn set_reference(
        &self,
        id: &AttemptId,
        epoch: i64,
        reference: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE attempts SET acquirer_ref = $1, note = 'acquirer reference ' || $1, \
             updated_at = $2 WHERE id = $3 AND lease_epoch = $4",
        )
        .bind(reference)
        .bind(now)
        .bind(id.as_str())
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn settle(
        &self,
        id: &AttemptId,
        epoch: i64,
        settlement: &Settlement,
        note: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        // One statement: for a success the `attempts_succeeded_enqueue` trigger writes the
        // outbox row, and `attempts_log` the history line, within it.
        let (transaction_id, outbox_payload) = match settlement {
            Settlement::Succeeded {
                transaction_id,
                outbox_payload,
            } => (Some(transaction_id.as_str()), Some(outbox_payload.as_str())),
            _ => (None, None),
        };
        let next_check_at = match settlement {
            Settlement::Unknown { next_check_at } => *next_check_at,
            _ => 0,
        };
        let r = sqlx::query(
            "UPDATE attempts SET state = $1, decline_code = $2, \
             transaction_id = coalesce($3, transaction_id), \
             outbox_payload = coalesce($4, outbox_payload), action = coalesce($5, action), \
             note = $6, next_check_at = $7, \
             unknown_since = CASE WHEN $1 = 'unknown' THEN coalesce(unknown_since, $8) \
                 ELSE unknown_since END, \
             lease_until = 0, updated_at = $8 WHERE id = $9 AND lease_epoch = $10",
        )
        .bind(settlement.state().as_str())
        .bind(settlement.decline_code().map(|c| c.as_str()))
        .bind(transaction_id)
        .bind(outbox_payload)
        .bind(settlement.action_json())
        .bind(note)
        .bind(next_check_at)
        .bind(now)
        .bind(id.as_str())
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn mark_review(&self, id: &AttemptId, now: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE attempts SET review_at = $1 \
             WHERE id = $2 AND state = 'unknown' AND review_at IS NULL",
        )
        .bind(now)
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn declines_since(
        &self,
        portal: &PortalKey,
        paysystem_id: PaySystemId,
        payment_id: PaymentId,
        since: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM attempts WHERE paysystem_id = $1 AND payment_id = $2 \
             AND state = 'declined' AND updated_at >= $3 AND portal = $4",
        )
        .bind(paysystem_id.to_string())
        .bind(payment_id.to_string())
        .bind(since)
        .bind(portal.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    async fn list_attempts(
        &self,
        filter: AttemptFilter,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        let clause = match filter {
            AttemptFilter::Unsettled => {
                format!("WHERE state IN {UNSETTLED_STATES} ORDER BY created_at")
            }
            AttemptFilter::Review => {
                "WHERE state = 'unknown' AND review_at IS NOT NULL ORDER BY created_at".into()
            }
            AttemptFilter::Recent => "ORDER BY created_at DESC".into(),
        };
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts {clause} LIMIT $1");
        let rows: Vec<AttemptRow> = sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        attempts_of(rows)
    }

    async fn attempt_log(&self, id: &AttemptId) -> Result<Vec<LogEntry>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at, event, note FROM attempt_log WHERE attempt_id = $1 ORDER BY id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?)
    }
}
