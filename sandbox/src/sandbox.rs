//! Starting a sandbox and driving it from Rust.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::faults::Fault;
use crate::limits::{LeakyBucket, RateLimit};
use crate::oauth::{OAuthState, OAuthStats, OAuthTokens};
use crate::persist::{DataFile, DataFileError};
use crate::portal_format::now_unix;
use crate::state::{AppState, Config};
use crate::world::{CreatedPayment, NewPayment, PaymentSnapshot, Registry, World, WorldError};

/// The webhook code the preview and the examples use.
pub const DEFAULT_WEBHOOK_CODE: &str = "sandboxwebhookcode0000";
/// The portal user the incoming webhook belongs to.
pub const WEBHOOK_USER_ID: u64 = 1;
/// The OAuth application the token endpoint accepts by default.
pub const DEFAULT_OAUTH_CLIENT_ID: &str = "local.b24paysandbox.000001";
pub const DEFAULT_OAUTH_CLIENT_SECRET: &str = "sandboxclientsecret0000000000000000000000000000";

/// Entry point: `Sandbox::builder()…start().await`.
pub struct Sandbox;

impl Sandbox {
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

/// Configures a sandbox before it starts. Every setting has a default suitable for tests:
/// bind `127.0.0.1:0`, webhook code [`DEFAULT_WEBHOOK_CODE`], no rate limit, in memory.
#[derive(Clone, Debug)]
pub struct SandboxBuilder {
    bind: String,
    webhook_code: String,
    rate_limit: Option<RateLimit>,
    data_file: Option<PathBuf>,
    public_url: Option<String>,
    oauth_client_id: String,
    oauth_client_secret: String,
    store_name: String,
}

impl Default for SandboxBuilder {
    fn default() -> SandboxBuilder {
        SandboxBuilder {
            bind: "127.0.0.1:0".to_string(),
            webhook_code: DEFAULT_WEBHOOK_CODE.to_string(),
            rate_limit: None,
            data_file: None,
            public_url: None,
            oauth_client_id: DEFAULT_OAUTH_CLIENT_ID.to_string(),
            oauth_client_secret: DEFAULT_OAUTH_CLIENT_SECRET.to_string(),
            store_name: "Linden Street Goods".to_string(),
        }
    }
}

impl SandboxBuilder {
    /// Address to listen on, e.g. `"127.0.0.1:8081"`; port 0 picks a free port.
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.bind = addr.into();
        self
    }

    /// The secret part of the incoming webhook URL `/rest/1/{code}/`.
    pub fn webhook_code(mut self, code: impl Into<String>) -> Self {
        self.webhook_code = code.into();
        self
    }

    /// The portal's leaky bucket; `None` (the default) admits every call.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Keep the state in this JSON file: loaded at start if it exists, rewritten atomically
    /// after every change. Without it the sandbox lives in memory.
    pub fn data_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_file = Some(path.into());
        self
    }

    /// The URL the sandbox is reached at, for links, `RETURN_URL` and `client_endpoint`
    /// (default: `http://{bound address}`).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The OAuth application (`client_id`, `client_secret`) the token endpoint accepts.
    pub fn oauth_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.oauth_client_id = id.into();
        self.oauth_client_secret = secret.into();
        self
    }

    /// The seller's name shown on the payment page.
    pub fn store_name(mut self, name: impl Into<String>) -> Self {
        self.store_name = name.into();
        self
    }

    /// Binds, loads the data file (if any) and starts serving in the current Tokio runtime.
    pub async fn start(self) -> Result<SandboxHandle, StartError> {
        let listener = TcpListener::bind(&self.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.bind.clone(),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.bind.clone(),
            source,
        })?;
        let data_file = self.data_file.map(DataFile::new);
        let loaded = match &data_file {
            Some(file) => file.load()?,
            None => None,
        };
        let fresh = loaded.is_none();
        let (world, oauth) = loaded.unwrap_or_else(|| (World::initial(), OAuthState::default()));
        let public_url = self
            .public_url
            .unwrap_or_else(|| format!("http://{local_addr}"))
            .trim_end_matches('/')
            .to_string();
        let config = Config {
            webhook_user_id: WEBHOOK_USER_ID,
            webhook_code: self.webhook_code,
            public_url,
            oauth_client_id: self.oauth_client_id,
            oauth_client_secret: self.oauth_client_secret,
            store_name: self.store_name,
        };
        let state = Arc::new(AppState::new(
            config,
            world,
            oauth,
            LeakyBucket::new(self.rate_limit),
            data_file,
        ));
        if fresh {
            state.persist();
        }
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let router = crate::server::router(state.clone());
        let task = tokio::spawn(crate::server::serve(listener, router, shutdown_rx));
        tracing::info!(%local_addr, "sandbox portal listening");
        Ok(SandboxHandle {
            inner: Arc::new(Inner {
                state,
                local_addr,
                shutdown: shutdown_tx,
                task: std::sync::Mutex::new(Some(task)),
            }),
        })
    }
}

