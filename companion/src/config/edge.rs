//! The keys of the HTTP edge, the admin listener and the portal budget: `admin_listen`,
//! `[limits] header_read_timeout_ms, idle_timeout_ms, body_read_timeout_ms, connections_per_ip,
//! readyz_interval_ms`, `[portal] customer_share` (each with its `B24PAY_*` variable).

use super::{FileConfig, Limits};
use std::net::SocketAddr;
use std::time::Duration;

/// The environment variables read here.
pub(super) const ENV_VARS: &[&str] = &[
    "B24PAY_ADMIN_LISTEN",
    "B24PAY_HEADER_READ_TIMEOUT_MS",
    "B24PAY_IDLE_TIMEOUT_MS",
    "B24PAY_BODY_READ_TIMEOUT_MS",
    "B24PAY_CONNECTIONS_PER_IP",
    "B24PAY_READYZ_INTERVAL_MS",
    "B24PAY_PORTAL_CUSTOMER_SHARE",
];

/// Customers may fill this share of the portal's bucket; the rest is the outbox's.
pub const DEFAULT_CUSTOMER_SHARE: f64 = 0.8;

/// Environment variables over the file's values.
pub(super) fn apply_env(
    file: &mut FileConfig,
    get: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) {
    if let Some(v) = get("B24PAY_ADMIN_LISTEN") {
        file.admin_listen = Some(v);
    }
    let l = &mut file.limits;
    for (key, slot) in [
        (
            "B24PAY_HEADER_READ_TIMEOUT_MS",
            &mut l.header_read_timeout_ms,
        ),
        ("B24PAY_IDLE_TIMEOUT_MS", &mut l.idle_timeout_ms),
        ("B24PAY_BODY_READ_TIMEOUT_MS", &mut l.body_read_timeout_ms),
        ("B24PAY_READYZ_INTERVAL_MS", &mut l.readyz_interval_ms),
    ] {
        if let Some(v) = get(key) {
            match v.parse() {
                Ok(ms) => *slot = Some(ms),
                Err(_) => problems.push(format!("{key}: {v:?} is not a number of milliseconds")),
            }
        }
    }
    if let Some(v) = get("B24PAY_CONNECTIONS_PER_IP") {
        match v.parse() {
            Ok(n) => l.connections_per_ip = Some(n),
            Err(_) => problems.push(format!(
                "B24PAY_CONNECTIONS_PER_IP: {v:?} is not a number (0 turns the cap off)"
            )),
        }
    }
    if let Some(v) = get("B24PAY_PORTAL_CUSTOMER_SHARE") {
        match v.parse() {
            Ok(f) => file.portal.customer_share = Some(f),
            Err(_) => problems.push(format!(
                "B24PAY_PORTAL_CUSTOMER_SHARE: {v:?} is not a number such as 0.8"
            )),
        }
    }
}

/// `admin_listen`, validated.
pub(super) fn admin_listen(
    file: &FileConfig,
    listen: SocketAddr,
    problems: &mut Vec<String>,
) -> Option<SocketAddr> {
    let text = file.admin_listen.as_deref()?.trim();
    match text.parse::<SocketAddr>() {
        Ok(a) if a == listen && a.port() != 0 => {
            problems.push(format!(
                "admin_listen: {a} is the public listen address; give the admin listener its own"
            ));
            None
        }
        Ok(a) => Some(a),
        Err(_) => {
            problems.push(format!(
                "admin_listen: {text:?} is not an address:port such as 127.0.0.1:9090"
            ));
            None
        }
    }
}

fn millis(key: &str, ms: u64, min: u64, problems: &mut Vec<String>) -> Duration {
    if ms < min {
        problems.push(format!("limits.{key}: {ms} is below {min}"));
    }
    Duration::from_millis(ms.max(min))
}

