//! Wiring: the store, the master key, the portal, the acquirers, the payment flow, the outbox
//! and reconciler workers and the HTTP router with its limits, served by the edge
//! ([`crate::edge`]) on the public listener and, when configured, `/readyz` and `/metrics` on an
//! admin listener; started together and stopped together. The routers and their layers are in
//! `router.rs`, the running server (listeners, workers, stop) in `server.rs`.

use crate::acquirer::{Acquirer, TestAcquirer};
use crate::api::routes::SharedPayments;
use crate::config::Config;
use crate::keys::{MasterKey, Purpose};
use crate::market::Market;
use crate::metrics::{Metrics, SharedMetrics};
use crate::outbox::Outbox;
use crate::payments::reconcile::Reconciler;
use crate::payments::{Acquirers, Payments};
use crate::portal::installed::TokenSeal;
use crate::portal::{AppClients, Portal, Portals, SharedPortals};
use crate::serve::{PageSettings, SharedWidget, Widget};
use crate::store::SharedStore;
use std::sync::Arc;
use tokio::sync::Notify;

mod router;
mod server;
pub use router::{admin_router, ops_router, router};
pub use server::Server;

/// Everything a running companion is made of.
#[derive(Clone)]
pub struct Services {
    pub store: SharedStore,
    /// The portal configured in the file ([`Unconfigured`] in app-only mode).
    pub portal: Arc<dyn Portal>,
    /// Every portal served: the configured one and the app's installs.
    pub portals: SharedPortals,
    pub metrics: SharedMetrics,
    pub payments: SharedPayments,
    pub outbox: Arc<Outbox>,
    pub reconciler: Arc<Reconciler>,
    pub widget: SharedWidget,
    /// Derives the keys of secrets at rest ([`MasterKey::subkey`]).
    pub master_key: Arc<MasterKey>,
    /// Installs and uninstalls, when `[app]` is configured.
    pub market: Option<Arc<Market>>,
}

/// What a companion is started over: its store, its portal, and (for tests that need an
/// acquirer that misbehaves) its acquirers.
pub struct Parts {
    pub store: SharedStore,
    pub portal: Arc<dyn Portal>,
    /// `None`: the built-in test acquirer over `store`.
    pub test_acquirer: Option<Arc<dyn Acquirer>>,
    pub live_acquirer: Option<Arc<dyn Acquirer>>,
    /// Already bound (a test that must know the address before the companion starts).
    pub listener: Option<std::net::TcpListener>,
}

impl Parts {
    pub fn new(store: SharedStore, portal: Arc<dyn Portal>) -> Parts {
        Parts {
            store,
            portal,
            test_acquirer: None,
            live_acquirer: None,
            listener: None,
        }
    }
}

impl Services {
    /// Builds the services over an open store and a portal, with the configured master key
    /// (or the SQLite store's key file).
    pub async fn new(config: &Config, parts: Parts) -> anyhow::Result<Services> {
        let master_key = Arc::new(master_key(config)?);
        Services::with_key(config, parts, master_key).await
    }

    /// Builds the services over an open store, a portal and the master key.
    pub async fn with_key(
        config: &Config,
        parts: Parts,
        master_key: Arc<MasterKey>,
    ) -> anyhow::Result<Services> {
        let Parts {
            store,
            portal,
            test_acquirer,
            live_acquirer,
            listener: _,
        } = parts;
        let metrics: SharedMetrics = Arc::new(Metrics::default());
        let wake = Arc::new(Notify::new());
        // Request fingerprints (and the card-number hash inside them) are keyed by a subkey of
        // the master key, which is never in the database.
        let fingerprint_key = master_key.subkey(Purpose::CardHash).expose().to_vec();
        let acquirers = Acquirers {
            test: test_acquirer.unwrap_or_else(|| Arc::new(TestAcquirer::new(store.clone()))),
            live: match live_acquirer {
                Some(live) => Some(live),
                None => crate::acquirer::configured_live(config)?,
            },
        };
        let portals = Arc::new(portals(config, &portal, &store, &master_key));
        let payments = Arc::new(Payments::new(
            store.clone(),
            portals.clone(),
            acquirers,
            config.portal.origin.clone(),
            fingerprint_key,
            metrics.clone(),
            wake.clone(),
            config.payments.clone(),
        ));
        let reconciler = Arc::new(Reconciler::new(payments.clone(), config.reconcile.clone()));
        let outbox = Arc::new(Outbox::new(
            store.clone(),
            portals.clone(),
            metrics.clone(),
            config.outbox.clone(),
            wake,
        ));
        let widget = load_widget(config).await?;
        let market = config.app.as_ref().map(|app| {
            Arc::new(Market {
                store: store.clone(),
                portals: portals.clone(),
                app: app.clone(),
                public_url: config.public_url.clone(),
                app_token_key: master_key.subkey(Purpose::AppToken),
                http: reqwest::Client::new(),
            })
        });
        Ok(Services {
            market,
            store,
            portal,
            portals,
            metrics,
            payments,
            outbox,
            reconciler,
            widget: Arc::new(widget),
            master_key,
        })
    }
}

/// The configured portal, and in app mode the installs' client factory.
fn portals(
    config: &Config,
    portal: &Arc<dyn Portal>,
    store: &SharedStore,
    key: &MasterKey,
) -> Portals {
    match &config.app {
        Some(app) => Portals::with_app(
            portal.clone(),
            store.clone(),
            AppClients {
                app: app.clone(),
                settings: config.portal.clone(),
                seal: TokenSeal::new(key.subkey(Purpose::TokenEncryption)),
            },
        ),
        None => Portals::single(portal.clone(), store.clone()),
    }
}

fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    MasterKey::resolve(config.security.master_key.as_ref(), &config.store)
        .map_err(|e| anyhow::anyhow!("master key: {e}"))
}

async fn load_widget(config: &Config) -> anyhow::Result<Widget> {
    let settings = PageSettings {
        allowed_origins: config.allowed_origins.clone(),
        api_base: config.api_base.clone(),
        preview_sample: config.preview_sample.clone(),
        acquirer_sources: config
            .stripe
            .as_ref()
            .map(crate::acquirer::stripe::settings::csp_sources)
            .unwrap_or_default(),
    };
    let dist = config.dist_dir.clone();
    let prefix = config.public_url.path().to_string();
    let widget =
        tokio::task::spawn_blocking(move || Widget::load_at(&dist, &settings, &prefix)).await??;
    if !widget.is_built() {
        tracing::warn!(dist = %config.dist_dir.display(), "no built widget found; serving the API only");
    }
    Ok(widget)
}
