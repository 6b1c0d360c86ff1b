//! Prometheus metrics (`GET /metrics`, text exposition): requests by route and status, latency
//! histograms, payments by outcome, outbox depth, deliveries and retries, portal errors by code.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_latency: HistogramFamily<RouteLabels>,
    pub payments: Family<OutcomeLabels, Counter>,
    pub outbox_depth: Gauge,
    pub outbox_delivered: Counter,
    pub outbox_retries: Family<CodeLabels, Counter>,
    /// The portal answered `true` and did not save the payment as paid.
    pub outbox_unsaved: Counter,
    /// Portal calls given up after permanent refusals.
    pub outbox_dead_letters: Counter,
    /// Rows in the `dead` state now (set when `/metrics` is read).
    pub outbox_dead: Gauge,
    pub portal_errors: Family<CodeLabels, Counter>,
    /// Attempts settled by someone other than their request, by the state they ended in.
    pub reconciled: Family<OutcomeLabels, Counter>,
    /// Attempts listed for manual review (unknown for longer than `review_after`).
    pub attempts_review: Counter,
}

pub type SharedMetrics = Arc<Metrics>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("b24pay");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        let http_latency: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_latency.clone(),
        );
        let payments = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "payments",
            "Confirm and challenge results by outcome (a state, or the error code refused with)",
            payments.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Portal calls owed and not yet delivered",
            outbox_depth.clone(),
        );
        let outbox_delivered = Counter::default();
        registry.register(
            "outbox_delivered",
            "Portal calls delivered (payments marked paid)",
            outbox_delivered.clone(),
        );
        let outbox_retries = Family::<CodeLabels, Counter>::default();
        registry.register(
            "outbox_retries",
            "Outbox deliveries postponed for a retry, by error code",
            outbox_retries.clone(),
        );
        let outbox_unsaved = Counter::default();
        registry.register(
            "outbox_unsaved",
            "Portal calls answered true without the payment being saved as paid",
            outbox_unsaved.clone(),
        );
        let outbox_dead_letters = Counter::default();
        registry.register(
            "outbox_dead_letters",
            "Portal calls given up after permanent refusals (charged, not marked paid)",
            outbox_dead_letters.clone(),
        );
        let outbox_dead = Gauge::default();
        registry.register(
            "outbox_dead",
            "Portal calls in the dead state now, waiting for an operator",
            outbox_dead.clone(),
        );
        let reconciled = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "reconciled",
            "Attempts settled after their request was gone, by resulting state",
            reconciled.clone(),
        );
        let attempts_review = Counter::default();
        registry.register(
            "attempts_review",
            "Attempts listed for manual review: the acquirer gave no final answer",
            attempts_review.clone(),
        );
        let portal_errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "portal_errors",
            "Failed portal calls by error code",
            portal_errors.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_latency,
            payments,
            outbox_depth,
            outbox_delivered,
            outbox_retries,
            outbox_unsaved,
            outbox_dead_letters,
            outbox_dead,
            portal_errors,
            reconciled,
            attempts_review,
        }
    }
}

impl Metrics {
    pub fn payment(&self, outcome: &str) {
        self.payments
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn reconciled(&self, state: &str) {
        self.reconciled
            .get_or_create(&OutcomeLabels {
                outcome: state.to_string(),
            })
            .inc();
    }

    pub fn attempt_review(&self) {
        self.attempts_review.inc();
    }

    pub fn portal_error(&self, code: &str) {
        self.portal_errors
            .get_or_create(&CodeLabels {
                code: code.to_string(),
            })
            .inc();
    }

    pub fn outbox_retry(&self, code: &str) {
        self.outbox_retries
            .get_or_create(&CodeLabels {
                code: code.to_string(),
            })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

/// Counts and times every request, labelled by its route template (never the raw path, which
/// would make one series per payment id).
pub async fn track(State(metrics): State<SharedMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| {
            if request.uri().path().starts_with("/api/") {
                "/api/other".into()
            } else {
                "/static".into()
            }
        });
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    metrics
        .http_latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
