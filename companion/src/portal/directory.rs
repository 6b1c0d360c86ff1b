//! Every portal this companion serves, by [`PortalKey`]: the one configured in the file, and
//! the portals that installed the app, each with a client of its own (its own request budget,
//! its own token refreshes), built on first use and rebuilt when the portal moves or is
//! installed again. The store's row is read on every lookup, so an uninstall (on any instance)
//! takes effect at once: an uninstalled portal's payments are refused, its outbox calls wait.

use super::bitrix24::Installed;
use super::installed::{PortalTokens, TokenSeal};
use super::{Bitrix24Portal, PaySystem, Portal, PortalError, PortalKey};
use super::{MarkPaid, PaymentFacts, PaymentRef};
use crate::config::{AppSettings, PortalSettings};
use crate::store::{PortalRow, SharedStore};
use async_trait::async_trait;
use b24pay_protocol::ids::PaySystemId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What builds installed portals' clients (app mode only).
#[derive(Clone)]
pub struct AppClients {
    pub app: AppSettings,
    /// Timeout, rate limit and customer share, for every installed portal alike.
    pub settings: PortalSettings,
    pub seal: TokenSeal,
}

pub struct Portals {
    configured: Arc<dyn Portal>,
    store: SharedStore,
    app: Option<AppClients>,
    /// member_id → (the row's `updated_at`-independent identity of the client, the client).
    clients: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    client_endpoint: String,
    installed_at: i64,
    portal: Arc<Bitrix24Portal>,
}

pub type SharedPortals = Arc<Portals>;

impl Portals {
    /// Only the configured portal.
    pub fn single(configured: Arc<dyn Portal>, store: SharedStore) -> Portals {
        Portals {
            configured,
            store,
            app: None,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The configured portal (maybe [`Unconfigured`]) and the app's installs.
    pub fn with_app(configured: Arc<dyn Portal>, store: SharedStore, app: AppClients) -> Portals {
        Portals {
            app: Some(app),
            ..Portals::single(configured, store)
        }
    }

    pub fn configured(&self) -> &Arc<dyn Portal> {
        &self.configured
    }

    pub fn app(&self) -> Option<&AppClients> {
        self.app.as_ref()
    }

    /// The portal `key` names, or why its payments cannot be served.
    pub async fn get(&self, key: &PortalKey) -> Result<Arc<dyn Portal>, PortalError> {
        if key.is_configured() {
            return Ok(self.configured.clone());
        }
        let gone = || PortalError::NotFound("no such portal has the app installed".into());
        let row = self
            .store
            .portal_by_public_id(key.as_str())
            .await
            .map_err(|e| PortalError::Unavailable {
                code: "STORE".into(),
                message: e.to_string(),
            })?
            .ok_or_else(gone)?;
        if !row.is_installed() {
            self.forget(&row.member_id);
            return Err(gone());
        }
        Ok(self.client_for(&row)?)
    }

    /// The client of an installed portal (cached while its endpoint and installation last).
    pub fn client_for(&self, row: &PortalRow) -> Result<Arc<Bitrix24Portal>, PortalError> {
        let mut clients = self.clients.lock().expect("not poisoned");
        if let Some(c) = clients.get(&row.member_id) {
            if c.client_endpoint == row.client_endpoint && c.installed_at == row.installed_at {
                return Ok(c.portal.clone());
            }
        }
        let portal = Arc::new(self.build(row)?);
        clients.insert(
            row.member_id.clone(),
            Cached {
                client_endpoint: row.client_endpoint.clone(),
                installed_at: row.installed_at,
                portal: portal.clone(),
            },
        );
        Ok(portal)
    }

    fn build(&self, row: &PortalRow) -> Result<Bitrix24Portal, PortalError> {
        let refused = |message: String| PortalError::Refused {
            code: "APP_CONFIG".into(),
            message,
        };
        let app = self
            .app
            .as_ref()
            .ok_or_else(|| refused("installed portals need [app] configured".into()))?;
        let sealed = row
            .tokens
            .as_deref()
            .ok_or_else(|| refused("no tokens".into()))?;
        let tokens = app
            .seal
            .open(&row.member_id, sealed)
            .map_err(|e| refused(format!("stored tokens: {e}")))?;
        let token_store = PortalTokens::new(
            self.store.clone(),
            app.seal.clone(),
            row.member_id.clone(),
            row.client_endpoint.clone(),
        );
        let installed = Installed {
            member_id: &row.member_id,
            client_endpoint: &row.client_endpoint,
            tokens,
            token_store: Arc::new(token_store),
        };
        Bitrix24Portal::installed(&app.settings, &app.app, installed, self.store.clone())
            .map_err(refused)
    }

    /// Drops a portal's client (uninstalled, or installed again with new tokens).
    pub fn forget(&self, member_id: &str) {
        self.clients.lock().expect("not poisoned").remove(member_id);
    }
}

/// The configured portal of a companion that has none (app mode only): every call is refused,
/// `/readyz` does not wait for it.
pub struct Unconfigured;

fn unconfigured() -> PortalError {
    PortalError::NotFound(
        "this companion has no portal of its own: installed portals pay at /p/{id}/".into(),
    )
}

#[async_trait]
impl Portal for Unconfigured {
    async fn payment_facts(&self, _: &PaymentRef) -> Result<PaymentFacts, PortalError> {
        Err(unconfigured())
    }
    async fn pay_system(&self, _: PaySystemId) -> Result<PaySystem, PortalError> {
        Err(unconfigured())
    }
    async fn mark_paid(&self, _: &MarkPaid) -> Result<(), PortalError> {
        Err(unconfigured())
    }
    async fn ping(&self) -> Result<(), PortalError> {
        Ok(())
    }
}
