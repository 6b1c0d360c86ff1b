//! Installed portals on PostgreSQL.

use super::*;
use crate::store::portal::{
    forget_sql, install_sql, uninstall_sql, InstallOutcome, PortalInstall, PortalLocation,
    PortalRow, PortalStore, PORTAL_COLUMNS,
};

fn numbered(n: usize) -> String {
    format!("${n}")
}

impl PgStore {
    async fn portal_where(
        &self,
        clause: &str,
        value: &str,
    ) -> Result<Option<PortalRow>, StoreError> {
        let sql = format!("SELECT {PORTAL_COLUMNS} FROM portals WHERE {clause}");
        Ok(sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?)
    }
}

#[async_trait]
impl PortalStore for PgStore {
    async fn portal_by_member(&self, member_id: &str) -> Result<Option<PortalRow>, StoreError> {
        self.portal_where("member_id = $1", member_id).await
    }

    async fn portal_by_public_id(&self, public_id: &str) -> Result<Option<PortalRow>, StoreError> {
        self.portal_where("public_id = $1", public_id).await
    }

    async fn portals(&self) -> Result<Vec<PortalRow>, StoreError> {
        let sql = format!("SELECT {PORTAL_COLUMNS} FROM portals ORDER BY installed_at DESC");
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    async fn portal_install(&self, i: &PortalInstall) -> Result<InstallOutcome, StoreError> {
        let sql = format!("{} RETURNING {PORTAL_COLUMNS}", install_sql(numbered));
        let row: Option<PortalRow> = sqlx::query_as(&sql)
            .bind(&i.member_id)
            .bind(&i.public_id)
            .bind(&i.domain)
            .bind(&i.origin)
            .bind(&i.client_endpoint)
            .bind(&i.app_token_hash)
            .bind(&i.tokens)
            .bind(i.now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => InstallOutcome::Stored(Box::new(row)),
            None => InstallOutcome::TokenMismatch,
        })
    }

    async fn portal_uninstall(
        &self,
        member_id: &str,
        app_token_hash: &str,
        clean: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(&uninstall_sql(clean, numbered))
            .bind(member_id)
            .bind(app_token_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn portal_forget(&self, member_id: &str, now: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(&forget_sql(numbered))
            .bind(member_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn portal_save_tokens(
        &self,
        member_id: &str,
        sealed: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE portals SET tokens = $2, updated_at = $3 WHERE member_id = $1 \
             AND state = 'installed'",
        )
        .bind(member_id)
        .bind(sealed)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn portal_moved(
        &self,
        member_id: &str,
        l: &PortalLocation,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE portals SET domain = $2, origin = $3, client_endpoint = $4, updated_at = $5 \
             WHERE member_id = $1",
        )
        .bind(member_id)
        .bind(&l.domain)
        .bind(&l.origin)
        .bind(&l.client_endpoint)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