/// Why a sandbox did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    DataFile(#[from] DataFileError),
}

/// A running sandbox. Cheap to clone; the server stops at [`shutdown`](Self::shutdown) or
/// when the last clone is dropped.
#[derive(Clone)]
pub struct SandboxHandle {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<AppState>,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The webhook code is a secret: not printed.
        f.debug_struct("SandboxHandle")
            .field("local_addr", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    fn state(&self) -> &AppState {
        &self.inner.state
    }

    /// The address the sandbox listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash: where the sandbox is reached.
    pub fn base_url(&self) -> String {
        self.state().config.public_url.clone()
    }

    /// The incoming webhook URL, ending with `/`: `{base}/rest/1/{code}/`.
    pub fn webhook_url(&self) -> String {
        self.state().config.webhook_url()
    }

    /// The OAuth REST endpoint (`client_endpoint`), ending with `/`: `{base}/rest/`.
    pub fn rest_url(&self) -> String {
        format!("{}/rest/", self.state().config.public_url)
    }

    /// The emulated `https://oauth.bitrix.info/oauth/token/`: `{base}/oauth/token/`.
    pub fn oauth_token_endpoint(&self) -> String {
        format!("{}/oauth/token/", self.state().config.public_url)
    }

    /// The OAuth application's `client_id`.
    pub fn oauth_client_id(&self) -> String {
        self.state().config.oauth_client_id.clone()
    }

    /// The OAuth application's `client_secret`.
    pub fn oauth_client_secret(&self) -> String {
        self.state().config.oauth_client_secret.clone()
    }

    /// Issues a fresh access token (valid for an hour) and refresh token, as an app
    /// installation would receive them.
    pub fn issue_oauth_tokens(&self) -> OAuthTokens {
        self.state().mutate_oauth(|oauth| oauth.issue(now_unix()))
    }

    /// Makes every access token issued so far expire now; the next OAuth call with one of them
    /// gets 401 `expired_token`. Refresh tokens stay valid.
    pub fn expire_access_tokens(&self) {
        self.state()
            .mutate_oauth(|oauth| oauth.expire_all(now_unix()));
    }

    /// Successful refreshes at the token endpoint so far.
    pub fn refresh_count(&self) -> u64 {
        self.oauth_stats().refreshes
    }

    /// Successful and refused refreshes at the token endpoint.
    pub fn oauth_stats(&self) -> OAuthStats {
        self.state().read_oauth(OAuthState::stats)
    }

    /// The next `count` REST calls (of any method) fail with `fault`.
    pub fn inject(&self, fault: Fault, count: u32) {
        self.inject_for(fault, count, std::iter::empty::<&str>());
    }

    /// The next `count` calls of the given methods fail with `fault`; other methods are not
    /// affected. An empty list means any method.
    pub fn inject_for<S: AsRef<str>>(
        &self,
        fault: Fault,
        count: u32,
        methods: impl IntoIterator<Item = S>,
    ) {
        let methods: Vec<String> = methods
            .into_iter()
            .map(|m| m.as_ref().to_lowercase())
            .collect();
        let methods = (!methods.is_empty()).then_some(methods);
        self.state().faults.lock().expect("faults lock").inject(
            fault,
            count,
            methods,
            crate::rest::unix_now_f64(),
        );
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.state().faults.lock().expect("faults lock").clear();
    }

    /// Turns the leaky bucket on (with these parameters, starting empty) or off (`None`).
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.state()
            .limiter
            .lock()
            .expect("limiter lock")
            .set_limit(limit);
    }

