//! The outbox on PostgreSQL; claims take rows no other instance holds (`SKIP LOCKED`).

use super::*;

const ROW_COLUMNS: &str = "id, attempt_id, state, tries, unsaved, next_at, last_error, \
    refused_since, created_at, done_at, refund_id";

/// See the SQLite twin: one attempt's calls reach the portal in order.
const IN_TURN: &str = "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.attempt_id = outbox.attempt_id \
    AND e.id < outbox.id AND e.state = 'pending')";

#[async_trait]
impl OutboxStore for PgStore {
    async fn outbox_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let sql = format!(
            "UPDATE outbox SET tries = tries + 1, claim_epoch = claim_epoch + 1, \
             lease_until = $1 WHERE id IN ( \
               SELECT id FROM outbox WHERE state = 'pending' AND next_at <= $2 \
               AND lease_until < $2 AND {IN_TURN} ORDER BY next_at LIMIT $3 \
               FOR UPDATE SKIP LOCKED) \
             RETURNING id, attempt_id, payload, tries, clean_failures, claim_epoch, \
             refused_since, refund_id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn outbox_done(&self, items: &[(i64, i64)], now: i64) -> Result<(), StoreError> {
        // One statement per batch; the `outbox_changed` trigger flags the attempts.
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
        let epochs: Vec<i64> = items.iter().map(|(_, e)| *e).collect();
        sqlx::query(
            "UPDATE outbox SET state = 'done', done_at = $1, updated_at = $1, lease_until = 0, \
             last_error = NULL FROM UNNEST($2::BIGINT[], $3::BIGINT[]) AS c(id, epoch) \
             WHERE outbox.id = c.id AND outbox.claim_epoch = c.epoch AND outbox.state = 'pending'",
        )
        .bind(now)
        .bind(ids)
        .bind(epochs)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbox_retry(
        &self,
        id: i64,
        epoch: i64,
        retry: &OutboxRetry,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE outbox SET next_at = $1, lease_until = 0, last_error = $2, \
             clean_failures = clean_failures + $3, refused_since = $4, unsaved = unsaved + $5, \
             updated_at = $6 WHERE id = $7 AND claim_epoch = $8 AND state = 'pending'",
        )
        .bind(retry.next_at)
        .bind(&retry.error)
        .bind(retry.clean as i64)
        .bind(retry.refused_since)
        .bind(retry.unsaved as i64)
        .bind(now)
        .bind(id)
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn outbox_dead(
        &self,
        id: i64,
        epoch: i64,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE outbox SET state = 'dead', lease_until = 0, last_error = $1, updated_at = $2 \
             WHERE id = $3 AND claim_epoch = $4 AND state = 'pending'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        self.count_outbox("pending").await
    }

    async fn outbox_dead_count(&self) -> Result<i64, StoreError> {
        self.count_outbox("dead").await
    }

    async fn outbox_next_due(&self) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT MIN(GREATEST(next_at, lease_until)) FROM outbox \
             WHERE state = 'pending' AND {IN_TURN}"
        );
        Ok(sqlx::query_scalar(&sql).fetch_one(&self.pool).await?)
    }

    async fn outbox_list(
        &self,
        state: Option<OutboxState>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM outbox WHERE $1::TEXT IS NULL OR state = $1 \
             ORDER BY id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(state.map(OutboxState::as_str))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn outbox_requeue(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_at = $1, lease_until = 0, \
             refused_since = NULL, last_error = 're-queued by an operator', updated_at = $1 \
             WHERE id = $2 AND state IN ('dead', 'pending')",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}

impl PgStore {
    async fn count_outbox(&self, state: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = $1")
                .bind(state)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
