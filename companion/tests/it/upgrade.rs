//! A store made before portals existed (main's migrations up to `0003_stripe_refunds`, with a
//! charged payment in it) opens with this version: the portals migration applies on top, the
//! old attempt belongs to the configured portal and still blocks a second charge of its payment
//! there, and blocks nothing on an installed portal with the same payment id.

use crate::common::*;
use b24pay_companion::portal::{PortalKey, PublicId};
use b24pay_companion::store::{self, StoreLocation};
use b24pay_protocol::ids::{AttemptId, PaySystemId, PaymentId};
use sqlx::migrate::Migrator;
use sqlx::Connection;
use std::borrow::Cow;

const ID: &str = "pa_0123456789abcdef0123456789abcdef";

/// One charged attempt, as the version before portals wrote it (no `portal` column yet).
const CHARGED: &str = "INSERT INTO attempts (id, idempotency_key, fingerprint, payment_id, \
     paysystem_id, state, amount_minor, currency, brand, last4, registry, acquirer, \
     transaction_id, created_at, updated_at) VALUES ('pa_0123456789abcdef0123456789abcdef', \
     'key-before-portals', 'f', '247', '3', 'succeeded', 1000, 'USD', 'visa', '4242', 'ORDER', \
     'test', 'tx-1', 1, 1)";

/// The migrations a store had before portals.
fn before_portals(mut migrator: Migrator) -> Migrator {
    let old: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= 3)
        .cloned()
        .collect();
    assert_eq!(old.len(), 3, "main's last migration before portals is 0003");
    migrator.migrations = Cow::Owned(old);
    migrator
}

async fn old_store(kind: StoreKind, dir: &std::path::Path) -> StoreLocation {
    match kind {
        StoreKind::Sqlite => {
            let data = dir.join("data");
            std::fs::create_dir_all(&data).unwrap();
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(data.join("b24pay.sqlite3"))
                .create_if_missing(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap();
            let migrator = before_portals(sqlx::migrate!("src/store/migrations/sqlite"));
            migrator.run(&mut conn).await.unwrap();
            sqlx::query(CHARGED).execute(&mut conn).await.unwrap();
            StoreLocation::DataDir(data)
        }
        StoreKind::Postgres => {
            let url = fresh_pg_database().await;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let migrator = before_portals(sqlx::migrate!("src/store/migrations/postgres"));
            migrator.run(&mut conn).await.unwrap();
            sqlx::query(CHARGED).execute(&mut conn).await.unwrap();
            StoreLocation::Url(url)
        }
    }
}

async fn a_store_from_before_portals_upgrades(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let location = old_store(kind, dir.path()).await;
    let store = store::open(&location)
        .await
        .expect("the old store upgrades");
    let a = store
        .attempt(&AttemptId::parse(ID).unwrap())
        .await
        .unwrap()
        .expect("the old attempt is still there");
    assert!(a.portal.is_configured(), "{:?}", a.portal);
    let (ps, payment) = (
        PaySystemId::from_u64(3).unwrap(),
        PaymentId::from_u64(247).unwrap(),
    );
    let live = store
        .live_attempt(&PortalKey::configured(), ps, payment)
        .await
        .unwrap();
    assert_eq!(live.map(|l| l.id.as_str().to_string()), Some(ID.into()));
    let other = PortalKey::installed(&PublicId::generate());
    assert!(store
        .live_attempt(&other, ps, payment)
        .await
        .unwrap()
        .is_none());
    assert!(store.portal_by_member("no-such").await.unwrap().is_none());
}

both_stores!(a_store_from_before_portals_upgrades);
