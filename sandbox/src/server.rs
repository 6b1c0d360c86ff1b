//! Serving: the router, and an accept loop of our own so a fault can close a client's
//! connection without a reply (axum's `serve` offers no way to do that), over plain HTTP or
//! TLS.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::routing::{any, get, post};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{admin, app, control, moved, oauth, pay_page, rest};

/// Large enough for a Base64 logo in `sale.paysystem.add`.
const BODY_LIMIT: usize = 8 * 1024 * 1024;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/rest/{*path}", any(rest::entry))
        .route("/oauth/token/", any(oauth::token))
        .route("/oauth/token", any(oauth::token))
        .route("/pay/{payment_id}", get(pay_page::payment_page))
        .route("/pay/invoice/{invoice_id}", get(pay_page::invoice_page))
        .route("/sandbox/slow.js", get(pay_page::slow_script))
        .route("/admin", get(admin::page))
        .route("/admin/payments", post(admin::create_payment))
        .route("/admin/app", get(app::install_page))
        .route("/admin/app/install", post(admin::install_app))
        .route("/admin/app/uninstall", post(admin::uninstall_app))
        .route("/admin/app/finish", post(app::finish))
        .route("/api/v1/", get(app::bx24_script))
        .route("/api/v1", get(app::bx24_script))
        .route("/", get(admin::root))
        .nest("/sandbox/api", control::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            moved::redirect,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                // The path only, with the webhook code masked: no secrets (`auth` travels in the
                // query) in the logs.
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %redacted_path(request.uri().path()),
                )
            }),
        )
        .with_state(state)
}

/// `/rest/1/<code>/method` → `/rest/1/***/method`; other paths unchanged.
fn redacted_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["", "rest", user, _code, rest @ ..] if !rest.is_empty() => {
            format!("/rest/{user}/***/{}", rest.join("/"))
        }
        _ => path.to_string(),
    }
}

/// Lets a request handler close its own connection without a reply.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnControl {
    drop: Arc<Notify>,
}

impl ConnControl {
    pub(crate) fn drop_now(&self) {
        self.drop.notify_one();
    }

    async fn dropped(&self) {
        self.drop.notified().await;
    }
}

/// A portal's listeners: the first, and one more for each move; all stop together.
pub(crate) struct Listeners {
    router: Router,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    /// Every address listened on, the newest last.
    addresses: std::sync::Mutex<Vec<std::net::SocketAddr>>,
}

impl Listeners {
    pub(crate) fn new(router: Router, tls: Option<TlsAcceptor>) -> Listeners {
        Listeners {
            router,
            tls,
            shutdown: watch::channel(false).0,
            tasks: std::sync::Mutex::new(Vec::new()),
            addresses: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Serves `listener` as the portal reached at `origin`.
    pub(crate) fn listen(&self, listener: TcpListener, origin: &str) {
        if let Ok(addr) = listener.local_addr() {
            self.addresses.lock().expect("addresses lock").push(addr);
        }
        let task = tokio::spawn(serve(
            listener,
            self.router.clone(),
            self.tls.clone(),
            moved::ListenerOrigin::new(origin),
            self.shutdown.subscribe(),
        ));
        self.tasks.lock().expect("tasks lock").push(task);
    }

    /// The address listened on last.
    pub(crate) fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.addresses
            .lock()
            .expect("addresses lock")
            .last()
            .copied()
    }

    pub(crate) fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// Stops accepting, closes open connections.
    pub(crate) fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Stops and waits for every listener to end.
    pub(crate) async fn shutdown(&self) {
        self.stop();
        let tasks: Vec<_> = self.tasks.lock().expect("tasks lock").drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// How long a client may take for the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown` turns true; each connection (over TLS when `tls` is
/// given) is served by hyper and dropped (closing the socket) when its handler asks or the
/// sandbox shuts down.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    origin: moved::ListenerOrigin,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, _) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (router, shutdown, tls) = (router.clone(), shutdown.clone(), tls.clone());
        let origin = origin.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, router, origin, shutdown).await,
                Some(tls) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => serve_connection(stream, router, origin, shutdown).await,
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<IO>(
    io: IO,
    router: Router,
    origin: moved::ListenerOrigin,
    mut shutdown: watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn_control = ConnControl::default();
    let control = conn_control.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(control.clone());
        request.extensions_mut().insert(origin.clone());
        router.clone().oneshot(request)
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        _ = conn_control.dropped() => tracing::debug!("connection dropped on purpose"),
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_path;

    #[test]
    fn webhook_codes_are_masked_in_logged_paths() {
        assert_eq!(
            redacted_path("/rest/1/secretcode/sale.paysystem.list"),
            "/rest/1/***/sale.paysystem.list"
        );
        assert_eq!(
            redacted_path("/rest/sale.paysystem.list"),
            "/rest/sale.paysystem.list"
        );
        assert_eq!(redacted_path("/pay/1"), "/pay/1");
    }
}
