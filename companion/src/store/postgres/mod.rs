//! PostgreSQL, for several companion instances behind a load balancer. The same rules as SQLite;
//! claims add `FOR UPDATE SKIP LOCKED` so instances never take the same rows. [`attempts`],
//! [`outbox`] and [`ledger`] hold each part's SQL.

mod attempts;
mod ledger;
mod outbox;
mod portals;
mod refunds;

use super::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pool: PgPool,
}

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
}

#[async_trait]
impl MetaStore for PgStore {
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
        super::lock::pg_advisory(&self.pool, name).await
    }

    async fn meta_update(&self, key: &str, update: MetaUpdate) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // The row first, so that `FOR UPDATE` has something to lock even the first time.
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, '') ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1 FOR UPDATE")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        let value = Some(value).filter(|v| !v.is_empty());
        sqlx::query("UPDATE meta SET value = $2 WHERE key = $1")
            .bind(key)
            .bind(update(value))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
