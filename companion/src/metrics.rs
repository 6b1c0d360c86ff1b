//! Prometheus metrics (`GET /metrics`, text exposition): requests by route and status, latency
//! histograms, payments by outcome, outbox depth, deliveries and retries, portal errors by code,
//! connections refused and cut at the edge.
//!
//! Every label comes from a fixed set, so no client (or portal) can grow the exposition: the
//! HTTP method is one of GET/HEAD/POST/OTHER, the route is a route template or one of two fixed
//! fallbacks, the status is one our handlers answer with, portal error codes are the client's
//! known codes or `OTHER`.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// The HTTP method as a label: anything but the methods we serve is `OTHER`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(clippy::upper_case_acronyms)]
pub enum HttpMethod {
    GET,
    HEAD,
    POST,
    OTHER,
}

impl HttpMethod {
    pub fn of(method: &axum::http::Method) -> HttpMethod {
        match *method {
            axum::http::Method::GET => HttpMethod::GET,
            axum::http::Method::HEAD => HttpMethod::HEAD,
            axum::http::Method::POST => HttpMethod::POST,
            _ => HttpMethod::OTHER,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: HttpMethod,
    pub status: u16,
}

/// Why a connection was ended at the edge.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum CutReason {
    /// Headers incomplete after `header_read_timeout`.
    header,
    /// No request within `idle_timeout`.
    idle,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CutLabels {
    pub reason: CutReason,
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
    pub connections_open: Gauge,
    pub connections_refused: Counter,
    pub connections_cut: Family<CutLabels, Counter>,
}

pub type SharedMetrics = Arc<Metrics>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

/// Registers `metric` under `name` and hands it back (the registry keeps a clone).
fn add<M: prometheus_client::registry::Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        let mut r = Registry::with_prefix("b24pay");
        let r = &mut r;
        let latency: HistogramFamily<RouteLabels> = Family::new_with_constructor(latency_histogram);
        Metrics {
            http_requests: add(r, "http_requests", "HTTP requests by route, method and status", Default::default()),
            http_latency: add(r, "http_request_duration_seconds", "HTTP request latency by route", latency),
            payments: add(r, "payments", "Confirm and challenge results by outcome (a state, or the error code refused with)", Default::default()),
            outbox_depth: add(r, "outbox_depth", "Portal calls owed and not yet delivered", Default::default()),
            outbox_delivered: add(r, "outbox_delivered", "Portal calls delivered (payments marked paid)", Default::default()),
            outbox_retries: add(r, "outbox_retries", "Outbox deliveries postponed for a retry, by error code", Default::default()),
            outbox_unsaved: add(r, "outbox_unsaved", "Portal calls answered true without the payment being saved as paid", Default::default()),
            outbox_dead_letters: add(r, "outbox_dead_letters", "Portal calls given up after permanent refusals (charged, not marked paid)", Default::default()),
            outbox_dead: add(r, "outbox_dead", "Portal calls in the dead state now, waiting for an operator", Default::default()),
            reconciled: add(r, "reconciled", "Attempts settled after their request was gone, by resulting state", Default::default()),
            attempts_review: add(r, "attempts_review", "Attempts listed for manual review: the acquirer gave no final answer", Default::default()),
            portal_errors: add(r, "portal_errors", "Failed portal calls by error code", Default::default()),
            connections_open: add(r, "http_connections_open", "Open client connections", Default::default()),
            connections_refused: add(r, "http_connections_refused", "Connections refused: the client address already had limits.connections_per_ip open", Default::default()),
            connections_cut: add(r, "http_connections_cut", "Connections closed by a timeout: headers too slow, or idle too long", Default::default()),
            registry: std::mem::take(r),
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
                code: portal_code_label(code),
            })
            .inc();
    }

    pub fn outbox_retry(&self, code: &str) {
        self.outbox_retries
            .get_or_create(&CodeLabels {
                code: portal_code_label(code),
            })
            .inc();
    }

    pub fn connection_cut(&self, reason: CutReason) {
        self.connections_cut
            .get_or_create(&CutLabels { reason })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

/// Codes of this crate and of the companion's portal mapping (besides the REST codes the client
/// knows).
const OWN_CODES: &[&str] = &[
    "TIMEOUT",
    "CONNECT_FAILED",
    "CONNECTION_BROKEN",
    "NOT_JSON",
    "UNEXPECTED_SHAPE",
    "CLIENT_THROTTLED",
    "CONFIG",
    "NOT_FOUND",
    "NOT_CONFIGURED",
    "RESULT_FALSE",
    "TOKEN_STORE_UNAVAILABLE",
    "invalid_grant",
    "invalid_client",
];

/// A portal error code as a label: a code the client knows (the portal's documented ones, our
/// own), else `OTHER` — the portal, or whatever answers in its place, chooses the text.
pub fn portal_code_label(code: &str) -> String {
    let known = bitrix24_client::SystemError::parse(code).is_known()
        || bitrix24_client::MethodError::parse(code).is_known()
        || OWN_CODES.contains(&code)
        || (code.len() == 8
            && code.starts_with("HTTP_")
            && code[5..].bytes().all(|b| b.is_ascii_digit()));
    if known {
        code.to_string()
    } else {
        "OTHER".into()
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
    let method = HttpMethod::of(request.method());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(
            portal_code_label("QUERY_LIMIT_EXCEEDED"),
            "QUERY_LIMIT_EXCEEDED"
        );
        assert_eq!(
            portal_code_label("ERROR_CHECK_FAILURE"),
            "ERROR_CHECK_FAILURE"
        );
        assert_eq!(portal_code_label("TIMEOUT"), "TIMEOUT");
        assert_eq!(portal_code_label("HTTP_502"), "HTTP_502");
        assert_eq!(portal_code_label("ERROR_MADE_UP_BY_A_PROXY_42"), "OTHER");
        assert_eq!(portal_code_label("HTTP_50x<script>"), "OTHER");
        assert_eq!(HttpMethod::of(&axum::http::Method::GET), HttpMethod::GET);
        let odd = axum::http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(HttpMethod::of(&odd), HttpMethod::OTHER);
        assert_eq!(
            HttpMethod::of(&axum::http::Method::DELETE),
            HttpMethod::OTHER
        );
    }
}
