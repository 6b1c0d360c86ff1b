//! A running companion: binding the listeners, starting the workers, stopping it all.

use super::{admin_router, master_key, router, Parts, Services};
use crate::config::Config;
use crate::edge::{self, EdgeSettings};
use crate::keys::Purpose;
use crate::portal::{Bitrix24Portal, Portal, Unconfigured};
use crate::store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// A running companion: the HTTP listeners and the workers.
pub struct Server {
    pub addr: SocketAddr,
    /// The admin listener (`/readyz`, `/metrics`), when configured.
    pub admin_addr: Option<SocketAddr>,
    /// Where the widget is served (the handler's ACTION_URI).
    pub public_url: url::Url,
    pub services: Services,
    shutdown: watch::Sender<bool>,
    listeners: Vec<tokio::task::JoinHandle<()>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} ({what}): {e}"))
}

impl Server {
    /// Opens the configured store and portal, then starts.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        let store = store::open(&config.store).await?;
        let key = Arc::new(master_key(&config)?);
        let portal: Arc<dyn Portal> = match config.portal.auth {
            crate::config::PortalAuth::AppOnly => Arc::new(Unconfigured),
            _ => Arc::new(
                Bitrix24Portal::connect(
                    &config.portal,
                    store.clone(),
                    key.subkey(Purpose::TokenEncryption),
                )
                .await
                .map_err(|e| anyhow::anyhow!("portal: {e}"))?,
            ),
        };
        let parts = Parts::new(store, portal);
        let services = Services::with_key(&config, parts, key).await?;
        Server::serve(config, services).await
    }

    /// Starts over the given parts (tests, the preview).
    pub async fn start_with(config: Config, mut parts: Parts) -> anyhow::Result<Server> {
        let listener = parts.listener.take();
        let services = Services::new(&config, parts).await?;
        Server::serve_on(config, services, listener).await
    }

    async fn serve(config: Config, services: Services) -> anyhow::Result<Server> {
        Server::serve_on(config, services, None).await
    }

    async fn serve_on(
        config: Config,
        services: Services,
        bound: Option<std::net::TcpListener>,
    ) -> anyhow::Result<Server> {
        let public_url = config.public_url.clone();
        let listener = match bound {
            Some(l) => {
                l.set_nonblocking(true)?;
                tokio::net::TcpListener::from_std(l)?
            }
            None => bind(config.listen, "listen").await?,
        };
        let addr = listener.local_addr()?;
        let admin = match config.admin_listen {
            Some(a) => Some(bind(a, "admin_listen").await?),
            None => None,
        };
        let admin_addr = admin.as_ref().map(|l| l.local_addr()).transpose()?;
        let settings = EdgeSettings::from_limits(&config.limits);
        let (shutdown, rx) = watch::channel(false);
        let mut listeners = vec![tokio::spawn(edge::serve(
            listener,
            router(&config, &services),
            settings.clone(),
            services.metrics.clone(),
            rx.clone(),
        ))];
        if let Some(admin) = admin {
            listeners.push(tokio::spawn(edge::serve(
                admin,
                admin_router(&config, &services),
                settings,
                services.metrics.clone(),
                rx.clone(),
            )));
        }
        let workers = vec![
            tokio::spawn(services.outbox.clone().run(rx.clone())),
            tokio::spawn(services.reconciler.clone().run(rx)),
        ];
        tracing::info!(%addr, admin = ?admin_addr, store = services.store.kind(), "b24pay companion listening");
        Ok(Server {
            addr,
            admin_addr,
            public_url,
            services,
            shutdown,
            listeners,
            workers,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://` + the admin listener's address, when there is one.
    pub fn admin_url(&self) -> Option<String> {
        self.admin_addr.map(|a| format!("http://{a}"))
    }

    /// Graceful stop: no new connections, requests in flight finish, the workers finish their
    /// batch.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for listener in self.listeners {
            let _ = listener.await;
        }
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}
