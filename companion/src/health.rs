//! `GET /healthz` (the process answers), `GET /readyz` (the store and the portal answer) and
//! `GET /metrics` (Prometheus text).

use crate::metrics::SharedMetrics;
use crate::portal::Portal;
use crate::store::SharedStore;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Health {
    pub store: SharedStore,
    pub portal: Arc<dyn Portal>,
    pub metrics: SharedMetrics,
}

pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(h): State<Health>) -> impl IntoResponse {
    let limit = Duration::from_secs(3);
    let (store, portal) = tokio::join!(
        tokio::time::timeout(limit, h.store.ping()),
        tokio::time::timeout(limit, h.portal.ping())
    );
    let store = match store {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readyz: store");
            "unavailable".into()
        }
        Err(_) => "timeout".into(),
    };
    let portal = match portal {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => {
            h.metrics.portal_error(e.code());
            tracing::warn!(error = %e, "readyz: portal");
            format!("unavailable: {}", e.code())
        }
        Err(_) => "timeout".into(),
    };
    let ready = store == "ok" && portal == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(
            json!({"status": if ready {"ok"} else {"unavailable"}, "store": store, "portal": portal}),
        ),
    )
}

pub async fn metrics(State(h): State<Health>) -> impl IntoResponse {
    if let Ok(depth) = h.store.outbox_depth().await {
        h.metrics.outbox_depth.set(depth);
    }
    if let Ok(dead) = h.store.outbox_dead_count().await {
        h.metrics.outbox_dead.set(dead);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        h.metrics.encode(),
    )
}
