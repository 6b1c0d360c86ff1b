//! [`SandboxHandle`]: a running sandbox, driven from Rust.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::StartError;
use crate::app::{AppError, AppEvent, AppInstalled, AppStatus};
use crate::faults::Fault;
use crate::limits::RateLimit;
use crate::oauth::{OAuthState, OAuthStats, OAuthTokens};
use crate::portal_format::now_unix;
use crate::server::Listeners;
use crate::state::AppState;
use crate::world::{CreatedPayment, NewPayment, PaymentSnapshot, World, WorldError};

/// A running sandbox. Cheap to clone; the server stops at [`shutdown`](Self::shutdown) or
/// when the last clone is dropped.
#[derive(Clone)]
pub struct SandboxHandle {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<AppState>,
    listeners: Arc<Listeners>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listeners.stop();
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The webhook code is a secret: not printed.
        f.debug_struct("SandboxHandle")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    pub(super) fn new(state: Arc<AppState>, listeners: Arc<Listeners>) -> SandboxHandle {
        SandboxHandle {
            inner: Arc::new(Inner { state, listeners }),
        }
    }

    pub(crate) fn state(&self) -> &Arc<AppState> {
        &self.inner.state
    }

    /// The address the sandbox listens on (the newest one after [`move_to`](Self::move_to)).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner
            .listeners
            .local_addr()
            .expect("a started portal listens")
    }

    /// The portal's `member_id`.
    pub fn member_id(&self) -> String {
        self.state().config.member_id.clone()
    }

    /// Moves the portal to a new address (as a portal renamed or moved to another domain):
    /// it listens on `bind` too, everything names the new address from now on (links, the
    /// token endpoint's `client_endpoint`), and REST calls, pages and the admin at the old
    /// address get `301` with `Location` at the new one. Returns the new base URL.
    pub async fn move_to(&self, bind: &str) -> Result<String, StartError> {
        crate::moved::move_portal(self.state(), bind).await
    }

    /// The local CA's certificate file when the sandbox serves HTTPS
    /// ([`SandboxBuilder::https`](crate::SandboxBuilder::https)): what clients trust.
    pub fn ca_certificate(&self) -> Option<PathBuf> {
        self.state().config.ca_file.clone()
    }

    /// `http://127.0.0.1:PORT` (or `https://…`), no trailing slash: where the sandbox is
    /// reached.
    pub fn base_url(&self) -> String {
        self.state().public_url()
    }

    /// The incoming webhook URL, ending with `/`: `{base}/rest/1/{code}/`.
    pub fn webhook_url(&self) -> String {
        self.state().webhook_url()
    }

    /// The OAuth REST endpoint (`client_endpoint`), ending with `/`: `{base}/rest/`.
    pub fn rest_url(&self) -> String {
        format!("{}/rest/", self.state().public_url())
    }

    /// The emulated `https://oauth.bitrix.info/oauth/token/`: `{base}/oauth/token/`.
    pub fn oauth_token_endpoint(&self) -> String {
        format!("{}/oauth/token/", self.state().public_url())
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
        super::create_payment(self.state(), &new)
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

    /// REST requests received so far, admitted by the rate limit or not: a `batch` is one,
    /// whatever it holds.
    pub fn requests(&self) -> u64 {
        self.state().stats.lock().expect("stats lock").requests
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
        format!("{}/pay/{payment_id}", self.state().public_url())
    }

    /// The payment page of a legacy invoice: `{base}/pay/invoice/{id}`.
    pub fn invoice_page_url(&self, invoice_id: u64) -> String {
        format!("{}/pay/invoice/{invoice_id}", self.state().public_url())
    }

    /// The admin page listing payments, handlers and pay systems: `{base}/admin`.
    pub fn admin_url(&self) -> String {
        format!("{}/admin", self.state().public_url())
    }

    /// The data file, if the sandbox keeps one.
    pub fn data_file(&self) -> Option<PathBuf> {
        self.state().data_file_path()
    }

    /// Stops accepting connections, closes open ones and waits for the server to stop.
    pub async fn shutdown(self) {
        self.inner.listeners.shutdown().await;
    }

    /// Installs the configured app ([`SandboxBuilder::app`](crate::SandboxBuilder::app)):
    /// fresh tokens and `application_token`, and `ONAPPINSTALL` POSTed to its handler.
    pub async fn install_app(&self) -> Result<AppInstalled, AppError> {
        crate::app::install(self.state()).await
    }

    /// Uninstalls the app: every token stops working and `ONAPPUNINSTALL` is POSTed, with
    /// `data[CLEAN]=1` when `clean` (the admin asked to delete the app's data).
    pub async fn uninstall_app(&self, clean: bool) -> Result<AppEvent, AppError> {
        crate::app::uninstall(self.state(), clean).await
    }

    /// The app, its installation and the events sent to it.
    pub fn app_status(&self) -> Result<AppStatus, AppError> {
        crate::app::status(self.state())
    }

    /// The portal page that opens the app's install page: `{base}/admin/app`.
    pub fn app_install_page_url(&self) -> String {
        format!("{}/admin/app", self.state().public_url())
    }

    /// The stand-in for the BX24 JS library (`api.bitrix24.com/api/v1/`): `{base}/api/v1/`.
    pub fn bx24_script_url(&self) -> String {
        format!("{}/api/v1/", self.state().public_url())
    }
}
