//! [`Portal`] over the real REST client (`bitrix24-client`), webhook or OAuth; OAuth tokens are
//! persisted (encrypted) in the store so a refreshed (single-use) refresh token survives
//! restarts and is shared by every instance ([`super::tokens`]). The outbox's calls
//! (`mark_paid`, `is_paid`) have the background priority: customers cannot use up their share
//! of the portal's request budget.

use super::batched::{answered_false, Pay};
use super::budget::StoreLevels;
use super::coalesce::{Coalescer, Read};
use super::facts::{invoice_checked, invoice_read, map_error, payment_read};
use super::tokens::StoreTokens;
use super::*;
use crate::config::{AppSettings, PortalAuth, PortalSettings};
use crate::keys::Subkey;
use crate::store::SharedStore;
use b24pay_protocol::ids::PaySystemId;
use bitrix24_client::{
    Auth, Client, ListQuery, OAuthConfig, OAuthTokens, Priority, RateLimit, Retry, RetryConfig,
    Rules, SharedBudget, TokenStore,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the pay-system list is trusted; a registry change reaches us within this.
const PAY_SYSTEM_TTL: Duration = Duration::from_secs(60);
/// `/readyz` is polled often; the portal's rate limit is small.
const PING_TTL: Duration = Duration::from_secs(10);
/// How long a customer's verification waits for others to share its batch.
pub const COALESCE_WINDOW: Duration = Duration::from_millis(3);

/// What an installed portal's client is built from (its `portals` row, tokens opened).
pub struct Installed<'a> {
    pub member_id: &'a str,
    pub client_endpoint: &'a str,
    pub tokens: OAuthTokens,
    pub token_store: Arc<dyn TokenStore>,
}

pub struct Bitrix24Portal {
    client: Client,
    pay_systems: Mutex<Option<(Instant, HashMap<PaySystemId, PaySystem>)>>,
    /// One list call at a time: concurrent cold lookups wait for the same refresh.
    refresh: tokio::sync::Mutex<()>,
    last_ping: Mutex<Option<Instant>>,
    /// Customers' settings reads, coalesced into batches; `None` when batching is off.
    coalescer: Option<Coalescer>,
}

impl Bitrix24Portal {
    /// A legacy invoice's payment, read by invoice id and checked to be this very payment.
    async fn invoice_facts(&self, r: &PaymentRef) -> Result<PaymentFacts, PortalError> {
        let map = self.read(invoice_read(r)?).await?;
        invoice_checked(r, &map)
    }

    /// A settings read: in a batch with other customers' when batching is on.
    async fn read(&self, read: Read) -> Result<BTreeMap<String, String>, PortalError> {
        let answer = match &self.coalescer {
            Some(coalescer) => coalescer.read(read).await,
            None => read.alone(&self.client).await,
        };
        answer.map_err(|e| map_error(&e))
    }

    /// Over `client`, one call per read (no batching).
    pub fn new(client: Client) -> Bitrix24Portal {
        Bitrix24Portal {
            client,
            pay_systems: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            last_ping: Mutex::new(None),
            coalescer: None,
        }
    }

    /// Over `client`, concurrent customers' reads coalesced into batches within `window`, and
    /// the outbox's calls sent in batches.
    pub fn batched(client: Client, window: Duration) -> Bitrix24Portal {
        let coalescer = Coalescer::new(client.clone(), window);
        Bitrix24Portal {
            coalescer: Some(coalescer),
            ..Bitrix24Portal::new(client)
        }
    }

    pub fn is_batched(&self) -> bool {
        self.coalescer.is_some()
    }

    /// The portal configured in the file (webhook or OAuth); its request budget is kept in the
    /// store under its origin.
    pub async fn connect(
        settings: &PortalSettings,
        store: SharedStore,
        token_key: Subkey,
    ) -> Result<Bitrix24Portal, String> {
        let auth = auth(settings, store.clone(), token_key).await?;
        let levels = StoreLevels::new(store, &settings.origin);
        Bitrix24Portal::over(auth, settings, levels)
    }

    /// A portal that installed the app: its own client, token refreshes and request budget
    /// (kept in the store under its `member_id`, so no other portal spends it and it survives
    /// a move to another domain).
    pub fn installed(
        settings: &PortalSettings,
        app: &AppSettings,
        installed: Installed<'_>,
        store: SharedStore,
    ) -> Result<Bitrix24Portal, String> {
        let config = OAuthConfig::new(
            installed.client_endpoint,
            app.client_id.clone(),
            app.client_secret.expose(),
        )
        .and_then(|c| c.with_token_endpoint(app.token_endpoint.as_str()))
        .map_err(|e| e.to_string())?;
        let auth = Auth::oauth(config, installed.tokens, installed.token_store);
        let levels = StoreLevels::installed(store, installed.member_id);
        Bitrix24Portal::over(auth, settings, levels)
    }