/// The edge's `[limits]` keys onto `limits`.
pub(super) fn limits(file: &FileConfig, limits: &mut Limits, problems: &mut Vec<String>) {
    let l = &file.limits;
    if let Some(ms) = l.header_read_timeout_ms {
        limits.header_read_timeout = millis("header_read_timeout_ms", ms, 100, problems);
    }
    if let Some(ms) = l.idle_timeout_ms {
        limits.idle_timeout = millis("idle_timeout_ms", ms, 100, problems);
    }
    if let Some(ms) = l.body_read_timeout_ms {
        limits.body_read_timeout = millis("body_read_timeout_ms", ms, 100, problems);
    }
    if let Some(ms) = l.readyz_interval_ms {
        limits.readyz_interval = millis("readyz_interval_ms", ms, 100, problems);
    }
    if let Some(n) = l.connections_per_ip {
        limits.connections_per_ip = n;
    }
}

/// `[portal] customer_share`, validated.
pub(super) fn customer_share(file: &FileConfig, problems: &mut Vec<String>) -> f64 {
    match file.portal.customer_share {
        None => DEFAULT_CUSTOMER_SHARE,
        Some(f) if f > 0.0 && f <= 1.0 => f,
        Some(f) => {
            problems.push(format!(
                "portal.customer_share: {f} must be above 0 and at most 1 (the rest of the portal's request budget is kept for the outbox)"
            ));
            DEFAULT_CUSTOMER_SHARE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file_with(pairs: &[(&str, &str)]) -> Result<FileConfig, super::super::ConfigError> {
        let mut f = FileConfig::default();
        f.portal.webhook_url = Some(super::super::Secret::new(
            "https://p.bitrix24.ru/rest/1/code123/",
        ));
        f.with_env(&env(pairs))
    }

    #[test]
    fn defaults_and_environment() {
        let c = file_with(&[]).unwrap().validate().unwrap();
        assert_eq!(c.limits.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.limits.body_read_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.connections_per_ip, 128);
        assert_eq!(c.limits.readyz_interval, Duration::from_secs(5));
        assert_eq!(c.portal.customer_share, DEFAULT_CUSTOMER_SHARE);
        assert_eq!(c.admin_listen, None);

        let c = file_with(&[
            ("B24PAY_ADMIN_LISTEN", "127.0.0.1:9090"),
            ("B24PAY_HEADER_READ_TIMEOUT_MS", "1500"),
            ("B24PAY_IDLE_TIMEOUT_MS", "2500"),
            ("B24PAY_BODY_READ_TIMEOUT_MS", "3500"),
            ("B24PAY_CONNECTIONS_PER_IP", "0"),
            ("B24PAY_READYZ_INTERVAL_MS", "700"),
            ("B24PAY_PORTAL_CUSTOMER_SHARE", "0.5"),
        ])
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(c.admin_listen, Some("127.0.0.1:9090".parse().unwrap()));
        assert_eq!(c.limits.header_read_timeout, Duration::from_millis(1500));
        assert_eq!(c.limits.idle_timeout, Duration::from_millis(2500));
        assert_eq!(c.limits.body_read_timeout, Duration::from_millis(3500));
        assert_eq!(c.limits.connections_per_ip, 0);
        assert_eq!(c.limits.readyz_interval, Duration::from_millis(700));
        assert_eq!(c.portal.customer_share, 0.5);
    }

    #[test]
    fn bad_values_are_listed() {
        assert!(file_with(&[("B24PAY_IDLE_TIMEOUT_MS", "soon")]).is_err());
        assert!(file_with(&[("B24PAY_CONNECTIONS_PER_IP", "-1")]).is_err());
        let err = file_with(&[
            ("B24PAY_ADMIN_LISTEN", "127.0.0.1:8080"),
            ("B24PAY_HEADER_READ_TIMEOUT_MS", "5"),
            ("B24PAY_PORTAL_CUSTOMER_SHARE", "1.5"),
        ])
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
        assert!(err.contains("admin_listen"), "{err}");
        assert!(err.contains("header_read_timeout_ms"), "{err}");
        assert!(err.contains("customer_share"), "{err}");
    }
}
