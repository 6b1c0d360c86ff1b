//! Configuration: one TOML file (`--config`) and/or `B24PAY_*` environment variables (which win),
//! validated once at start into [`Config`], with every problem listed in one clear message.

mod edge;
mod security;

pub use edge::DEFAULT_CUSTOMER_SHARE;
pub use security::{FileSecurity, SecuritySettings};

use crate::store::StoreLocation;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// A value that must never be printed (webhook URLs carry their code; client secrets; tokens).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// The file's shape. Every key optional: environment variables may supply it instead.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    /// A second listener for `/readyz` and `/metrics` (then not served on `listen`).
    pub admin_listen: Option<String>,
    pub public_url: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub api_base: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<Secret>,
    pub dist_dir: Option<PathBuf>,
    pub cors_origins: Option<Vec<String>>,
    #[serde(default)]
    pub portal: FilePortal,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub outbox: FileOutbox,
    #[serde(default)]
    pub payments: FilePayments,
    #[serde(default)]
    pub security: FileSecurity,
    #[serde(default)]
    pub acquirer: FileAcquirer,
}

/// `[acquirer.*]`: live acquirers (each validates its own table).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAcquirer {
    pub stripe: Option<crate::acquirer::stripe::settings::FileStripe>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePayments {
    /// How long a charge in flight owns its attempt before a retry may take it over.
    pub charge_lease_ms: Option<u64>,
    /// How long a duplicate request waits for the original's result.
    pub duplicate_wait_ms: Option<u64>,
    /// Pay systems in TEST mode are paid through the test acquirer only when this is true.
    pub allow_test_mode: Option<bool>,
    /// How long an unanswered challenge blocks attempts from other pages.
    pub action_hold_ms: Option<u64>,
    /// Answers (challenge codes) per attempt.
    pub max_action_rounds: Option<u32>,
    /// Declines per payment within `decline_window_ms` before it cools off.
    pub max_declines: Option<u32>,
    pub decline_window_ms: Option<u64>,
    /// How long a charge the acquirer still calls pending is waited for before it is cancelled.
    pub cancel_after_ms: Option<u64>,
    /// How long an attempt may stay unknown before it is listed for manual review.
    pub review_after_ms: Option<u64>,
    /// How often the reconciler looks for attempts to settle.
    pub reconcile_poll_ms: Option<u64>,
    /// Confirm requests per client address and minute (0: no limit), and the burst.
    pub client_per_minute: Option<u32>,
    pub client_burst: Option<u32>,
    /// Confirm requests per portal payment and minute (0: no limit), and the burst.
    pub payment_per_minute: Option<u32>,
    pub payment_burst: Option<u32>,
    /// How long "no such payment" / "already paid" are answered from memory.
    pub refusal_cache_ms: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePortal {
    pub webhook_url: Option<Secret>,
    pub oauth: Option<FileOAuth>,
    pub timeout_ms: Option<u64>,
    /// Client-side leaky bucket; `per_second = 0` turns it off.
    pub rate_limit_per_second: Option<f64>,
    pub rate_limit_burst: Option<u32>,
    /// The share of the bucket customer-facing calls may use; the rest is the outbox's.
    pub customer_share: Option<f64>,
    /// Send portal calls in `batch` requests (concurrent verifications, the outbox's calls);
    /// on by default.
    pub batch: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOAuth {
    pub portal_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// The first refresh token (from the app's install event); later ones live in the store.
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    pub token_endpoint: Option<String>,
}

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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutbox {
    pub batch: Option<u32>,
    pub lease_ms: Option<u64>,
    pub base_backoff_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
    pub poll_ms: Option<u64>,
    /// After a try whose outcome is unknown, wait at least this long before re-reading PAID.
    pub ambiguous_wait_ms: Option<u64>,
    /// Permanent refusals for this long end in the `dead` state.
    pub dead_after_ms: Option<u64>,
}

#[derive(Clone, Debug)]
pub enum PortalAuth {
    Webhook(Secret),
    OAuth(Box<OAuthSettings>),
}

#[derive(Clone, Debug)]
pub struct OAuthSettings {
    pub portal_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    pub token_endpoint: Option<Url>,
}

#[derive(Clone, Debug)]
pub struct PortalSettings {
    pub auth: PortalAuth,
    /// The portal's origin, e.g. `https://shop.bitrix24.ru`.
    pub origin: String,
    pub timeout: Duration,
    /// `None`: no client-side rate limit.
    pub rate_limit: Option<(f64, u32)>,
    /// The share of the rate limit customer-facing calls may use (the outbox may use all).
    pub customer_share: f64,
    /// `[portal] batch`: concurrent verifications coalesced into `batch` requests, the
    /// outbox's calls sent in batches.
    pub batch: bool,
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

#[derive(Clone, Debug)]
pub struct OutboxSettings {
    pub batch: u32,
    /// How long a claimed row belongs to one worker; longer than any portal call.
    pub lease: Duration,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often an idle worker looks for rows other instances (or a crash) left behind.
    pub poll: Duration,
    /// The portal runs a call up to its execution limit (60 s) even after the client gave up:
    /// after an ambiguous try, the PAID flag is re-read no sooner than this.
    pub ambiguous_wait: Duration,
    /// How long permanent refusals are retried before the row is given up (`dead`).
    pub dead_after: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            batch: 64,
            lease: Duration::from_secs(60),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            ambiguous_wait: Duration::from_secs(60),
            dead_after: Duration::from_secs(3600),
        }
    }
}

/// Validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Serves `/readyz` and `/metrics` (and `/healthz`) when set; they leave `listen` then.
    pub admin_listen: Option<SocketAddr>,
    /// Where the widget is served (the handler's ACTION_URI).
    pub public_url: Url,
    /// Exact portal origins allowed to embed the widget (CSP frame-ancestors, the page's meta).
    pub allowed_origins: Vec<String>,
    /// The API base the widget calls: a path (`/api/v1`) or an absolute URL.
    pub api_base: String,
    pub store: StoreLocation,
    pub dist_dir: PathBuf,
    /// Extra origins allowed to call the API cross-origin (none by default).
    pub cors_origins: Vec<String>,
    pub portal: PortalSettings,
    pub limits: Limits,
    pub outbox: OutboxSettings,
    pub payments: crate::payments::PaymentsConfig,
    pub security: SecuritySettings,
    pub reconcile: crate::payments::reconcile::ReconcileSettings,
    /// `[acquirer.stripe]`, when configured.
    pub stripe: Option<crate::acquirer::stripe::StripeSettings>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
}

