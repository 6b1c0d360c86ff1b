//! Refunds on PostgreSQL: each write in one transaction that first locks the attempt's row, so
//! two instances (or two operators) refunding one charge at once are checked one after the
//! other against the charged amount.

use super::*;
use crate::store::refund::{RefundRow, REFUND_COLUMNS};
use b24pay_protocol::ids::AttemptId;
use sqlx::PgConnection;

async fn insert_in(
    conn: &mut PgConnection,
    new: &NewRefund,
    now: i64,
) -> Result<RefundInsert, StoreError> {
    let r = &new.refund;
    sqlx::query("SELECT id FROM attempts WHERE id = $1 FOR UPDATE")
        .bind(r.attempt_id.as_str())
        .execute(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE idempotency_key = $1 \
         OR ($2::TEXT IS NOT NULL AND acquirer_refund_id = $2)"
    );
    let found: Option<RefundRow> = sqlx::query_as(&sql)
        .bind(&r.idempotency_key)
        .bind(&r.acquirer_refund_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = found {
        return Ok(RefundInsert::Exists(Refund::try_from(row)?));
    }
    if let Some(cap) = new.cap_minor {
        let refunded: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(amount_minor), 0)::BIGINT FROM refunds \
             WHERE attempt_id = $1 AND state <> 'failed'",
        )
        .bind(r.attempt_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
        let refunded = refunded.max(0) as u64;
        if refunded.saturating_add(r.amount.minor) > cap {
            return Ok(RefundInsert::TooMuch {
                refunded_minor: refunded,
            });
        }
    }
    sqlx::query(
        "INSERT INTO refunds (id, attempt_id, idempotency_key, amount_minor, currency, state, \
         origin, acquirer_refund_id, note, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&r.id)
    .bind(r.attempt_id.as_str())
    .bind(&r.idempotency_key)
    .bind(r.amount.minor as i64)
    .bind(r.amount.currency.code())
    .bind(r.state.as_str())
    .bind(r.origin.as_str())
    .bind(&r.acquirer_refund_id)
    .bind(&r.note)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let mut created = r.clone();
    created.created_at = now;
    created.updated_at = now;
    Ok(RefundInsert::Created(created))
}

async fn update_in(
    conn: &mut PgConnection,
    id: &str,
    u: &RefundUpdate,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE refunds SET state = $1, acquirer_refund_id = coalesce($2, acquirer_refund_id), \
         note = $3, updated_at = $4 WHERE id = $5 AND state IN ('requested', 'pending')",
    )
    .bind(u.state.as_str())
    .bind(&u.acquirer_refund_id)
    .bind(&u.note)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(payload) = &u.outbox_payload {
        sqlx::query(
            "INSERT INTO outbox (attempt_id, refund_id, payload, next_at, created_at, updated_at) \
             SELECT attempt_id, id, $1, $2, $2, $2 FROM refunds WHERE id = $3",
        )
        .bind(payload)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(true)
}

#[async_trait]
impl RefundStore for PgStore {
    async fn refund_insert(&self, new: &NewRefund, now: i64) -> Result<RefundInsert, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = insert_in(&mut tx, new, now).await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn refund_update(
        &self,
        id: &str,
        update: &RefundUpdate,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = update_in(&mut tx, id, update, now).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn refunds_of(&self, attempt: &AttemptId) -> Result<Vec<Refund>, StoreError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE attempt_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<RefundRow> = sqlx::query_as(&sql)
            .bind(attempt.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Refund::try_from).collect()
    }
}
