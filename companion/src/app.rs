//! Wiring: the store, the master key, the portal, the acquirers, the payment flow, the outbox
//! and reconciler workers and the HTTP router with its limits, served by the edge
//! ([`crate::edge`]) on the public listener and, when configured, `/readyz` and `/metrics` on an
//! admin listener; started together and stopped together.

use crate::acquirer::{Acquirer, TestAcquirer};
use crate::api::client::ClientIpSource;
use crate::api::error::ApiError;
use crate::api::routes::{self, SharedPayments};
use crate::config::Config;
use crate::edge::{self, EdgeSettings};
use crate::health::{self, Health, Readiness};
use crate::keys::{MasterKey, Purpose};
use crate::market::{self, Market};
use crate::metrics::{self, Metrics, SharedMetrics};
use crate::outbox::Outbox;
use crate::payments::reconcile::Reconciler;
use crate::payments::{Acquirers, Payments};
use crate::portal::installed::TokenSeal;
use crate::portal::{AppClients, Bitrix24Portal, Portal, Portals, SharedPortals, Unconfigured};
use crate::serve::{self, PageSettings, SharedWidget, Widget};
use crate::store::{self, SharedStore};
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use b24pay_protocol::api::ErrorCode;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{watch, Notify};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

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

/// Errors from the tower layers (timeout, load shedding) as `ErrorBody`.
async fn layer_error(err: tower::BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(ErrorCode::Timeout, "the request took too long")
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            ErrorCode::Overloaded,
            "too many requests in flight; retry shortly",
        )
    } else {
        tracing::error!(error = %err, "unhandled layer error");
        ApiError::internal()
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::internal().into_response()
}

/// Headers every response carries. No `X-Frame-Options`: the portal frames the widget, and
/// CSP `frame-ancestors` says by whom.
async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // `/api/v1/…`, and installed portals' `/p/{pid}/api/v1/…`.
    let api = path.starts_with("/api/") || path.contains("/api/v1/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Paths outside the API's routes: the widget's files, or a JSON 404 under `/api/`.
async fn fallback(
    state: axum::extract::State<SharedWidget>,
    method: Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return routes::not_found().await.into_response();
    }
    serve::serve(state, method, uri, headers).await
}

/// `/readyz` and `/metrics` (and `/healthz`): on the public listener, or on the admin one.
pub fn ops_router<S: Clone + Send + Sync + 'static>(config: &Config, s: &Services) -> Router<S> {
    let health = Health {
        store: s.store.clone(),
        portal: s.portal.clone(),
        metrics: s.metrics.clone(),
        readiness: Readiness::new(config.limits.readyz_interval),
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(health)
}

/// The layers every response goes through.
fn outer_layers(router: Router, s: &Services) -> Router {
    router
        .layer(middleware::from_fn_with_state(
            s.metrics.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
}

/// The admin listener's surface.
pub fn admin_router(config: &Config, s: &Services) -> Router {
    outer_layers(ops_router(config, s), s)
}

/// The whole public HTTP surface; `/readyz` and `/metrics` only without an admin listener.
pub fn router(config: &Config, s: &Services) -> Router {
    let limits = &config.limits;
    let prefix = s.widget.prefix().to_string();
    let mut api = Router::new()
        .route("/api/v1/payments", post(routes::confirm))
        .route("/api/v1/payments/{id}", get(routes::status))
        .route("/api/v1/payments/{id}/challenge", post(routes::challenge))
        .route("/api/v1/payments/{id}/resume", post(routes::resume))
        .route(
            &format!("{prefix}p/{{pid}}/api/v1/payments"),
            post(routes::confirm),
        )
        .route(
            &format!("{prefix}p/{{pid}}/api/v1/payments/{{id}}"),
            get(routes::status),
        )
        .route(
            &format!("{prefix}p/{{pid}}/api/v1/payments/{{id}}/challenge"),
            post(routes::challenge),
        )
        .route(
            &format!("{prefix}p/{{pid}}/api/v1/payments/{{id}}/resume"),
            post(routes::resume),
        )
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(s.payments.clone())
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(layer_error))
                .load_shed()
                .concurrency_limit(limits.concurrency)
                .timeout(limits.request_timeout),
        )
        // Outside the handler's timeout and concurrency: a slow body holds neither.
        .layer(middleware::from_fn_with_state(
            edge::body::BodyRead {
                timeout: limits.body_read_timeout,
                max_bytes: limits.body_bytes,
            },
            edge::body::read_body,
        ));
    if !config.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        api = api.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("idempotency-key"),
                ]),
        );
    }
    let ops = match config.admin_listen {
        Some(_) => Router::new().route("/healthz", get(health::healthz)),
        None => ops_router(config, s),
    };
    let public = Router::new()
        .merge(api)
        .merge(ops)
        .merge(market_router(&prefix, s))
        .merge(crate::api::webhook::routes(config, &s.payments))
        .fallback(fallback)
        .with_state(s.widget.clone())
        .layer(axum::Extension(ClientIpSource {
            header: config.limits.client_ip_header.clone(),
        }));
    outer_layers(public, s)
}

/// The app's handler and install page, and installed portals' widget pages.
fn market_router(prefix: &str, s: &Services) -> Router<SharedWidget> {
    let Some(market) = &s.market else {
        return Router::new();
    };
    let page = market::routes::PageState {
        market: market.clone(),
        widget: s.widget.clone(),
    };
    Router::new()
        .route(
            &format!("{prefix}p/{{pid}}/"),
            get(market::routes::widget_page),
        )
        .route(
            &format!("{prefix}p/{{pid}}/index.html"),
            get(market::routes::widget_page),
        )
        .with_state(page)
        .merge(
            Router::new()
                .route(&format!("{prefix}app/events"), post(market::routes::events))
                .route(
                    &format!("{prefix}app/install"),
                    post(market::routes::install_page),
                )
                .layer(DefaultBodyLimit::max(64 * 1024))
                .with_state(market.clone()),
        )
}

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