/// Environment variables read, besides `DATABASE_URL`.
pub const ENV_VARS: &[&str] = &[
    "B24PAY_LISTEN",
    "B24PAY_PUBLIC_URL",
    "B24PAY_ALLOWED_ORIGINS",
    "B24PAY_API_BASE",
    "B24PAY_DATA_DIR",
    "B24PAY_DATABASE_URL",
    "B24PAY_DIST_DIR",
    "B24PAY_CORS_ORIGINS",
    "B24PAY_WEBHOOK_URL",
    "B24PAY_OAUTH_PORTAL_URL",
    "B24PAY_OAUTH_CLIENT_ID",
    "B24PAY_OAUTH_CLIENT_SECRET",
    "B24PAY_OAUTH_REFRESH_TOKEN",
    "B24PAY_OAUTH_ACCESS_TOKEN",
    "B24PAY_OAUTH_TOKEN_ENDPOINT",
    "B24PAY_PORTAL_TIMEOUT_MS",
    "B24PAY_PORTAL_RATE_LIMIT",
    "B24PAY_PORTAL_BATCH",
    "B24PAY_CHARGE_LEASE_MS",
    "B24PAY_OUTBOX_LEASE_MS",
    "B24PAY_OUTBOX_BASE_BACKOFF_MS",
    "B24PAY_OUTBOX_MAX_BACKOFF_MS",
    "B24PAY_OUTBOX_AMBIGUOUS_WAIT_MS",
    "B24PAY_OUTBOX_DEAD_AFTER_MS",
    "B24PAY_ALLOW_TEST_MODE",
    "B24PAY_ACTION_HOLD_MS",
    "B24PAY_CANCEL_AFTER_MS",
    "B24PAY_REVIEW_AFTER_MS",
    "B24PAY_RECONCILE_POLL_MS",
    "B24PAY_CLIENT_RATE",
    "B24PAY_PAYMENT_RATE",
];

