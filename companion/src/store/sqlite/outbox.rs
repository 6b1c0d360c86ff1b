//! The outbox on SQLite. Claims are fenced like attempt leases (`claim_epoch`): a worker whose
//! claim ran out cannot mark a row another worker has claimed since.

use super::*;

const ROW_COLUMNS: &str = "id, attempt_id, state, tries, unsaved, next_at, last_error, \
    refused_since, created_at, done_at, refund_id";

/// A pending row waits while an earlier pending row of its attempt is owed: one attempt's calls
/// reach the portal in order (the charge's paid call, then each refund's status).
const IN_TURN: &str = "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.attempt_id = outbox.attempt_id \
    AND e.id < outbox.id AND e.state = 'pending')";

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn outbox_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let sql = format!(
                        "UPDATE outbox SET tries = tries + 1, claim_epoch = claim_epoch + 1, \
                         lease_until = ?1 WHERE id IN ( \
                           SELECT id FROM outbox WHERE state = 'pending' AND next_at <= ?2 \
                           AND lease_until < ?2 AND {IN_TURN} ORDER BY next_at LIMIT ?3) \
                         RETURNING id, attempt_id, payload, tries, clean_failures, claim_epoch, \
                         refused_since, refund_id"
                    );
                    Ok(sqlx::query_as(&sql)
                        .bind(lease_until)
                        .bind(now)
                        .bind(limit)
                        .fetch_all(&mut *conn)
                        .await?)
                })
            })
            .await
    }

    async fn outbox_done(&self, items: &[(i64, i64)], now: i64) -> Result<(), StoreError> {
        // One statement per batch; the `outbox_done_notifies` trigger flags the attempts.
        let rows: Vec<serde_json::Value> = items
            .iter()
            .map(|(id, epoch)| serde_json::json!({"id": id, "epoch": epoch}))
            .collect();
        let json = serde_json::to_string(&rows).expect("serialisable");
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE outbox SET state = 'done', done_at = ?1, updated_at = ?1, \
                         lease_until = 0, last_error = NULL FROM json_each(?2) AS j \
                         WHERE outbox.id = j.value ->> 'id' \
                         AND outbox.claim_epoch = j.value ->> 'epoch' AND outbox.state = 'pending'",
                    )
                    .bind(now)
                    .bind(json)
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
        epoch: i64,
        retry: &OutboxRetry,
        now: i64,
    ) -> Result<bool, StoreError> {
        let retry = retry.clone();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE outbox SET next_at = ?1, lease_until = 0, last_error = ?2, \
                         clean_failures = clean_failures + ?3, refused_since = ?4, \
                         unsaved = unsaved + ?5, updated_at = ?6 \
                         WHERE id = ?7 AND claim_epoch = ?8 AND state = 'pending'",
                    )
                    .bind(retry.next_at)
                    .bind(retry.error)
                    .bind(retry.clean as i64)
                    .bind(retry.refused_since)
                    .bind(retry.unsaved as i64)
                    .bind(now)
                    .bind(id)
                    .bind(epoch)
                    .execute(&mut *conn)
                    .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn outbox_dead(
        &self,
        id: i64,
        epoch: i64,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let error = error.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE outbox SET state = 'dead', lease_until = 0, last_error = ?1, \
                         updated_at = ?2 WHERE id = ?3 AND claim_epoch = ?4 AND state = 'pending'",
                    )
                    .bind(error)
                    .bind(now)
                    .bind(id)
                    .bind(epoch)
                    .execute(&mut *conn)
                    .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        self.count_outbox("pending").await
    }

    async fn outbox_dead_count(&self) -> Result<i64, StoreError> {
        self.count_outbox("dead").await
    }

    async fn outbox_next_due(&self) -> Result<Option<i64>, StoreError> {
        self.read(|conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT MIN(MAX(next_at, lease_until)) FROM outbox \
                     WHERE state = 'pending' AND {IN_TURN}"
                );
                Ok(sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?)
            })
        })
        .await
    }

    async fn outbox_list(
        &self,
        state: Option<OutboxState>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ROW_COLUMNS} FROM outbox WHERE ?1 IS NULL OR state = ?1 \
                     ORDER BY id DESC LIMIT ?2"
                );
                Ok(sqlx::query_as(&sql)
                    .bind(state.map(OutboxState::as_str))
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?)
            })
        })
        .await
    }

    async fn outbox_requeue(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE outbox SET state = 'pending', next_at = ?1, lease_until = 0, \
                         refused_since = NULL, last_error = 're-queued by an operator', \
                         updated_at = ?1 WHERE id = ?2 AND state IN ('dead', 'pending')",
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
}

impl SqliteStore {
    async fn count_outbox(&self, state: &'static str) -> Result<i64, StoreError> {
        self.read(move |conn| {
            Box::pin(async move {
                Ok(
                    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = ?1")
                        .bind(state)
                        .fetch_one(&mut *conn)
                        .await?,
                )
            })
        })
        .await
    }
}
