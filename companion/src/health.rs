//! `GET /healthz` (the process answers), `GET /readyz` (the store and the portal answer) and
//! `GET /metrics` (Prometheus text).
//!
//! `/readyz` costs the portal at most one call per `limits.readyz_interval`, however often and
//! however concurrently it is asked: one check runs at a time (the others wait for its
//! result), and its result — a failure too — is the answer until the interval has passed.
//! Load balancers polling every instance every second therefore never spend the portal's
//! request budget, nor does anyone who can reach the endpoint.

use crate::metrics::{portal_code_label, SharedMetrics};
use crate::portal::Portal;
use crate::store::SharedStore;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long one check may wait for the store or the portal.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Health {
    pub store: SharedStore,
    pub portal: Arc<dyn Portal>,
    pub metrics: SharedMetrics,
    pub readiness: Arc<Readiness>,
}

/// The last readiness check and when it ran; one check at a time.
pub struct Readiness {
    interval: Duration,
    last: tokio::sync::Mutex<Option<(Instant, Report)>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Report {
    store: String,
    portal: String,
}

impl Report {
    fn ready(&self) -> bool {
        self.store == "ok" && self.portal == "ok"
    }
}

impl Readiness {
    pub fn new(interval: Duration) -> Arc<Readiness> {
        Arc::new(Readiness {
            interval,
            last: tokio::sync::Mutex::new(None),
        })
    }

    /// The cached report, or a new one when it is older than the interval. Callers that
    /// arrive during a check wait for it (the lock is held throughout).
    async fn report(&self, h: &Health) -> Report {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = &*last {
            if at.elapsed() < self.interval {
                return report.clone();
            }
        }
        let report = check(h).await;
        *last = Some((Instant::now(), report.clone()));
        report
    }
}

async fn check(h: &Health) -> Report {
    let (store, portal) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, h.store.ping()),
        tokio::time::timeout(CHECK_TIMEOUT, h.portal.ping())
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
            format!("unavailable: {}", portal_code_label(e.code()))
        }
        Err(_) => "timeout".into(),
    };
    Report { store, portal }
}

pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(h): State<Health>) -> impl IntoResponse {
    let report = h.readiness.report(&h).await;
    let ready = report.ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "status": if ready {"ok"} else {"unavailable"},
            "store": report.store,
            "portal": report.portal,
        })),
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
