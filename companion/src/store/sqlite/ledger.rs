//! The test acquirer's ledger on SQLite.

use super::writer::{DecideJob, Job};
use super::*;
use crate::store::ledger::{entry_of, LEDGER_COLUMNS};

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn ledger_insert(
        &self,
        entry: &LedgerEntry,
        now: i64,
    ) -> Result<LedgerEntry, StoreError> {
        let entry = entry.clone();
        self.writer
            .hot(|reply| Job::Ledger(entry, now, reply))
            .await
    }

    async fn ledger_decide(
        &self,
        from: LedgerStatus,
        to: &LedgerEntry,
        now: i64,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let job = DecideJob {
            from,
            to: to.clone(),
            now,
        };
        self.writer.hot(|reply| Job::Decide(job, reply)).await
    }

    async fn ledger_get(&self, reference: &str) -> Result<Option<LedgerEntry>, StoreError> {
        let reference = reference.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {LEDGER_COLUMNS} FROM test_acquirer_ledger WHERE reference = ?1"
                );
                let row = sqlx::query(&sql)
                    .bind(reference)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.as_ref().map(entry_of).transpose()
            })
        })
        .await
    }

    async fn ledger_count(&self, merchant_reference: Option<&str>) -> Result<i64, StoreError> {
        let merchant_reference = merchant_reference.map(str::to_string);
        self.read(move |conn| {
            Box::pin(async move {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM test_acquirer_ledger WHERE status = 'approved' \
                     AND (?1 IS NULL OR merchant_reference = ?1)",
                )
                .bind(merchant_reference)
                .fetch_one(&mut *conn)
                .await?)
            })
        })
        .await
    }

    async fn ledger_refund(
        &self,
        refund: &LedgerRefund,
        now: i64,
    ) -> Result<RefundResult, StoreError> {
        let refund = refund.clone();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let mut tx = conn.begin_with(super::BEGIN_WRITE).await?;
                    let result = refund_in(&mut tx, &refund, now).await?;
                    tx.commit().await?;
                    Ok(result)
                })
            })
            .await
    }
}

async fn refund_in(
    conn: &mut SqliteConnection,
    refund: &LedgerRefund,
    now: i64,
) -> Result<RefundResult, StoreError> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT refund_id FROM test_acquirer_refunds WHERE idempotency_key = ?1",
    )
    .bind(&refund.idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(refund_id) = existing {
        return Ok(RefundResult::Refunded { refund_id });
    }
    let updated = sqlx::query(
        "UPDATE test_acquirer_ledger SET refunded_minor = refunded_minor + ?1, updated_at = ?2 \
         WHERE reference = ?3 AND status = 'approved' AND refunded_minor + ?1 <= amount_minor",
    )
    .bind(refund.amount_minor as i64)
    .bind(now)
    .bind(&refund.reference)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(RefundResult::Refused(
            "no approved charge with that much left to refund".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO test_acquirer_refunds (idempotency_key, reference, refund_id, amount_minor, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&refund.idempotency_key)
    .bind(&refund.reference)
    .bind(&refund.refund_id)
    .bind(refund.amount_minor as i64)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(RefundResult::Refunded {
        refund_id: refund.refund_id.clone(),
    })
}
