//! The durable store: payment attempts, the outbox of portal calls, server metadata and the test
//! acquirer's ledger. SQLite by default (one file under the data directory), PostgreSQL when
//! `DATABASE_URL` says so. Both implement [`Store`] with the same semantics; the exactly-once
//! rules are enforced by the database (unique constraints, conditional updates, row locks), so
//! several companion instances can share one PostgreSQL.

mod lock;
mod postgres;
mod sqlite;

pub use lock::{MetaLock, MetaLockGuard};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use b24pay_protocol::api::{CardSummary, DeclineCode, NextAction, PaymentState, PaymentView};
use b24pay_protocol::{Currency, Money};
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

/// Which portal call marks the payment paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registry {
    /// `sale.paysystem.pay.payment` (orders, deals, smart invoices).
    Order,
    /// `sale.paysystem.pay.invoice` (legacy CRM invoices).
    CrmInvoice,
}

impl Registry {
    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Order => "ORDER",
            Registry::CrmInvoice => "CRM_INVOICE",
        }
    }
    pub fn parse(text: &str) -> Option<Registry> {
        match text.trim().to_ascii_uppercase().as_str() {
            "ORDER" => Some(Registry::Order),
            "CRM_INVOICE" => Some(Registry::CrmInvoice),
            _ => None,
        }
    }
}

pub fn state_str(state: PaymentState) -> &'static str {
    match state {
        PaymentState::Processing => "processing",
        PaymentState::RequiresAction => "requires_action",
        PaymentState::Succeeded => "succeeded",
        PaymentState::Declined => "declined",
        PaymentState::Failed => "failed",
    }
}

fn parse_state(text: &str) -> Option<PaymentState> {
    Some(match text {
        "processing" => PaymentState::Processing,
        "requires_action" => PaymentState::RequiresAction,
        "succeeded" => PaymentState::Succeeded,
        "declined" => PaymentState::Declined,
        "failed" => PaymentState::Failed,
        _ => return None,
    })
}

pub fn parse_decline(text: &str) -> Option<DeclineCode> {
    Some(match text {
        "generic_decline" => DeclineCode::GenericDecline,
        "insufficient_funds" => DeclineCode::InsufficientFunds,
        "expired_card" => DeclineCode::ExpiredCard,
        "incorrect_cvc" => DeclineCode::IncorrectCvc,
        "processing_error" => DeclineCode::ProcessingError,
        "challenge_failed" => DeclineCode::ChallengeFailed,
        _ => return None,
    })
}

/// The row as stored (column names match the schema).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub payment_id: String,
    pub paysystem_id: String,
    pub state: String,
    pub decline_code: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub brand: String,
    pub last4: String,
    pub registry: String,
    pub order_id: Option<String>,
    pub transaction_id: Option<String>,
    pub challenge_ref: Option<String>,
    pub challenge_code_length: Option<i64>,
    pub challenge_key: Option<String>,
    pub challenge_fingerprint: Option<String>,
    pub portal_notified: bool,
    pub lease_until: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub acquirer: String,
}

/// One payment attempt, typed.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub payment_id: String,
    pub paysystem_id: String,
    pub state: PaymentState,
    pub decline_code: Option<DeclineCode>,
    pub amount: Money,
    pub brand: String,
    pub last4: String,
    pub registry: Registry,
    pub order_id: Option<String>,
    pub transaction_id: Option<String>,
    pub challenge_ref: Option<String>,
    pub challenge_code_length: Option<u8>,
    pub challenge_key: Option<String>,
    pub challenge_fingerprint: Option<String>,
    pub portal_notified: bool,
    pub lease_until: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Which acquirer charges it ("test" or "live").
    pub acquirer: String,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;
    fn try_from(r: AttemptRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("attempt {}: {what}", r.id));
        let currency = Currency::parse(&r.currency).ok_or_else(|| corrupt("currency"))?;
        Ok(Attempt {
            state: parse_state(&r.state).ok_or_else(|| corrupt("state"))?,
            decline_code: match &r.decline_code {
                Some(c) => Some(parse_decline(c).ok_or_else(|| corrupt("decline_code"))?),
                None => None,
            },
            amount: Money {
                minor: u64::try_from(r.amount_minor).map_err(|_| corrupt("amount"))?,
                currency,
            },
            registry: Registry::parse(&r.registry).ok_or_else(|| corrupt("registry"))?,
            challenge_code_length: r.challenge_code_length.map(|n| n.clamp(0, 255) as u8),
            id: r.id,
            idempotency_key: r.idempotency_key,
            fingerprint: r.fingerprint,
            payment_id: r.payment_id,
            paysystem_id: r.paysystem_id,
            brand: r.brand,
            last4: r.last4,
            order_id: r.order_id,
            transaction_id: r.transaction_id,
            challenge_ref: r.challenge_ref,
            challenge_key: r.challenge_key,
            challenge_fingerprint: r.challenge_fingerprint,
            portal_notified: r.portal_notified,
            lease_until: r.lease_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
            acquirer: r.acquirer,
        })
    }
}

