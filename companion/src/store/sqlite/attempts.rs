//! Attempts on SQLite: reads on the reader pool, the hot writes (insert, reference, settlement)
//! through the group-commit writer, leases one at a time on the writer connection.

use super::writer::{Job, ReferenceJob, SettleJob};
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

impl SqliteStore {
    async fn attempt_where(
        &self,
        clause: &'static str,
        value: String,
    ) -> Result<Option<Attempt>, StoreError> {
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

    /// Runs a lease-granting update that returns the new epoch.
    async fn lease_update(
        &self,
        sql: &'static str,
        binds: Vec<LeaseBind>,
    ) -> Result<Lease, StoreError> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let mut q = sqlx::query_scalar::<_, i64>(sql);
                    for b in binds {
                        q = match b {
                            LeaseBind::Int(n) => q.bind(n),
                            LeaseBind::Text(t) => q.bind(t),
                        };
                    }
                    match q.fetch_optional(&mut *conn).await {
                        Ok(Some(epoch)) => Ok(Lease::Granted { epoch }),
                        Ok(None) => Ok(Lease::Refused),
                        Err(e) if is_unique_violation(&e) => Ok(Lease::PaymentBusy),
                        Err(e) => Err(e.into()),
                    }
                })
            })
            .await
    }
}

enum LeaseBind {
    Int(i64),
    Text(String),
}

