//! Installed portals on SQLite: reads on the reader pool, writes through the writer.

use super::*;
use crate::store::portal::{
    forget_sql, install_sql, uninstall_sql, InstallOutcome, PortalInstall, PortalLocation,
    PortalRow, PortalStore, PORTAL_COLUMNS,
};

fn numbered(n: usize) -> String {
    format!("?{n}")
}

impl SqliteStore {
    async fn portal_where(
        &self,
        clause: &'static str,
        value: String,
    ) -> Result<Option<PortalRow>, StoreError> {
        self.read(move |conn| {
            Box::pin(async move {
                let sql = format!("SELECT {PORTAL_COLUMNS} FROM portals WHERE {clause}");
                Ok(sqlx::query_as(&sql)
                    .bind(value)
                    .fetch_optional(&mut *conn)
                    .await?)
            })
        })
        .await
    }

    async fn portal_write(
        &self,
        sql: &'static str,
        binds: Vec<Option<String>>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let mut q = sqlx::query(sql);
                    for b in binds {
                        q = q.bind(b);
                    }
                    let r = q.bind(now).execute(&mut *conn).await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }
}

#[async_trait]
impl PortalStore for SqliteStore {
    async fn portal_by_member(&self, member_id: &str) -> Result<Option<PortalRow>, StoreError> {
        self.portal_where("member_id = ?1", member_id.to_string())
            .await
    }

    async fn portal_by_public_id(&self, public_id: &str) -> Result<Option<PortalRow>, StoreError> {
        self.portal_where("public_id = ?1", public_id.to_string())
            .await
    }

    async fn portals(&self) -> Result<Vec<PortalRow>, StoreError> {
        self.read(|conn| {
            Box::pin(async move {
                let sql =
                    format!("SELECT {PORTAL_COLUMNS} FROM portals ORDER BY installed_at DESC");
                Ok(sqlx::query_as(&sql).fetch_all(&mut *conn).await?)
            })
        })
        .await
    }

    async fn portal_install(&self, i: &PortalInstall) -> Result<InstallOutcome, StoreError> {
        let sql = install_sql(numbered);
        let i = i.clone();
        let stored = self
            .writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(&sql)
                        .bind(&i.member_id)
                        .bind(&i.public_id)
                        .bind(&i.domain)
                        .bind(&i.origin)
                        .bind(&i.client_endpoint)
                        .bind(&i.app_token_hash)
                        .bind(&i.tokens)
                        .bind(i.now)
                        .execute(&mut *conn)
                        .await?;
                    Ok((r.rows_affected() == 1, i.member_id))
                })
            })
            .await?;
        match stored {
            (true, member_id) => match self.portal_by_member(&member_id).await? {
                Some(row) => Ok(InstallOutcome::Stored(Box::new(row))),
                None => Err(StoreError::Corrupt(format!("portal {member_id} vanished"))),
            },
            (false, _) => Ok(InstallOutcome::TokenMismatch),
        }
    }

    async fn portal_uninstall(
        &self,
        member_id: &str,
        app_token_hash: &str,
        clean: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = uninstall_sql(clean, numbered);
        let (m, h) = (member_id.to_string(), app_token_hash.to_string());
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(&sql)
                        .bind(m)
                        .bind(h)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn portal_forget(&self, member_id: &str, now: i64) -> Result<bool, StoreError> {
        let sql = forget_sql(numbered);
        let m = member_id.to_string();
        self.writer
            .run(move |conn| {
                Box::pin(async move {
                    let r = sqlx::query(&sql)
                        .bind(m)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    Ok(r.rows_affected() == 1)
                })
            })
            .await
    }

    async fn portal_save_tokens(
        &self,
        member_id: &str,
        sealed: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.portal_write(
            "UPDATE portals SET tokens = ?2, updated_at = ?3 WHERE member_id = ?1 \
             AND state = 'installed'",
            vec![Some(member_id.into()), Some(sealed.into())],
            now,
        )
        .await
    }

    async fn portal_moved(
        &self,
        member_id: &str,
        l: &PortalLocation,
        now: i64,
    ) -> Result<(), StoreError> {
        self.portal_write(
            "UPDATE portals SET domain = ?2, origin = ?3, client_endpoint = ?4, updated_at = ?5 \
             WHERE member_id = ?1",
            vec![
                Some(member_id.into()),
                Some(l.domain.clone()),
                Some(l.origin.clone()),
                Some(l.client_endpoint.clone()),
            ],
            now,
        )
        .await?;
        Ok(())
    }
}