/// The process environment, restricted to what configuration reads.
pub fn process_env() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| {
            k == "DATABASE_URL"
                || ENV_VARS.contains(&k.as_str())
                || edge::ENV_VARS.contains(&k.as_str())
                || security::ENV_VARS.contains(&k.as_str())
                || crate::acquirer::stripe::settings::ENV_VARS.contains(&k.as_str())
        })
        .collect()
}

fn list(text: &str) -> Vec<String> {
    text.split([' ', ',', '\n', '\t'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl FileConfig {
    pub fn read(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.message().to_string(),
        })
    }

    /// Environment variables override the file's values.
    pub fn with_env(mut self, env: &HashMap<String, String>) -> Result<FileConfig, ConfigError> {
        let mut problems = Vec::new();
        let get = |k: &str| {
            env.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(v) = get("B24PAY_LISTEN") {
            self.listen = Some(v);
        }
        if let Some(v) = get("B24PAY_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("B24PAY_ALLOWED_ORIGINS") {
            self.allowed_origins = Some(list(&v));
        }
        if let Some(v) = get("B24PAY_API_BASE") {
            self.api_base = Some(v);
        }
        if let Some(v) = get("B24PAY_DATA_DIR") {
            self.data_dir = Some(v.into());
        }
        if let Some(v) = get("B24PAY_DATABASE_URL").or_else(|| get("DATABASE_URL")) {
            self.database_url = Some(Secret(v));
        }
        if let Some(v) = get("B24PAY_DIST_DIR") {
            self.dist_dir = Some(v.into());
        }
        if let Some(v) = get("B24PAY_CORS_ORIGINS") {
            self.cors_origins = Some(list(&v));
        }
        if let Some(v) = get("B24PAY_WEBHOOK_URL") {
            self.portal.webhook_url = Some(Secret(v));
        }
        let oauth_keys = [
            "B24PAY_OAUTH_PORTAL_URL",
            "B24PAY_OAUTH_CLIENT_ID",
            "B24PAY_OAUTH_CLIENT_SECRET",
            "B24PAY_OAUTH_REFRESH_TOKEN",
            "B24PAY_OAUTH_ACCESS_TOKEN",
            "B24PAY_OAUTH_TOKEN_ENDPOINT",
        ];
        if oauth_keys.iter().any(|k| get(k).is_some()) {
            let o = self.portal.oauth.get_or_insert_with(FileOAuth::default);
            if let Some(v) = get("B24PAY_OAUTH_PORTAL_URL") {
                o.portal_url = Some(v);
            }
            if let Some(v) = get("B24PAY_OAUTH_CLIENT_ID") {
                o.client_id = Some(v);
            }
            if let Some(v) = get("B24PAY_OAUTH_CLIENT_SECRET") {
                o.client_secret = Some(Secret(v));
            }
            if let Some(v) = get("B24PAY_OAUTH_REFRESH_TOKEN") {
                o.refresh_token = Some(Secret(v));
            }
            if let Some(v) = get("B24PAY_OAUTH_ACCESS_TOKEN") {
                o.access_token = Some(Secret(v));
            }
            if let Some(v) = get("B24PAY_OAUTH_TOKEN_ENDPOINT") {
                o.token_endpoint = Some(v);
            }
        }
        if let Some(v) = get("B24PAY_PORTAL_TIMEOUT_MS") {
            match v.parse() {
                Ok(ms) => self.portal.timeout_ms = Some(ms),
                Err(_) => problems.push(format!(
                    "B24PAY_PORTAL_TIMEOUT_MS: {v:?} is not a number of milliseconds"
                )),
            }
        }
        for (key, slot) in [
            ("B24PAY_CHARGE_LEASE_MS", &mut self.payments.charge_lease_ms),
            ("B24PAY_OUTBOX_LEASE_MS", &mut self.outbox.lease_ms),
            (
                "B24PAY_OUTBOX_BASE_BACKOFF_MS",
                &mut self.outbox.base_backoff_ms,
            ),
            (
                "B24PAY_OUTBOX_MAX_BACKOFF_MS",
                &mut self.outbox.max_backoff_ms,
            ),
            (
                "B24PAY_OUTBOX_AMBIGUOUS_WAIT_MS",
                &mut self.outbox.ambiguous_wait_ms,
            ),
            (
                "B24PAY_OUTBOX_DEAD_AFTER_MS",
                &mut self.outbox.dead_after_ms,
            ),
            ("B24PAY_ACTION_HOLD_MS", &mut self.payments.action_hold_ms),
            ("B24PAY_CANCEL_AFTER_MS", &mut self.payments.cancel_after_ms),
            ("B24PAY_REVIEW_AFTER_MS", &mut self.payments.review_after_ms),
            (
                "B24PAY_RECONCILE_POLL_MS",
                &mut self.payments.reconcile_poll_ms,
            ),
        ] {
            if let Some(v) = get(key) {
                match v.parse() {
                    Ok(ms) => *slot = Some(ms),
                    Err(_) => {
                        problems.push(format!("{key}: {v:?} is not a number of milliseconds"))
                    }
                }
            }
        }
        if let Some(v) = get("B24PAY_PORTAL_BATCH") {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => self.portal.batch = Some(true),
                "0" | "false" | "no" | "off" => self.portal.batch = Some(false),
                _ => problems.push(format!("B24PAY_PORTAL_BATCH: {v:?} is neither on nor off")),
            }
        }
        if let Some(v) = get("B24PAY_ALLOW_TEST_MODE") {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => self.payments.allow_test_mode = Some(true),
                "0" | "false" | "no" | "off" => self.payments.allow_test_mode = Some(false),
                _ => problems.push(format!(
                    "B24PAY_ALLOW_TEST_MODE: {v:?} is neither true nor false"
                )),
            }
        }
        for (key, per_minute, burst) in [
            (
                "B24PAY_CLIENT_RATE",
                &mut self.payments.client_per_minute,
                &mut self.payments.client_burst,
            ),
            (
                "B24PAY_PAYMENT_RATE",
                &mut self.payments.payment_per_minute,
                &mut self.payments.payment_burst,
            ),
        ] {
            let Some(v) = get(key) else { continue };
            // "off", or "PER_MINUTE/BURST" such as "30/10".
            if v.eq_ignore_ascii_case("off") {
                *per_minute = Some(0);
                continue;
            }
            match v
                .split_once('/')
                .map(|(a, b)| (a.parse::<u32>(), b.parse::<u32>()))
            {
                Some((Ok(r), Ok(b))) => {
                    *per_minute = Some(r);
                    *burst = Some(b);
                }
                _ => problems.push(format!(
                    "{key}: {v:?} is neither \"off\" nor PER_MINUTE/BURST (e.g. \"30/10\")"
                )),
            }
        }
        if let Some(v) = get("B24PAY_PORTAL_RATE_LIMIT") {
            // "off", or "PER_SECOND/BURST" such as "2/50".
            if v.eq_ignore_ascii_case("off") {
                self.portal.rate_limit_per_second = Some(0.0);
            } else {
                match v.split_once('/').map(|(a, b)| (a.parse::<f64>(), b.parse::<u32>())) {
                    Some((Ok(r), Ok(b))) => {
                        self.portal.rate_limit_per_second = Some(r);
                        self.portal.rate_limit_burst = Some(b);
                    }
                    _ => problems.push(format!(
                        "B24PAY_PORTAL_RATE_LIMIT: {v:?} is neither \"off\" nor PER_SECOND/BURST (e.g. \"2/50\")"
                    )),
                }
            }
        }
        edge::apply_env(&mut self, &get, &mut problems);
        security::apply_env(&mut self, &get);
        crate::acquirer::stripe::settings::apply_env(&mut self.acquirer.stripe, get, &mut problems);
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// True when nothing says which portal to use: `b24pay` then runs the preview.
    pub fn has_portal(&self) -> bool {
        self.portal.webhook_url.is_some() || self.portal.oauth.is_some()
    }

    /// Validates everything, reporting every problem at once.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();

        let listen = match self
            .listen
            .as_deref()
            .unwrap_or("127.0.0.1:8080")
            .parse::<SocketAddr>()
        {
            Ok(a) => a,
            Err(_) => {
                problems.push(format!(
                    "listen: {:?} is not an address:port such as 127.0.0.1:8080 or 0.0.0.0:8080",
                    self.listen.as_deref().unwrap_or_default()
                ));
                "127.0.0.1:8080".parse().expect("literal address")
            }
        };

        let public_url = match &self.public_url {
            Some(text) => match parse_http_url("public_url", text) {
                Ok(u) => u,
                Err(p) => {
                    problems.push(p);
                    default_public_url(listen)
                }
            },
            None => default_public_url(listen),
        };

        let portal = self.portal_settings(&mut problems);

        let allowed_origins = match &self.allowed_origins {
            Some(list) if !list.is_empty() => list
                .iter()
                .filter_map(|o| match parse_origin("allowed_origins", o) {
                    Ok(o) => Some(o),
                    Err(p) => {
                        problems.push(p);
                        None
                    }
                })
                .collect(),
            // The portal that embeds the widget is, by default, the one we talk to.
            _ => portal
                .as_ref()
                .map(|p| vec![p.origin.clone()])
                .unwrap_or_default(),
        };

        let cors_origins = self
            .cors_origins
            .clone()
            .unwrap_or_default()
            .iter()
            .filter_map(|o| match parse_origin("cors_origins", o) {
                Ok(o) => Some(o),
                Err(p) => {
                    problems.push(p);
                    None
                }
            })
            .collect();

        let api_base = self.api_base.clone().unwrap_or_else(|| "/api/v1".into());
        let is_path = api_base.starts_with('/') && !api_base.starts_with("//");
        if !is_path && parse_http_url("api_base", &api_base).is_err() {
            problems.push(format!(
                "api_base: {api_base:?} must be a path such as /api/v1 or an absolute http(s) URL"
            ));
        }
        if api_base
            .chars()
            .any(|c| c == '"' || c == '<' || c == '>' || c.is_whitespace())
        {
            problems.push(format!(
                "api_base: {api_base:?} contains characters a URL cannot"
            ));
        }

        let store = self.store_with(&mut problems);

        let dist_dir = self.dist_dir.clone().unwrap_or_else(default_dist_dir);

        let admin_listen = edge::admin_listen(&self, listen, &mut problems);
        let security = security::validate(&self, &store, &mut problems);
        let mut limits = Limits::default();
        edge::limits(&self, &mut limits, &mut problems);
        if let Some(n) = self.limits.body_bytes {
            if !(1024..=1024 * 1024).contains(&n) {
                problems.push(format!("limits.body_bytes: {n} is outside 1024..=1048576"));
            }
            limits.body_bytes = n;
        }
        if let Some(ms) = self.limits.request_timeout_ms {
            if ms < 100 {
                problems.push(format!("limits.request_timeout_ms: {ms} is below 100"));
            }
            limits.request_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = self.limits.concurrency {
            if n == 0 {
                problems.push("limits.concurrency: must be at least 1".into());
            }
            limits.concurrency = n.max(1);
        }
        if let Some(h) = &self.limits.client_ip_header {
            match axum::http::HeaderName::from_bytes(h.trim().as_bytes()) {
                Ok(name) => limits.client_ip_header = Some(name),
                Err(_) => problems.push(format!(
                    "limits.client_ip_header: {h:?} is not a header name"
                )),
            }
        }

        let mut outbox = OutboxSettings::default();
        if let Some(n) = self.outbox.batch {
            outbox.batch = n.clamp(1, 1000);
        }
        if let Some(ms) = self.outbox.lease_ms {
            outbox.lease = Duration::from_millis(ms.max(100));
        }
        if let Some(ms) = self.outbox.base_backoff_ms {
            outbox.base_backoff = Duration::from_millis(ms.max(1));
        }
        if let Some(ms) = self.outbox.max_backoff_ms {
            outbox.max_backoff = Duration::from_millis(ms.max(1));
        }
        if let Some(ms) = self.outbox.poll_ms {
            outbox.poll = Duration::from_millis(ms.max(10));
        }
        if let Some(p) = &portal {
            if outbox.lease <= p.timeout {
                problems.push(format!(
                    "outbox.lease_ms ({} ms) must exceed portal.timeout_ms ({} ms): a lease must outlive the call it covers",
                    outbox.lease.as_millis(),
                    p.timeout.as_millis()
                ));
            }
        }

        if let Some(ms) = self.outbox.ambiguous_wait_ms {
            outbox.ambiguous_wait = Duration::from_millis(ms);
        }
        if let Some(ms) = self.outbox.dead_after_ms {
            outbox.dead_after = Duration::from_millis(ms);
        }
        let payments = self.payments.validate(&mut problems);
        let reconcile = crate::payments::reconcile::ReconcileSettings {
            poll: Duration::from_millis(self.payments.reconcile_poll_ms.unwrap_or(1000).max(10)),
        };

        let stripe = match self.acquirer.stripe.as_ref().map(|s| s.validate()) {
            Some(Ok(s)) => Some(s),
            Some(Err(p)) => {
                problems.extend(p);
                None
            }
            None => None,
        };

        match portal {
            Some(portal) if problems.is_empty() => Ok(Config {
                stripe,
                payments,
                reconcile,
                listen,
                admin_listen,
                security,
                public_url,
                allowed_origins,
                api_base,
                store,
                dist_dir,
                cors_origins,
                portal,
                limits,
                outbox,
            }),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// Where the store is, for the commands that only need the store (`attempts`, `outbox`).
    pub fn store_location(&self) -> Result<StoreLocation, ConfigError> {
        let mut problems = Vec::new();
        let store = self.store_with(&mut problems);
        if problems.is_empty() {
            Ok(store)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    fn store_with(&self, problems: &mut Vec<String>) -> StoreLocation {
        match (&self.database_url, &self.data_dir) {
            (Some(url), _) => {
                let u = url.expose();
                if !(u.starts_with("postgres://")
                    || u.starts_with("postgresql://")
                    || u.starts_with("sqlite:"))
                {
                    problems.push(
                        "database_url / DATABASE_URL: must start with postgres://, postgresql:// or sqlite:"
                            .into(),
                    );
                }
                StoreLocation::Url(u.to_string())
            }
            (None, Some(dir)) => StoreLocation::DataDir(dir.clone()),
            (None, None) => StoreLocation::DataDir(PathBuf::from("b24pay-data")),
        }
    }

    fn portal_settings(&self, problems: &mut Vec<String>) -> Option<PortalSettings> {
        let timeout = Duration::from_millis(self.portal.timeout_ms.unwrap_or(20_000));
        if timeout < Duration::from_millis(50) || timeout >= Duration::from_secs(60) {
            problems.push(format!(
                "portal.timeout_ms: {} must be between 50 and 59999 (the portal cuts requests at 60 s)",
                timeout.as_millis()
            ));
        }
        let rate_limit = match self.portal.rate_limit_per_second {
            Some(r) if r <= 0.0 => None,
            Some(r) => Some((r, self.portal.rate_limit_burst.unwrap_or(50).max(1))),
            None => Some((2.0, self.portal.rate_limit_burst.unwrap_or(50).max(1))),
        };
        let (auth, origin) = match (&self.portal.webhook_url, &self.portal.oauth) {
            (Some(_), Some(_)) => {
                problems.push(
                    "portal: set either portal.webhook_url (B24PAY_WEBHOOK_URL) or [portal.oauth], not both"
                        .into(),
                );
                return None;
            }
            (None, None) => {
                problems.push(
                    "portal: no portal configured; set portal.webhook_url (B24PAY_WEBHOOK_URL) or [portal.oauth] (B24PAY_OAUTH_*), or run `b24pay preview`"
                        .into(),
                );
                return None;
            }
            (Some(webhook), None) => {
                // Never echo the URL: it carries the webhook's secret code.
                let url = match Url::parse(webhook.expose().trim()) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
                    _ => {
                        problems.push(
                            "portal.webhook_url: not an http(s) URL (expected https://PORTAL/rest/USER_ID/CODE/)"
                                .into(),
                        );
                        return None;
                    }
                };
                let segments: Vec<&str> = url
                    .path_segments()
                    .map(|s| s.filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default();
                let n = segments.len();
                if n < 3 || segments[n - 3] != "rest" || segments[n - 2].parse::<u64>().is_err() {
                    problems.push(
                        "portal.webhook_url: the path must end in /rest/USER_ID/CODE/".into(),
                    );
                    return None;
                }
                (PortalAuth::Webhook(webhook.clone()), origin_of(&url))
            }
            (None, Some(o)) => {
                let mut missing = Vec::new();
                if o.portal_url.is_none() {
                    missing.push("portal_url");
                }
                if o.client_id.as_deref().is_none_or(str::is_empty) {
                    missing.push("client_id");
                }
                if o.client_secret.is_none() {
                    missing.push("client_secret");
                }
                if !missing.is_empty() {
                    problems.push(format!("portal.oauth: missing {}", missing.join(", ")));
                    return None;
                }
                let portal_url =
                    match parse_http_url("portal.oauth.portal_url", o.portal_url.as_deref()?) {
                        Ok(u) => u,
                        Err(p) => {
                            problems.push(p);
                            return None;
                        }
                    };
                let token_endpoint = match &o.token_endpoint {
                    Some(t) => match parse_http_url("portal.oauth.token_endpoint", t) {
                        Ok(u) => Some(u),
                        Err(p) => {
                            problems.push(p);
                            None
                        }
                    },
                    None => None,
                };
                let origin = origin_of(&portal_url);
                (
                    PortalAuth::OAuth(Box::new(OAuthSettings {
                        portal_url,
                        client_id: o.client_id.clone().unwrap_or_default(),
                        client_secret: o.client_secret.clone()?,
                        refresh_token: o.refresh_token.clone(),
                        access_token: o.access_token.clone(),
                        token_endpoint,
                    })),
                    origin,
                )
            }
        };
        Some(PortalSettings {
            auth,
            origin,
            timeout,
            rate_limit,
            customer_share: edge::customer_share(self, problems),
            batch: self.portal.batch.unwrap_or(true),
        })
    }
}

impl FilePayments {
    /// The payment flow's settings, each checked for sense.
    fn validate(&self, problems: &mut Vec<String>) -> crate::payments::PaymentsConfig {
        let mut p = crate::payments::PaymentsConfig::default();
        let ms = Duration::from_millis;
        if let Some(v) = self.charge_lease_ms {
            if v < 200 {
                problems.push(format!("payments.charge_lease_ms: {v} is below 200"));
            }
            p.lease = ms(v);
        }
        if let Some(v) = self.duplicate_wait_ms {
            p.wait_for_original = ms(v);
        }
        p.allow_test_mode = self.allow_test_mode.unwrap_or(false);
        if let Some(v) = self.action_hold_ms {
            p.action_hold = ms(v.max(1000));
        }
        if let Some(n) = self.max_action_rounds {
            p.max_action_rounds = n.max(1);
        }
        if let Some(n) = self.max_declines {
            p.max_declines = n.max(1);
        }
        if let Some(v) = self.decline_window_ms {
            p.decline_window = ms(v);
        }
        if let Some(v) = self.cancel_after_ms {
            p.cancel_after = ms(v);
        }
        if let Some(v) = self.review_after_ms {
            p.review_after = ms(v);
        }
        let g = &mut p.guard;
        g.per_client_per_minute = self.client_per_minute.unwrap_or(g.per_client_per_minute);
        g.per_client_burst = self.client_burst.unwrap_or(g.per_client_burst).max(1);
        g.per_payment_per_minute = self.payment_per_minute.unwrap_or(g.per_payment_per_minute);
        g.per_payment_burst = self.payment_burst.unwrap_or(g.per_payment_burst).max(1);
        if let Some(v) = self.refusal_cache_ms {
            g.refusal_ttl = ms(v);
        }
        p
    }
}

fn default_public_url(listen: SocketAddr) -> Url {
    let host = if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        listen.ip().to_string()
    };
    Url::parse(&format!("http://{host}:{}/", listen.port())).expect("valid URL")
}

/// `dist/` next to the binary, else the repository's `dist/` (for `cargo run`), else `./dist`.
pub fn default_dist_dir() -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("dist"));
        }
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    candidates.push(PathBuf::from("dist"));
    candidates
        .iter()
        .find(|c| c.join("index.html").is_file())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("dist"))
}

