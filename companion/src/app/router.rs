//! The HTTP routers: the public one (the widget's pages and files, the payment API, the
//! Market app's routes) with its layers and limits, and the admin one (`/readyz`, `/metrics`).

use super::Services;
use crate::api::client::ClientIpSource;
use crate::api::error::ApiError;
use crate::api::routes;
use crate::config::Config;
use crate::edge;
use crate::health::{self, Health, Readiness};
use crate::market;
use crate::metrics;
use crate::serve::{self, SharedWidget};
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use b24pay_protocol::api::{path, ErrorCode, API_PREFIX};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

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
    let api = path.starts_with("/api/")
        || path
            .split_once(API_PREFIX)
            .is_some_and(|(_, rest)| rest.starts_with('/'));
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
    let payments = Router::new()
        .route(path::PAYMENTS, post(routes::confirm))
        .route(path::PAYMENT, get(routes::status))
        .route(path::CHALLENGE, post(routes::challenge))
        .route(path::RESUME, post(routes::resume));
    let mut api = Router::new()
        .nest(API_PREFIX, payments.clone())
        .nest(&format!("{prefix}p/{{pid}}{API_PREFIX}"), payments)
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
