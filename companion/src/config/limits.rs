//! `[limits]`: what one request or one client may cost the companion (the HTTP edge).

use serde::Deserialize;
use std::time::Duration;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub body_bytes: Option<usize>,
    pub request_timeout_ms: Option<u64>,
    pub concurrency: Option<usize>,
    /// A request's headers must arrive within this (slow-header clients are cut).
    pub header_read_timeout_ms: Option<u64>,
    /// A keep-alive connection with no request is closed after this.
    pub idle_timeout_ms: Option<u64>,
    /// A request's body must arrive within this; the handler's own timeout starts after.
    pub body_read_timeout_ms: Option<u64>,
    /// Open connections allowed per client IP (IPv6: per /64); 0 turns the cap off.
    pub connections_per_ip: Option<usize>,
    /// `/readyz` asks the portal at most once per this interval (answers, failures too, are
    /// cached that long).
    pub readyz_interval_ms: Option<u64>,
    /// Behind a reverse proxy: the header it puts the client's address in (the last address
    /// there is used), e.g. `X-Forwarded-For`. Without it, the per-client limits see the proxy.
    pub client_ip_header: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub body_bytes: usize,
    pub request_timeout: Duration,
    pub concurrency: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_read_timeout: Duration,
    /// 0: no cap.
    pub connections_per_ip: usize,
    pub readyz_interval: Duration,
    pub client_ip_header: Option<axum::http::HeaderName>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(30),
            concurrency: 512,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(10),
            connections_per_ip: 128,
            readyz_interval: Duration::from_secs(5),
            client_ip_header: None,
        }
    }
}

impl FileLimits {
    pub(super) fn validate(&self, problems: &mut Vec<String>) -> Limits {
        let d = Limits::default();
        let mut timeout = |key: &str, value: Option<u64>, default: Duration, min: u64| {
            value.map_or(default, |ms| {
                if ms < min {
                    problems.push(format!("limits.{key}: {ms} is below {min}"));
                }
                Duration::from_millis(ms.max(min))
            })
        };
        let request_timeout = timeout(
            "request_timeout_ms",
            self.request_timeout_ms,
            d.request_timeout,
            100,
        );
        let header_read_timeout = timeout(
            "header_read_timeout_ms",
            self.header_read_timeout_ms,
            d.header_read_timeout,
            100,
        );
        let idle_timeout = timeout("idle_timeout_ms", self.idle_timeout_ms, d.idle_timeout, 100);
        let body_read_timeout = timeout(
            "body_read_timeout_ms",
            self.body_read_timeout_ms,
            d.body_read_timeout,
            100,
        );
        let readyz_interval = timeout(
            "readyz_interval_ms",
            self.readyz_interval_ms,
            d.readyz_interval,
            100,
        );
        Limits {
            body_bytes: self.body_bytes(problems),
            request_timeout,
            concurrency: self.concurrency(problems),
            header_read_timeout,
            idle_timeout,
            body_read_timeout,
            connections_per_ip: self.connections_per_ip.unwrap_or(d.connections_per_ip),
            readyz_interval,
            client_ip_header: self.client_ip_header(problems),
        }
    }

    fn body_bytes(&self, problems: &mut Vec<String>) -> usize {
        let n = self.body_bytes.unwrap_or(Limits::default().body_bytes);
        if !(1024..=1024 * 1024).contains(&n) {
            problems.push(format!("limits.body_bytes: {n} is outside 1024..=1048576"));
        }
        n
    }

    fn concurrency(&self, problems: &mut Vec<String>) -> usize {
        let n = self.concurrency.unwrap_or(Limits::default().concurrency);
        if n == 0 {
            problems.push("limits.concurrency: must be at least 1".into());
        }
        n.max(1)
    }

    fn client_ip_header(&self, problems: &mut Vec<String>) -> Option<axum::http::HeaderName> {
        let h = self.client_ip_header.as_ref()?;
        axum::http::HeaderName::from_bytes(h.trim().as_bytes())
            .map_err(|_| {
                problems.push(format!(
                    "limits.client_ip_header: {h:?} is not a header name"
                ))
            })
            .ok()
    }
}
