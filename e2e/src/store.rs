//! Where the companion keeps its data (SQLite in a data directory, or a fresh PostgreSQL
//! database on the server `B24PAY_TEST_DATABASE_URL` names), and reading the test acquirer's
//! ledger from it: the charges actually made, per portal payment.

use b24pay_companion::store::{self, SharedStore, StoreLocation};
use std::path::Path;

pub use b24pay_testkit::{fresh_pg_database, pg_url, StoreKind};

/// The store location for a new companion: a data directory under `dir` for SQLite, a fresh
/// database for PostgreSQL.
pub async fn location(kind: StoreKind, dir: &Path) -> StoreLocation {
    match kind {
        StoreKind::Sqlite => StoreLocation::DataDir(dir.join("data")),
        StoreKind::Postgres => {
            let server = pg_url().expect("the caller checked B24PAY_TEST_DATABASE_URL");
            StoreLocation::Url(fresh_pg_database(&server).await)
        }
    }
}

/// Environment variables that point `b24pay` at a store.
pub fn env(location: &StoreLocation) -> (&'static str, String) {
    match location {
        StoreLocation::DataDir(dir) => ("B24PAY_DATA_DIR", dir.display().to_string()),
        StoreLocation::Url(url) => ("DATABASE_URL", url.clone()),
    }
}

/// The companion's store, opened from the test process (SQLite in WAL mode and PostgreSQL both
/// allow a second reader next to the running companion).
pub struct Ledger {
    store: SharedStore,
}

impl Ledger {
    pub async fn open(location: &StoreLocation) -> Ledger {
        Ledger {
            store: store::open(location)
                .await
                .unwrap_or_else(|e| panic!("cannot open the companion's store: {e}")),
        }
    }

    /// Charges the test acquirer recorded for one portal payment.
    pub async fn charges(&self, paysystem_id: u64, payment_id: u64) -> i64 {
        self.store
            .ledger_count(Some(&format!("{paysystem_id}/{payment_id}")))
            .await
            .expect("ledger readable")
    }

    /// Every charge recorded.
    pub async fn all_charges(&self) -> i64 {
        self.store
            .ledger_count(None)
            .await
            .expect("ledger readable")
    }

    /// Portal calls owed and not yet delivered.
    pub async fn outbox_depth(&self) -> i64 {
        self.store.outbox_depth().await.expect("outbox readable")
    }

    /// Attempts not settled yet (processing, requires_action, unknown), with their states.
    pub async fn unsettled(&self) -> Vec<String> {
        self.store
            .list_attempts(b24pay_companion::store::AttemptFilter::Unsettled, 1000)
            .await
            .expect("attempts readable")
            .into_iter()
            .map(|a| format!("{} {}", a.id, a.state))
            .collect()
    }
}
