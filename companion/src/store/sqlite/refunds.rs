//! Refunds on SQLite: each write in one transaction on the writer connection (the only writer,
//! so the check against the charged amount and the insert cannot interleave with another).

use super::*;
use crate::store::refund::{RefundRow, REFUND_COLUMNS};
use b24pay_protocol::ids::AttemptId;

async fn existing(conn: &mut SqliteConnection, new: &Refund) -> Result<Option<Refund>, StoreError> {
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE idempotency_key = ?1 \
         OR (?2 IS NOT NULL AND acquirer_refund_id = ?2)"
    );
    let row: Option<RefundRow> = sqlx::query_as(&sql)
        .bind(&new.idempotency_key)
        .bind(&new.acquirer_refund_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Refund::try_from).transpose()
}

async fn insert_in(
    conn: &mut SqliteConnection,
    new: &NewRefund,
    now: i64,
) -> Result<RefundInsert, StoreError> {
    let r = &new.refund;
    if let Some(found) = existing(conn, r).await? {
        return Ok(RefundInsert::Exists(found));
    }
    if let Some(cap) = new.cap_minor {
        let refunded: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds \
             WHERE attempt_id = ?1 AND state <> 'failed'",
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
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
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
    conn: &mut SqliteConnection,
    id: &str,
    u: &RefundUpdate,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE refunds SET state = ?1, acquirer_refund_id = coalesce(?2, acquirer_refund_id), \
         note = ?3, updated_at = ?4 WHERE id = ?5 AND state IN ('requested', 'pending')",
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
             SELECT attempt_id, id, ?1, ?2, ?2, ?2 FROM refunds WHERE id = ?3",
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
impl RefundStore for SqliteStore {
    async fn refund_insert(&self, new: &NewRefund, now: i64) -> Result<RefundInsert, StoreError> {
        let new = new.clone();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let mut tx = conn.begin_with(super::BEGIN_WRITE).await?;
                    let result = insert_in(&mut tx, &new, now).await?;
                    tx.commit().await?;
                    Ok(result)
                })
            })
            .await
    }

    async fn refund_update(
        &self,
        id: &str,
        update: &RefundUpdate,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (id, update) = (id.to_string(), update.clone());
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let mut tx = conn.begin_with(super::BEGIN_WRITE).await?;
                    let done = update_in(&mut tx, &id, &update, now).await?;
                    tx.commit().await?;
                    Ok(done)
                })
            })
            .await
    }

    async fn refunds_of(&self, attempt: &AttemptId) -> Result<Vec<Refund>, StoreError> {
        let attempt = attempt.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {REFUND_COLUMNS} FROM refunds WHERE attempt_id = ?1 \
                     ORDER BY created_at, id"
                );
                let rows: Vec<RefundRow> = sqlx::query_as(&sql)
                    .bind(attempt)
                    .fetch_all(&mut *conn)
                    .await?;
                rows.into_iter().map(Refund::try_from).collect()
            })
        })
        .await
    }
}
