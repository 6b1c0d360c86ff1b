//! A named lock shared by every process on one store, for what only one instance may do at a
//! time: refreshing the OAuth token (refresh tokens are single use). PostgreSQL takes a
//! session advisory lock on a connection of its own, so the lock ends with that connection
//! even if its holder is cancelled or dies; SQLite serves one process, whose own locks suffice.

use super::StoreError;
use async_trait::async_trait;
use sqlx::{Connection, PgConnection, PgPool};

/// A held lock; released by [`MetaLock::release`], or when dropped.
#[must_use = "the lock is held only while this value lives"]
pub struct MetaLock(Option<Box<dyn MetaLockGuard>>);

#[async_trait]
pub trait MetaLockGuard: Send {
    async fn release(self: Box<Self>);
}

impl MetaLock {
    /// Nothing to hold (a store only one process uses).
    pub fn none() -> MetaLock {
        MetaLock(None)
    }

    pub async fn release(mut self) {
        if let Some(guard) = self.0.take() {
            guard.release().await;
        }
    }
}

/// The advisory lock's key for `name`, as PostgreSQL hashes it.
const KEY_SQL: &str = "hashtextextended('b24pay:' || $1, 0)";

/// Waits for the advisory lock `name` on a connection taken out of the pool.
pub(super) async fn pg_advisory(pool: &PgPool, name: &str) -> Result<MetaLock, StoreError> {
    // Detached: dropping it closes the session, which releases the lock.
    let mut conn = pool.acquire().await?.detach();
    sqlx::query(&format!("SELECT pg_advisory_lock({KEY_SQL})"))
        .bind(name)
        .execute(&mut conn)
        .await?;
    Ok(MetaLock(Some(Box::new(PgAdvisory {
        conn,
        name: name.to_string(),
    }))))
}

struct PgAdvisory {
    conn: PgConnection,
    name: String,
}

#[async_trait]
impl MetaLockGuard for PgAdvisory {
    async fn release(self: Box<Self>) {
        let PgAdvisory { mut conn, name } = *self;
        let unlocked = sqlx::query(&format!("SELECT pg_advisory_unlock({KEY_SQL})"))
            .bind(&name)
            .execute(&mut conn)
            .await;
        if let Err(e) = unlocked {
            tracing::warn!(error = %e, "releasing the advisory lock failed; closing its connection");
        }
        let _ = conn.close().await;
    }
}
