//! The durable store: payment attempts and their history, the outbox of portal calls, server
//! metadata and the test acquirer's ledger. SQLite by default (one file under the data
//! directory), PostgreSQL when `DATABASE_URL` says so. Both implement [`Store`] with the same
//! semantics; the exactly-once rules are enforced by the database (unique constraints, fenced
//! conditional updates, row locks), so several companion instances can share one PostgreSQL.
//!
//! [`attempt`] (attempts and their states), [`outbox`] (portal calls owed), [`refund`]
//! (refunds of charged attempts), [`ledger`] (the test acquirer's records), [`portal`] (portals
//! that installed the app); [`sqlite`] and [`postgres`] implement [`Store`].

pub mod attempt;
pub mod ledger;
mod lock;
pub mod outbox;
pub mod portal;
mod postgres;
pub mod refund;
mod sqlite;

pub use attempt::{
    Attempt, AttemptFilter, AttemptRow, AttemptState, AttemptStore, Due, InsertOutcome, Lease,
    LogEntry, NewAttempt, Settlement,
};
pub use b24pay_protocol::ids::Registry;
pub use ledger::{LedgerEntry, LedgerRefund, LedgerStatus, LedgerStore, RefundResult};
pub use lock::{MetaLock, MetaLockGuard};
pub use outbox::{OutboxItem, OutboxRetry, OutboxRow, OutboxState, OutboxStore};
pub use portal::{
    InstallOutcome, PortalInstall, PortalLocation, PortalRow, PortalState, PortalStore,
};
pub use postgres::PgStore;
pub use refund::{
    NewRefund, Refund, RefundInsert, RefundOrigin, RefundState, RefundStore, RefundUpdate,
};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub type SharedStore = Arc<dyn Store>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The SQLite writer task is gone (the runtime is shutting down).
    #[error("the database writer has stopped")]
    WriterStopped,
}

/// Milliseconds since the Unix epoch: every timestamp in the store.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The whole store, as the companion holds it (`Arc<dyn Store>`).
#[async_trait]
pub trait Store:
    MetaStore + AttemptStore + OutboxStore + RefundStore + LedgerStore + PortalStore + 'static
{
    /// "sqlite" or "postgres", for logs and metrics.
    fn kind(&self) -> &'static str;
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Server-wide values (keys, persisted tokens).
#[async_trait]
pub trait MetaStore: Send + Sync {
    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn meta_put(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Stores `value` unless the key exists; returns what is stored either way.
    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError>;
    /// Waits until no other process sharing this store holds `name`, and holds it until the
    /// lock is released or dropped (the OAuth token refresh).
    async fn meta_lock(&self, name: &str) -> Result<MetaLock, StoreError>;
    /// Replaces `key`'s value with what `update` makes of it (`None` when there is none yet),
    /// atomically for every process sharing the store (the portal's request budget).
    async fn meta_update(&self, key: &str, update: MetaUpdate) -> Result<(), StoreError>;
}

/// The change [`MetaStore::meta_update`] applies to a value.
pub type MetaUpdate = Box<dyn FnOnce(Option<String>) -> String + Send>;

/// Where the store lives. `Debug` hides a URL's password.
#[derive(Clone)]
pub enum StoreLocation {
    /// `postgres://…` or `sqlite:…` as given.
    Url(String),
    /// `b24pay.sqlite3` inside this directory (created when missing).
    DataDir(std::path::PathBuf),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Url(url) => f.debug_tuple("Url").field(&redact_url(url)).finish(),
            StoreLocation::DataDir(dir) => f.debug_tuple("DataDir").field(dir).finish(),
        }
    }
}

/// `url` without its password (user info or a `password`/`sslpassword` query parameter).
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Unparsable: say nothing about what follows the scheme.
        return format!("{}:***", url.split(':').next().unwrap_or_default());
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let secret = k.to_ascii_lowercase().contains("pass");
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

pub async fn open(location: &StoreLocation) -> Result<SharedStore, StoreError> {
    match location {
        StoreLocation::Url(url)
            if url.starts_with("postgres:") || url.starts_with("postgresql:") =>
        {
            Ok(Arc::new(PgStore::connect(url).await?))
        }
        StoreLocation::Url(url) => Ok(Arc::new(SqliteStore::connect_url(url).await?)),
        StoreLocation::DataDir(dir) => Ok(Arc::new(SqliteStore::open_dir(dir).await?)),
    }
}

/// Creates `dir` (and parents) when missing.
fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    ensure_private_dir(dir).map_err(|source| StoreError::DataDir {
        path: dir.display().to_string(),
        source,
    })
}

/// Creates `dir` (and missing parents) readable by its owner only (0700); warns when an
/// existing one is open to other users.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if let Ok(meta) = std::fs::metadata(dir) {
            if meta.is_dir() && meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(dir = %dir.display(), "the data directory is accessible to other users; chmod 700 it");
            }
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}
