//! A typed Bitrix24 REST client for the pay-system methods (`sale.paysystem.*`).
//!
//! - Auth: an incoming webhook URL, or OAuth tokens that are refreshed on `expired_token`
//!   (one refresh for any number of concurrent calls; new tokens go to a [`TokenStore`], whose
//!   lock and reload let several processes share one app's tokens).
//! - Politeness: a client-side leaky bucket ([`RateLimit`]) with a share kept for background
//!   calls ([`Priority`], [`Client::with_priority`]), which several processes can share
//!   ([`SharedBudget`] over levels kept in their database), per-request timeout, retries with
//!   exponential backoff and jitter that honour `operating_reset_at` ([`RetryConfig`]).
//! - Robustness: absurd `Retry-After`, `operating_reset_at` or `expires_in` values, giant
//!   bodies and descriptions are bounded, never a panic or an endless wait.
//! - Safety: calls with side effects are repeated after an ambiguous failure only when the
//!   caller says so ([`Retry::Safe`]). Secrets never appear in `Debug`, errors or logs.
//!
//! | calls | retried after |
//! |---|---|
//! | reads (`*_list`, `settings_get`, `settings_*_get`) and updates | every retryable error |
//! | `handler_add`, `paysystem_add`, `*_delete`, `pay_payment`, `pay_invoice`, `call` | per call: [`Retry::Safe`] every retryable error; [`Retry::IfNotExecuted`] only 503 `QUERY_LIMIT_EXCEEDED`, 429 `OPERATION_TIME_LIMIT`, refused connections; [`Retry::Never`] nothing |
//!
//! [`Client::batch`] sends up to 50 commands ([`Batch`]) in one request, which the portal's
//! leaky bucket counts once; each command has its own outcome ([`CommandResult`]), and a
//! failed command is not a failed batch.
//!
//! An expired OAuth token is refreshed and the call sent again once in every case (the portal
//! refused it before executing it). Every call is bounded by [`RetryConfig::max_attempts`]
//! and [`RetryConfig::max_total`], which also caps rate-limit waits and the per-request timeout.
//!
//! ```no_run
//! # async fn run() -> Result<(), bitrix24_client::Error> {
//! use bitrix24_client::{Auth, Client, PayPayment, PsExtras, Retry};
//! let client = Client::builder(Auth::webhook("https://portal.bitrix24.ru/rest/1/abc123/")?).build()?;
//! let settings = client.settings_payment_get(247, 5).await?;
//! let sum = settings.get("B24PAY_PAYMENT_SUM");
//! let pay = PayPayment { payment_id: 247, paysystem_id: 5, extras: PsExtras::default() };
//! client.pay_payment(&pay, Retry::IfNotExecuted).await?;
//! # let _ = sum; Ok(()) }
//! ```

mod auth;
mod batch;
mod budget;
mod client;
mod envelope;
mod error;
mod handler;
mod lenient;
mod oauth;
mod pay;
mod paysystem;
mod rate_limit;
mod retry;
mod secret;
mod settings;
mod transport;

pub use auth::{
    Auth, BoxError, BoxFuture, MemoryTokenStore, OAuth, OAuthConfig, OAuthTokens, TokenLock,
    TokenLockGuard, TokenStore, Webhook, DEFAULT_TOKEN_ENDPOINT,
};
pub use batch::{
    Batch, BatchResults, CommandOutcome, CommandResult, CommandTime, MAX_BATCH_COMMANDS,
};
pub use budget::{Budget, SharedBudget, SharedLevels};
pub use client::{Client, ClientBuilder, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
pub use error::{Call, Error, MethodError, ProtocolKind, RetryClass, SystemError, TransportKind};
pub use handler::{
    CheckoutData, ClientType, CodeSpec, CustomField, DefaultValue, EnumOptions, FieldCode,
    FieldSpec, FormData, Handler, HandlerAdd, HandlerSettings, HandlerUpdate, IframeData,
    InputSpec, InputType, Provider,
};
pub use pay::{PayInvoice, PayPayment, PaySystemRef, PsExtras};
pub use paysystem::{
    EntityRegistryType, ListQuery, PaySystem, PaySystemAdd, PaySystemUpdate, SettingValue,
    Settings, SortOrder,
};
pub use rate_limit::{Bucket, Change, Levels, Priority, RateLimit, Rules};
pub use retry::{Retry, RetryConfig};
pub use secret::Secret;
pub use settings::SettingsUpdate;