    /// The current rate limit.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.state().limiter.lock().expect("limiter lock").limit()
    }

    /// Creates an order (or legacy invoice) with one payment.
    pub fn create_payment(&self, new: NewPayment) -> Result<CreatedPayment, WorldError> {
        create_payment(self.state(), &new)
    }

    /// Binds a payment to a pay system, as a customer choosing how to pay does. The pay system
    /// must belong to the payment's registry and the payment must not be paid yet.
    pub fn set_payment_pay_system(
        &self,
        payment_id: u64,
        pay_system_id: u64,
    ) -> Result<(), WorldError> {
        self.state()
            .mutate(|world| world.set_payment_pay_system(payment_id, pay_system_id))
    }

    /// Sets (or clears) a payment's `PS_INVOICE_ID` without paying it, as an earlier checkout
    /// attempt at the payment service would have; the payment page then posts it as
    /// `BX_SYSTEM_PARAMS.EXTERNAL_PAYMENT_ID`.
    pub fn set_external_payment_id(
        &self,
        payment_id: u64,
        external_id: Option<&str>,
    ) -> Result<(), WorldError> {
        let external_id = external_id.map(str::to_string);
        self.state()
            .mutate(|world| world.set_external_payment_id(payment_id, external_id))
    }

    /// A payment's current state.
    pub fn payment(&self, payment_id: u64) -> Option<PaymentSnapshot> {
        self.state()
            .read(|world| world.payment_snapshot(payment_id))
    }

    /// Every payment, by id.
    pub fn payments(&self) -> Vec<PaymentSnapshot> {
        self.state().read(World::snapshots)
    }

    /// Accepted `pay.payment`/`pay.invoice` calls for a payment (0 for an unknown payment).
    pub fn pay_calls(&self, payment_id: u64) -> u64 {
        self.payment(payment_id).map_or(0, |p| p.pay_calls)
    }

    /// The payment id of a legacy invoice.
    pub fn invoice_payment_id(&self, invoice_id: u64) -> Option<u64> {
        self.state()
            .read(|world| world.invoice_payment(invoice_id).map(|p| p.id))
    }

    /// How many calls of a REST method reached the method (after auth, faults and the rate
    /// limit), whatever their outcome.
    pub fn method_calls(&self, method: &str) -> u64 {
        let stats = self.state().stats.lock().expect("stats lock");
        stats
            .method_calls
            .get(&method.to_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Calls that drew [`Fault::DelayedExecution`] and have not taken effect yet.
    pub fn delayed_calls_pending(&self) -> u64 {
        self.state()
            .stats
            .lock()
            .expect("stats lock")
            .delayed_pending
    }

    /// `pay.payment`/`pay.invoice` calls for a payment answered `true` without saving
    /// ([`Fault::TrueWithoutSaving`]); 0 for an unknown payment.
    pub fn unsaved_pay_calls(&self, payment_id: u64) -> u64 {
        self.payment(payment_id).map_or(0, |p| p.unsaved_pay_calls)
    }

    /// Calls refused by the rate limit so far.
    pub fn rate_limited_calls(&self) -> u64 {
        self.state()
            .stats
            .lock()
            .expect("stats lock")
            .rejected_by_rate_limit
    }

    /// The seller's payment page for a payment: `{base}/pay/{id}`.
    pub fn pay_page_url(&self, payment_id: u64) -> String {
        format!("{}/pay/{payment_id}", self.state().config.public_url)
    }

    /// The payment page of a legacy invoice: `{base}/pay/invoice/{id}`.
    pub fn invoice_page_url(&self, invoice_id: u64) -> String {
        format!(
            "{}/pay/invoice/{invoice_id}",
            self.state().config.public_url
        )
    }

    /// The admin page listing payments, handlers and pay systems: `{base}/admin`.
    pub fn admin_url(&self) -> String {
        format!("{}/admin", self.state().config.public_url)
    }

    /// The data file, if the sandbox keeps one.
    pub fn data_file(&self) -> Option<PathBuf> {
        self.state().data_file_path()
    }

    /// Stops accepting connections, closes open ones and waits for the server to stop.
    pub async fn shutdown(self) {
        let _ = self.inner.shutdown.send(true);
        let task = self.inner.task.lock().expect("task lock").take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Creates a payment and fills in its page URL.
pub(crate) fn create_payment(
    state: &AppState,
    new: &NewPayment,
) -> Result<CreatedPayment, WorldError> {
    let mut created = state.mutate(|world| world.create_payment(new, now_unix()))?;
    created.pay_url = match created.registry {
        Registry::Order => format!("{}/pay/{}", state.config.public_url, created.payment_id),
        Registry::CrmInvoice => format!(
            "{}/pay/invoice/{}",
            state.config.public_url, created.order_id
        ),
    };
    Ok(created)
}
