//! The test acquirer's ledger on PostgreSQL.

use super::*;
use crate::store::ledger::{entry_of, LEDGER_COLUMNS};

#[async_trait]
impl LedgerStore for PgStore {
    async fn ledger_insert(&self, e: &LedgerEntry, now: i64) -> Result<LedgerEntry, StoreError> {
        // The no-op update makes RETURNING yield the existing row on a repeated reference.
        let sql = format!(
            "INSERT INTO test_acquirer_ledger (reference, merchant_reference, amount_minor, \
             currency, last4, status, transaction_id, decline_code, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (reference) DO UPDATE SET reference = excluded.reference \
             RETURNING {LEDGER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&e.reference)
            .bind(&e.merchant_reference)
            .bind(e.amount.minor as i64)
            .bind(e.amount.currency.code())
            .bind(&e.last4)
            .bind(e.status.as_str())
            .bind(&e.transaction_id)
            .bind(&e.decline_code)
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        entry_of(&row)
    }

    async fn ledger_decide(
        &self,
        from: LedgerStatus,
        to: &LedgerEntry,
        now: i64,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        sqlx::query(
            "UPDATE test_acquirer_ledger SET status = $1, \
             transaction_id = coalesce($2, transaction_id), decline_code = $3, updated_at = $4 \
             WHERE reference = $5 AND status = $6",
        )
        .bind(to.status.as_str())
        .bind(&to.transaction_id)
        .bind(&to.decline_code)
        .bind(now)
        .bind(&to.reference)
        .bind(from.as_str())
        .execute(&self.pool)
        .await?;
        self.ledger_get(&to.reference).await
    }

    async fn ledger_get(&self, reference: &str) -> Result<Option<LedgerEntry>, StoreError> {
        let sql = format!("SELECT {LEDGER_COLUMNS} FROM test_acquirer_ledger WHERE reference = $1");
        let row = sqlx::query(&sql)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn ledger_count(&self, merchant_reference: Option<&str>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM test_acquirer_ledger WHERE status = 'approved' \
             AND ($1::TEXT IS NULL OR merchant_reference = $1)",
        )
        .bind(merchant_reference)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn ledger_refund(
        &self,
        refund: &LedgerRefund,
        now: i64,
    ) -> Result<RefundResult, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The refund row first: a concurrent refund under the same key waits on it, then finds it.
        let inserted = sqlx::query(
            "INSERT INTO test_acquirer_refunds (idempotency_key, reference, refund_id, \
             amount_minor, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&refund.idempotency_key)
        .bind(&refund.reference)
        .bind(&refund.refund_id)
        .bind(refund.amount_minor as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            let refund_id: String = sqlx::query_scalar(
                "SELECT refund_id FROM test_acquirer_refunds WHERE idempotency_key = $1",
            )
            .bind(&refund.idempotency_key)
            .fetch_one(&self.pool)
            .await?;
            return Ok(RefundResult::Refunded { refund_id });
        }
        let updated = sqlx::query(
            "UPDATE test_acquirer_ledger SET refunded_minor = refunded_minor + $1, updated_at = $2 \
             WHERE reference = $3 AND status = 'approved' AND refunded_minor + $1 <= amount_minor",
        )
        .bind(refund.amount_minor as i64)
        .bind(now)
        .bind(&refund.reference)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(RefundResult::Refused(
                "no approved charge with that much left to refund".into(),
            ));
        }
        tx.commit().await?;
        Ok(RefundResult::Refunded {
            refund_id: refund.refund_id.clone(),
        })
    }
}
