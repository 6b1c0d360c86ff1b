//! Wiring: the store, the portal, the acquirers, the payment flow, the outbox worker and the
//! HTTP router with its limits, started together and stopped together.

use crate::acquirer::{Acquirer, TestAcquirer};
use crate::api::client::ClientIpSource;
use crate::api::error::ApiError;
use crate::api::routes::{self, SharedPayments};
use crate::config::Config;
use crate::health::{self, Health};
use crate::metrics::{self, Metrics, SharedMetrics};
use crate::outbox::Outbox;
use crate::payments::reconcile::Reconciler;
use crate::payments::{Acquirers, Payments};
use crate::portal::{Bitrix24Portal, Portal};
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
    pub portal: Arc<dyn Portal>,
    pub metrics: SharedMetrics,
    pub payments: SharedPayments,
    pub outbox: Arc<Outbox>,
    pub reconciler: Arc<Reconciler>,
    pub widget: SharedWidget,
}

/// What a companion is started over: its store, its portal, and (for tests that need an
/// acquirer that misbehaves) its acquirers.
pub struct Parts {
    pub store: SharedStore,
    pub portal: Arc<dyn Portal>,
    /// `None`: the built-in test acquirer over `store`.
    pub test_acquirer: Option<Arc<dyn Acquirer>>,
    pub live_acquirer: Option<Arc<dyn Acquirer>>,
}

impl Parts {
    pub fn new(store: SharedStore, portal: Arc<dyn Portal>) -> Parts {
        Parts {
            store,
            portal,
            test_acquirer: None,
            live_acquirer: None,
        }
    }
}

impl Services {
    /// Builds the services over an open store and a portal.
    pub async fn new(config: &Config, parts: Parts) -> anyhow::Result<Services> {
        let Parts {
            store,
            portal,
            test_acquirer,
            live_acquirer,
        } = parts;
        let metrics: SharedMetrics = Arc::new(Metrics::default());
        let wake = Arc::new(Notify::new());
        let key = store
            .meta_init(
                "fingerprint_key",
                &format!("{:064x}", rand::random::<u128>()),
            )
            .await?;
        let acquirers = Acquirers {
            test: test_acquirer.unwrap_or_else(|| Arc::new(TestAcquirer::new(store.clone()))),
            live: match live_acquirer {
                Some(live) => Some(live),
                None => crate::acquirer::configured_live(config)?,
            },
        };
        let payments = Arc::new(Payments::new(
            store.clone(),
            portal.clone(),
            acquirers,
            config.portal.origin.clone(),
            key.into_bytes(),
            metrics.clone(),
            wake.clone(),
            config.payments.clone(),
        ));
        let reconciler = Arc::new(Reconciler::new(payments.clone(), config.reconcile.clone()));
        let outbox = Arc::new(Outbox::new(
            store.clone(),
            portal.clone(),
            metrics.clone(),
            config.outbox.clone(),
            wake,
        ));
        let widget = load_widget(config).await?;
        Ok(Services {
            store,
            portal,
            metrics,
            payments,
            outbox,
            reconciler,
            widget: Arc::new(widget),
        })
    }
}

async fn load_widget(config: &Config) -> anyhow::Result<Widget> {
    let settings = PageSettings {
        allowed_origins: config.allowed_origins.clone(),
        api_base: config.api_base.clone(),
        acquirer_sources: config
            .stripe
            .as_ref()
            .map(crate::acquirer::stripe::settings::csp_sources)
            .unwrap_or_default(),
    };
    let dist = config.dist_dir.clone();
    let widget = tokio::task::spawn_blocking(move || Widget::load(&dist, &settings)).await??;
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
    let api = request.uri().path().starts_with("/api/");
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

/// The whole HTTP surface.
pub fn router(config: &Config, s: &Services) -> Router {
    let limits = &config.limits;
    let mut api = Router::new()
        .route("/api/v1/payments", post(routes::confirm))
        .route("/api/v1/payments/{id}", get(routes::status))
        .route("/api/v1/payments/{id}/challenge", post(routes::challenge))
        .route("/api/v1/payments/{id}/resume", post(routes::resume))
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(s.payments.clone())
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(layer_error))
                .load_shed()
                .concurrency_limit(limits.concurrency)
                .timeout(limits.request_timeout),
        );
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
    let health = Health {
        store: s.store.clone(),
        portal: s.portal.clone(),
        metrics: s.metrics.clone(),
    };
    let ops = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(health);
    Router::new()
        .merge(api)
        .merge(ops)
        .merge(crate::api::webhook::routes(config, &s.payments))
        .fallback(fallback)
        .with_state(s.widget.clone())
        .layer(middleware::from_fn_with_state(
            s.metrics.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(axum::Extension(ClientIpSource {
            header: config.limits.client_ip_header.clone(),
        }))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
}

/// A running companion: the HTTP server and the outbox worker.
pub struct Server {
    pub addr: SocketAddr,
    /// Where the widget is served (the handler's ACTION_URI).
    pub public_url: url::Url,
    pub services: Services,
    shutdown: watch::Sender<bool>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Opens the configured store and portal, then starts.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        let store = store::open(&config.store).await?;
        let portal = Bitrix24Portal::connect(&config.portal, store.clone())
            .await
            .map_err(|e| anyhow::anyhow!("portal: {e}"))?;
        Server::start_with(config, Parts::new(store, Arc::new(portal))).await
    }

    /// Starts over the given parts (tests, the preview).
    pub async fn start_with(config: Config, parts: Parts) -> anyhow::Result<Server> {
        let services = Services::new(&config, parts).await?;
        let public_url = config.public_url.clone();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let app = router(&config, &services);
        let (shutdown, rx) = watch::channel(false);
        let mut http_rx = rx.clone();
        let http = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = http_rx.wait_for(|stop| *stop).await;
            })
            .await
        });
        let workers = vec![
            tokio::spawn(services.outbox.clone().run(rx.clone())),
            tokio::spawn(services.reconciler.clone().run(rx)),
        ];
        tracing::info!(%addr, store = services.store.kind(), "b24pay companion listening");
        Ok(Server {
            addr,
            public_url,
            services,
            shutdown,
            http,
            workers,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop: no new connections, requests in flight finish, the workers finish their
    /// batch.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.http.await;
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}