impl Attempt {
    pub fn view(&self) -> PaymentView {
        PaymentView {
            id: self.id.clone(),
            state: self.state,
            decline_code: self.decline_code,
            action: match (self.state, self.challenge_code_length) {
                (PaymentState::RequiresAction, Some(code_length)) => {
                    Some(NextAction::Challenge { code_length })
                }
                _ => None,
            },
            portal_notified: self.portal_notified,
            test_mode: self.acquirer == "test",
            amount: self.amount.to_decimal_string(),
            currency: self.amount.currency.code().to_string(),
            card: CardSummary {
                brand: self.brand.clone(),
                last4: self.last4.clone(),
            },
        }
    }
}

/// What a new attempt starts with (state `processing`, leased to its creator).
#[derive(Clone, Debug)]
pub struct NewAttempt {
    pub id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub payment_id: String,
    pub paysystem_id: String,
    pub amount: Money,
    pub brand: String,
    pub last4: String,
    pub registry: Registry,
    pub order_id: Option<String>,
    pub acquirer: String,
    pub lease_until: i64,
    pub now: i64,
}

#[derive(Debug)]
pub enum InsertOutcome {
    Inserted,
    /// Another attempt already holds this idempotency key.
    KeyTaken,
    /// Another attempt for the same portal payment is in flight, awaiting its challenge, or
    /// charged.
    PaymentBusy,
}

#[derive(Debug)]
pub enum TakeOver {
    Taken,
    /// The attempt was not in the expected state (or its lease had not expired).
    Lost,
    /// Another attempt for the same payment became live meanwhile.
    PaymentBusy,
}

/// How a charge ended, as recorded on the attempt.
#[derive(Clone, Debug)]
pub enum Outcome {
    Succeeded {
        transaction_id: String,
        outbox_payload: String,
    },
    Declined(DeclineCode),
    /// Transient processing error: nothing charged, may be retried with the same key.
    Failed,
    RequiresAction {
        reference: String,
        code_length: u8,
    },
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub attempt_id: String,
    pub payload: String,
    /// Claims so far, including this one.
    pub tries: i64,
    /// Tries that failed in a way that proves the portal did not act on them.
    pub clean_failures: i64,
}

impl OutboxItem {
    /// True when an earlier try may have reached the portal (a timeout, a dropped connection,
    /// a crash mid-call): the payment's PAID flag must be re-read before calling again.
    pub fn in_doubt(&self) -> bool {
        self.tries - 1 > self.clean_failures
    }
}

/// One charge as the test acquirer's ledger records it.
#[derive(Clone, Debug)]
pub struct LedgerCharge {
    pub idempotency_key: String,
    pub transaction_id: String,
    pub amount: Money,
    pub last4: String,
    /// `paysystem_id/payment_id`, so tests can count charges per portal payment.
    pub reference: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres", for logs and metrics.
    fn kind(&self) -> &'static str;
    async fn ping(&self) -> Result<(), StoreError>;

    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn meta_put(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Stores `value` unless the key exists; returns what is stored either way.
    async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError>;
    /// Waits until no other process sharing this store holds `name`, and holds it until the
    /// lock is released or dropped (the OAuth token refresh).
    async fn meta_lock(&self, name: &str) -> Result<MetaLock, StoreError>;

    async fn attempt(&self, id: &str) -> Result<Option<Attempt>, StoreError>;
    async fn attempt_by_key(&self, key: &str) -> Result<Option<Attempt>, StoreError>;
    /// The attempt that blocks new ones for this payment, if any.
    async fn live_attempt(
        &self,
        paysystem_id: &str,
        payment_id: &str,
    ) -> Result<Option<Attempt>, StoreError>;
    async fn insert_attempt(&self, new: &NewAttempt) -> Result<InsertOutcome, StoreError>;
    /// Moves an attempt from `from` (`failed`, or `processing` with an expired lease) back to
    /// `processing` under a new lease.
    async fn take_over(
        &self,
        id: &str,
        from: PaymentState,
        lease_until: i64,
        now: i64,
    ) -> Result<TakeOver, StoreError>;
    /// `requires_action` → `processing`, remembering the challenge call's key and fingerprint.
    async fn begin_challenge(
        &self,
        id: &str,
        key: &str,
        fingerprint: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Records how a `processing` attempt ended; for a success, the outbox row is written in the
    /// same transaction. False when the attempt was no longer `processing`.
    async fn record_outcome(
        &self,
        id: &str,
        outcome: &Outcome,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Gives up a `requires_action` attempt whose challenge was abandoned.
    async fn expire_challenge(&self, id: &str, now: i64) -> Result<bool, StoreError>;

    /// Leases up to `limit` due outbox rows until `lease_until`.
    async fn outbox_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// Marks rows delivered and their attempts `portal_notified`, in one transaction.
    async fn outbox_done(&self, items: &[(i64, String)], now: i64) -> Result<(), StoreError>;
    async fn outbox_retry(
        &self,
        id: i64,
        next_at: i64,
        clean: bool,
        error: &str,
    ) -> Result<(), StoreError>;
    async fn outbox_depth(&self) -> Result<i64, StoreError>;
    /// When the earliest pending row becomes due.
    async fn outbox_next_due(&self) -> Result<Option<i64>, StoreError>;

    /// Records a charge under its idempotency key; a repeated key returns the first charge's
    /// transaction id and records nothing.
    async fn ledger_charge(&self, charge: &LedgerCharge) -> Result<String, StoreError>;
    async fn ledger_find(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Charges for one `paysystem_id/payment_id` reference, or all of them.
    async fn ledger_count(&self, reference: Option<&str>) -> Result<i64, StoreError>;
}

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
