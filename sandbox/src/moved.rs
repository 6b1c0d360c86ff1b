//! A portal that moved to another domain: its old address answers with a redirect to the new
//! one (`301` with `Location`), and token refreshes name the new `client_endpoint`. The token
//! endpoint (the stand-in for `oauth.bitrix.info`, which does not move) and the sandbox's
//! control API keep answering at every address.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use tokio::net::TcpListener;

use crate::sandbox::StartError;
use crate::state::AppState;

/// The portal address a listener was started for (a request extension).
#[derive(Clone, Debug)]
pub(crate) struct ListenerOrigin(Arc<str>);

impl ListenerOrigin {
    pub(crate) fn new(origin: &str) -> ListenerOrigin {
        ListenerOrigin(origin.trim_end_matches('/').into())
    }
}

/// Paths that answer at every address.
fn stays(path: &str) -> bool {
    path.starts_with("/oauth/") || path == "/oauth" || path.starts_with("/sandbox/api")
}

pub(crate) async fn redirect(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let listener = request.extensions().get::<ListenerOrigin>().cloned();
    let now = state.public_url();
    match listener {
        Some(ListenerOrigin(origin)) if *origin != *now && !stays(request.uri().path()) => {
            let target = format!(
                "{now}{}",
                request.uri().path_and_query().map_or("/", |p| p.as_str())
            );
            tracing::info!(from = %origin, to = %now, "request for a moved portal");
            (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, target.clone())],
                axum::Json(json!({
                    "error": "PORTAL_MOVED",
                    "error_description": format!("The portal has moved to {now}"),
                })),
            )
                .into_response()
        }
        _ => next.run(request).await,
    }
}

/// Moves the portal: it also listens on `bind`, and everything names the new address from now
/// on. Returns the new base URL.
pub(crate) async fn move_portal(state: &AppState, bind: &str) -> Result<String, StartError> {
    let listeners = state.listeners().expect("a started portal has listeners");
    let bind_error = |source| StartError::Bind {
        addr: bind.to_string(),
        source,
    };
    let listener = TcpListener::bind(bind).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let scheme = if listeners.is_https() {
        "https"
    } else {
        "http"
    };
    let origin = format!("{scheme}://{addr}");
    listeners.listen(listener, &origin);
    state.set_public_url(origin.clone());
    tracing::info!(%origin, "sandbox portal moved");
    Ok(origin)
}