    /// The client as configured: retries bounded so a customer's request fails in seconds,
    /// not minutes (the outbox retries on its own schedule); the rate limit is a budget kept in
    /// the store (`levels`: this portal's row), which every instance on it shares.
    fn over(
        auth: Auth,
        settings: &PortalSettings,
        levels: StoreLevels,
    ) -> Result<Bitrix24Portal, String> {
        let mut builder = Client::builder(auth)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .rate_limit(None)
            .retry(RetryConfig {
                max_attempts: 3,
                base_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(2),
                max_total: settings.timeout.min(Duration::from_secs(10)),
            })
            .user_agent(concat!("b24pay-companion/", env!("CARGO_PKG_VERSION")));
        if let Some((per_second, burst)) = settings.rate_limit {
            let rules = Rules::new(RateLimit { per_second, burst }, settings.customer_share);
            builder = builder.budget(Arc::new(SharedBudget::new(Arc::new(levels), rules)));
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(if settings.batch {
            Bitrix24Portal::batched(client, COALESCE_WINDOW)
        } else {
            Bitrix24Portal::new(client)
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client with the outbox's priority in the portal's request budget.
    fn background_client(&self) -> Client {
        self.client.with_priority(Priority::Background)
    }

    async fn load_pay_systems(&self) -> Result<HashMap<PaySystemId, PaySystem>, PortalError> {
        let list = self
            .client
            .paysystem_list(&ListQuery::all())
            .await
            .map_err(|e| map_error(&e))?;
        Ok(list
            .into_iter()
            .filter_map(|p| {
                let id = PaySystemId::from_u64(p.id?).ok()?;
                let registry = match p.registry() {
                    Some(bitrix24_client::EntityRegistryType::CrmInvoice) => Registry::CrmInvoice,
                    _ => Registry::Order,
                };
                let ours = p.handler_code() == Some(HANDLER_CODE) && p.active != Some(false);
                Some((id, PaySystem { registry, ours }))
            })
            .collect())
    }

    fn cached(&self, id: PaySystemId) -> Option<Option<PaySystem>> {
        let guard = self.pay_systems.lock().expect("not poisoned");
        match &*guard {
            Some((at, map)) if at.elapsed() < PAY_SYSTEM_TTL => Some(map.get(&id).cloned()),
            _ => None,
        }
    }
}

#[async_trait]
impl Portal for Bitrix24Portal {
    async fn payment_facts(&self, r: &PaymentRef) -> Result<PaymentFacts, PortalError> {
        match r.registry {
            Registry::Order => facts_from_settings(&self.read(payment_read(r)).await?),
            Registry::CrmInvoice => self.invoice_facts(r).await,
        }
    }

    async fn pay_system(&self, paysystem_id: PaySystemId) -> Result<PaySystem, PortalError> {
        if let Some(found) = self.cached(paysystem_id) {
            return found
                .ok_or_else(|| PortalError::NotFound(format!("pay system {paysystem_id}")));
        }
        let _one_at_a_time = self.refresh.lock().await;
        if let Some(found) = self.cached(paysystem_id) {
            return found
                .ok_or_else(|| PortalError::NotFound(format!("pay system {paysystem_id}")));
        }
        let map = self.load_pay_systems().await?;
        let found = map.get(&paysystem_id).cloned();
        *self.pay_systems.lock().expect("not poisoned") = Some((Instant::now(), map));
        found.ok_or_else(|| PortalError::NotFound(format!("pay system {paysystem_id}")))
    }

    async fn mark_paid(&self, call: &MarkPaid) -> Result<(), PortalError> {
        // Only provably unexecuted failures are retried inside the client; anything ambiguous
        // comes back here so the outbox re-reads PAID before calling again.
        let accepted = Pay::of(call)?
            .alone(&self.background_client(), Retry::IfNotExecuted)
            .await
            .map_err(|e| map_error(&e))?;
        if accepted {
            Ok(())
        } else {
            Err(answered_false())
        }
    }

    /// The outbox's re-read: the same read as `payment_facts`, with the background priority
    /// (and none of this portal's caches: a fresh view with that client).
    async fn is_paid(&self, call: &MarkPaid) -> Result<bool, PortalError> {
        let background = Bitrix24Portal::new(self.background_client());
        Ok(background.payment_facts(&call.payment()).await?.paid)
    }

    async fn confirm_many(&self, calls: &[MarkPaid]) -> Vec<Confirmation> {
        if !self.is_batched() {
            return futures_util::future::join_all(calls.iter().map(|call| async move {
                match self.mark_paid(call).await {
                    Err(e) => Confirmation::Failed(e),
                    Ok(()) => Confirmation::Accepted(self.is_paid(call).await),
                }
            }))
            .await;
        }
        let mut confirmations =
            super::batched::confirm_many(&self.background_client(), calls).await;
        // A command the portal refused for its rate limit is sent again on its own: the plain
        // method's refusal says when to come back (`operating_reset_at`), a batch entry does not.
        for (call, confirmation) in calls.iter().zip(confirmations.iter_mut()) {
            if let Confirmation::Failed(PortalError::RateLimited { retry_at: None, .. }) =
                confirmation
            {
                *confirmation = match self.mark_paid(call).await {
                    Err(e) => Confirmation::Failed(e),
                    Ok(()) => Confirmation::Accepted(self.is_paid(call).await),
                };
            }
        }
        confirmations
    }

    async fn paid_many(&self, calls: &[MarkPaid]) -> Vec<Result<bool, PortalError>> {
        if !self.is_batched() {
            return futures_util::future::join_all(calls.iter().map(|call| self.is_paid(call)))
                .await;
        }
        super::batched::paid_many(&self.background_client(), calls).await
    }

    async fn outbox_wait(&self) -> Duration {
        if !self.is_batched() {
            return Duration::ZERO;
        }
        let own = self.background_client().wait_now().await;
        if !own.is_zero() {
            return own;
        }
        // A customer would wait: what is free is the outbox's reserve, not slots to spare.
        self.client.wait_now().await
    }

    async fn outbox_pressure(&self) -> bool {
        self.is_batched() && !self.client.pressure().await.is_zero()
    }

    async fn outbox_ready_wait(&self) -> Duration {
        if !self.is_batched() {
            return Duration::ZERO;
        }
        self.background_client().ready_wait().await
    }

    async fn ping(&self) -> Result<(), PortalError> {
        if self
            .last_ping
            .lock()
            .expect("not poisoned")
            .is_some_and(|at| at.elapsed() < PING_TTL)
        {
            return Ok(());
        }
        let map = self.load_pay_systems().await?;
        *self.pay_systems.lock().expect("not poisoned") = Some((Instant::now(), map));
        *self.last_ping.lock().expect("not poisoned") = Some(Instant::now());
        Ok(())
    }
}

/// The client's credentials: the webhook, or OAuth tokens (those saved by an earlier refresh
/// are newer than the configured ones).
async fn auth(
    settings: &PortalSettings,
    store: SharedStore,
    token_key: Subkey,
) -> Result<Auth, String> {
    let auth = match &settings.auth {
        PortalAuth::Webhook(url) => Auth::webhook(url.expose()).map_err(|e| e.to_string())?,
        PortalAuth::OAuth(o) => {
            let mut config = OAuthConfig::new(
                o.portal_url.as_str(),
                o.client_id.clone(),
                o.client_secret.expose(),
            )
            .map_err(|e| e.to_string())?;
            if let Some(endpoint) = &o.token_endpoint {
                config = config
                    .with_token_endpoint(endpoint.as_str())
                    .map_err(|e| e.to_string())?;
            }
            // Tokens saved by an earlier refresh are newer than the configured ones.
            let store_tokens = StoreTokens::new(store, token_key);
            let saved = store_tokens
                .saved()
                .await
                .map_err(|e| format!("stored OAuth tokens: {e}"))?;
            let tokens = match saved {
                Some(t) => t,
                None => OAuthTokens::new(
                    o.access_token
                        .as_ref()
                        .map(|s| s.expose().to_string())
                        .unwrap_or_default(),
                    o.refresh_token
                        .as_ref()
                        .map(|s| s.expose().to_string())
                        .ok_or(
                        "portal.oauth.refresh_token is required until the first refresh is stored",
                    )?,
                ),
            };
            Auth::oauth(config, tokens, Arc::new(store_tokens))
        }
        PortalAuth::AppOnly => {
            return Err("no portal configured: portals install the app ([app])".into())
        }
    };
    Ok(auth)
}