fn parse_http_url(key: &str, text: &str) -> Result<Url, String> {
    match Url::parse(text.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        Ok(_) => Err(format!(
            "{key}: {text:?} must be an http(s) URL with a host"
        )),
        Err(e) => Err(format!("{key}: {text:?} is not a valid URL ({e})")),
    }
}

/// `scheme://host[:port]` as the browser serialises an origin.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Parses an exact origin; refuses paths, queries, wildcards and non-http schemes with a message
/// that says what is wrong.
pub fn parse_origin(key: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.contains('*') {
        return Err(format!(
            "{key}: {text:?}: wildcards are not allowed; list exact origins"
        ));
    }
    let url = match Url::parse(text) {
        Ok(u) => u,
        Err(_) => {
            return Err(format!(
                "{key}: {text:?} is not an origin; write scheme://host[:port], e.g. https://shop.bitrix24.ru"
            ))
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{key}: {text:?} must be an http(s) origin"));
    }
    if url.path() != "/" {
        return Err(format!(
            "{key}: {text:?} is not an origin (it has a path); write scheme://host[:port]"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{key}: {text:?} is not an origin (it has a query, fragment or user); write scheme://host[:port]"
        ));
    }
    Ok(origin_of(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            parse_origin("k", "https://A.bitrix24.ru").unwrap(),
            "https://a.bitrix24.ru"
        );
        assert_eq!(
            parse_origin("k", "https://a.bitrix24.ru/").unwrap(),
            "https://a.bitrix24.ru"
        );
        assert_eq!(
            parse_origin("k", "http://127.0.0.1:8081").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert!(parse_origin("k", "https://a.ru/shop")
            .unwrap_err()
            .contains("has a path"));
        assert!(parse_origin("k", "https://*.bitrix24.ru")
            .unwrap_err()
            .contains("wildcard"));
        assert!(parse_origin("k", "a.bitrix24.ru").is_err());
        assert!(parse_origin("k", "ftp://a.ru").is_err());
    }
}