#[async_trait]
impl AttemptStore for SqliteStore {
    async fn attempt(&self, id: &AttemptId) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("id = ?1", id.to_string()).await
    }

    async fn attempt_by_key(&self, key: &str) -> Result<Option<Attempt>, StoreError> {
        self.attempt_where("idempotency_key = ?1", key.to_string())
            .await
    }

    async fn attempt_by_reference(
        &self,
        acquirer: AcquirerKind,
        reference: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let reference = reference.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE acquirer_ref = ?1 \
                     AND acquirer = ?2"
                );
                let row: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(reference)
                    .bind(acquirer.as_str())
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(Attempt::try_from).transpose()
            })
        })
        .await
    }

    async fn charged_attempts(
        &self,
        payment_id: PaymentId,
        paysystem_id: Option<PaySystemId>,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE payment_id = ?1 \
                     AND (?2 IS NULL OR paysystem_id = ?2) AND state = 'succeeded' \
                     ORDER BY created_at"
                );
                let rows: Vec<AttemptRow> = sqlx::query_as(&sql)
                    .bind(payment_id.to_string())
                    .bind(paysystem_id.map(|p| p.to_string()))
                    .fetch_all(&mut *conn)
                    .await?;
                attempts_of(rows)
            })
        })
        .await
    }

    async fn release(&self, id: &AttemptId, epoch: i64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE attempts SET lease_until = 0 WHERE id = ?1 AND lease_epoch = ?2",
                    )
                    .bind(id)
                    .bind(epoch)
                    .execute(&mut *conn)
                    .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn live_attempt(
        &self,
        portal: &PortalKey,
        paysystem_id: PaySystemId,
        payment_id: PaymentId,
    ) -> Result<Option<Attempt>, StoreError> {
        let portal = portal.as_str().to_string();
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE paysystem_id = ?1 \
                     AND payment_id = ?2 AND portal = ?3 AND state IN {LIVE_STATES}"
                );
                let row: Option<AttemptRow> = sqlx::query_as(&sql)
                    .bind(paysystem_id.to_string())
                    .bind(payment_id.to_string())
                    .bind(portal)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(Attempt::try_from).transpose()
            })
        })
        .await
    }

    async fn insert_attempt(&self, a: &NewAttempt) -> Result<InsertOutcome, StoreError> {
        let a = a.clone();
        self.writer.hot(|reply| Job::Insert(a, reply)).await
    }

    async fn retry_failed(
        &self,
        id: &AttemptId,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError> {
        self.lease_update(
            "UPDATE attempts SET state = 'processing', decline_code = NULL, round = round + 1, \
             acquirer_ref = NULL, lease_epoch = lease_epoch + 1, lease_until = ?1, \
             note = 'tried again with the same request', updated_at = ?2 \
             WHERE id = ?3 AND state = 'failed' RETURNING lease_epoch",
            vec![
                LeaseBind::Int(lease_until),
                LeaseBind::Int(now),
                LeaseBind::Text(id.to_string()),
            ],
        )
        .await
    }

    async fn claim(
        &self,
        id: &AttemptId,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<Attempt>, StoreError> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let sql = format!(
                        "UPDATE attempts SET lease_epoch = lease_epoch + 1, lease_until = ?1 \
                         WHERE id = ?2 AND state IN {UNSETTLED_STATES} AND lease_until < ?3 \
                         RETURNING {ATTEMPT_COLUMNS}"
                    );
                    let row: Option<AttemptRow> = sqlx::query_as(&sql)
                        .bind(lease_until)
                        .bind(id)
                        .bind(now)
                        .fetch_optional(&mut *conn)
                        .await?;
                    row.map(Attempt::try_from).transpose()
                })
            })
            .await
    }

    async fn claim_due(
        &self,
        due: Due,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let sql = format!(
                        "UPDATE attempts SET lease_epoch = lease_epoch + 1, lease_until = ?1 \
                         WHERE id IN (SELECT id FROM attempts WHERE lease_until < ?2 AND ( \
                           state = 'processing' \
                           OR (state = 'unknown' AND next_check_at <= ?2) \
                           OR (state = 'requires_action' AND updated_at < ?3)) \
                         ORDER BY updated_at LIMIT ?4) \
                         RETURNING {ATTEMPT_COLUMNS}"
                    );
                    let rows: Vec<AttemptRow> = sqlx::query_as(&sql)
                        .bind(lease_until)
                        .bind(due.now)
                        .bind(due.action_hold_before)
                        .bind(limit)
                        .fetch_all(&mut *conn)
                        .await?;
                    attempts_of(rows)
                })
            })
            .await
    }

    async fn begin_action(
        &self,
        id: &AttemptId,
        key: &str,
        fingerprint: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError> {
        self.lease_update(
            "UPDATE attempts SET state = 'processing', challenge_key = ?1, \
             challenge_fingerprint = ?2, action_rounds = action_rounds + 1, \
             lease_epoch = lease_epoch + 1, lease_until = ?3, \
             note = 'the customer answered the action', updated_at = ?4 \
             WHERE id = ?5 AND state = 'requires_action' AND lease_until < ?4 \
             RETURNING lease_epoch",
            vec![
                LeaseBind::Text(key.to_string()),
                LeaseBind::Text(fingerprint.to_string()),
                LeaseBind::Int(lease_until),
                LeaseBind::Int(now),
                LeaseBind::Text(id.to_string()),
            ],
        )
        .await
    }

    async fn set_reference(
        &self,
        id: &AttemptId,
        epoch: i64,
        reference: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let job = ReferenceJob {
            id: id.clone(),
            epoch,
            reference: reference.to_string(),
            now,
        };
        self.writer.hot(|reply| Job::Reference(job, reply)).await
    }

    async fn settle(
        &self,
        id: &AttemptId,
        epoch: i64,
        settlement: &Settlement,
        note: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let job = SettleJob {
            id: id.clone(),
            epoch,
            settlement: settlement.clone(),
            note: note.to_string(),
            now,
        };
        self.writer.hot(|reply| Job::Settle(job, reply)).await
    }

    async fn mark_review(&self, id: &AttemptId, now: i64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(
                        "UPDATE attempts SET review_at = ?1 \
                         WHERE id = ?2 AND state = 'unknown' AND review_at IS NULL",
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

    async fn declines_since(
        &self,
        portal: &PortalKey,
        paysystem_id: PaySystemId,
        payment_id: PaymentId,
        since: i64,
    ) -> Result<i64, StoreError> {
        let portal = portal.as_str().to_string();
        self.read(move |conn| {
            Box::pin(async move {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM attempts WHERE paysystem_id = ?1 AND payment_id = ?2 \
                     AND state = 'declined' AND updated_at >= ?3 AND portal = ?4",
                )
                .bind(paysystem_id.to_string())
                .bind(payment_id.to_string())
                .bind(since)
                .bind(portal)
                .fetch_one(&mut *conn)
                .await?)
            })
        })
        .await
    }

    async fn list_attempts(
        &self,
        filter: AttemptFilter,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.read(move |conn| {
            Box::pin(async move {
                let clause = match filter {
                    AttemptFilter::Unsettled => {
                        format!("WHERE state IN {UNSETTLED_STATES} ORDER BY created_at")
                    }
                    AttemptFilter::Review => {
                        "WHERE state = 'unknown' AND review_at IS NOT NULL ORDER BY created_at"
                            .to_string()
                    }
                    AttemptFilter::Recent => "ORDER BY created_at DESC".to_string(),
                };
                let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts {clause} LIMIT ?1");
                let rows: Vec<AttemptRow> = sqlx::query_as(&sql)
                    .bind(limit)
                    .fetch_all(&mut *conn)
                    .await?;
                attempts_of(rows)
            })
        })
        .await
    }

    async fn attempt_log(&self, id: &AttemptId) -> Result<Vec<LogEntry>, StoreError> {
        let id = id.to_string();
        self.read(move |conn| {
            Box::pin(async move {
                Ok(sqlx::query_as(
                    "SELECT at, event, note FROM attempt_log WHERE attempt_id = ?1 ORDER BY id",
                )
                .bind(id)
                .fetch_all(&mut *conn)
                .await?)
            })
        })
        .await
    }
}
