//! `[portal]` and `[portal.oauth]`: which portal the companion talks to, how it authenticates,
//! and the portal's request budget.

use super::network::{origin_of, parse_http_url};
use super::Secret;
use serde::Deserialize;
use std::time::Duration;
use url::Url;

/// Customers may fill this share of the portal's bucket; the rest is the outbox's.
pub const DEFAULT_CUSTOMER_SHARE: f64 = 0.8;

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

#[derive(Clone, Debug)]
pub enum PortalAuth {
    Webhook(Secret),
    OAuth(Box<OAuthSettings>),
    /// No portal of its own: `[app]` is set and portals install the application.
    AppOnly,
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

impl FilePortal {
    /// True when something says which portal to use.
    pub fn is_set(&self) -> bool {
        self.webhook_url.is_some() || self.oauth.is_some()
    }

    /// `app`: an `[app]` is configured, so no portal of its own is needed.
    pub(super) fn validate(&self, app: bool, problems: &mut Vec<String>) -> Option<PortalSettings> {
        let timeout = Duration::from_millis(self.timeout_ms.unwrap_or(20_000));
        if timeout < Duration::from_millis(50) || timeout >= Duration::from_secs(60) {
            problems.push(format!(
                "portal.timeout_ms: {} must be between 50 and 59999 (the portal cuts requests at 60 s)",
                timeout.as_millis()
            ));
        }
        let burst = self.rate_limit_burst.unwrap_or(50).max(1);
        let rate_limit = match self.rate_limit_per_second {
            Some(r) if r <= 0.0 => None,
            Some(r) => Some((r, burst)),
            None => Some((2.0, burst)),
        };
        let customer_share = self.customer_share(problems);
        let (auth, origin) = match (&self.webhook_url, &self.oauth) {
            (Some(_), Some(_)) => {
                problems.push(
                    "portal: set either portal.webhook_url (B24PAY_WEBHOOK_URL) or [portal.oauth], not both"
                        .into(),
                );
                return None;
            }
            (None, None) if app => (PortalAuth::AppOnly, String::new()),
            (None, None) => {
                problems.push(
                    "portal: no portal configured; set portal.webhook_url (B24PAY_WEBHOOK_URL) or [portal.oauth] (B24PAY_OAUTH_*), or run `b24pay preview`"
                        .into(),
                );
                return None;
            }
            (Some(webhook), None) => webhook_auth(webhook, problems)?,
            (None, Some(o)) => o.validate(problems)?,
        };
        Some(PortalSettings {
            auth,
            origin,
            timeout,
            rate_limit,
            customer_share,
            batch: self.batch.unwrap_or(true),
        })
    }

    fn customer_share(&self, problems: &mut Vec<String>) -> f64 {
        match self.customer_share {
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
}

/// A webhook URL ends in `/rest/USER_ID/CODE/`. Never echoed: it carries the webhook's code.
fn webhook_auth(webhook: &Secret, problems: &mut Vec<String>) -> Option<(PortalAuth, String)> {
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
        problems.push("portal.webhook_url: the path must end in /rest/USER_ID/CODE/".into());
        return None;
    }
    Some((PortalAuth::Webhook(webhook.clone()), origin_of(&url)))
}

impl FileOAuth {
    fn validate(&self, problems: &mut Vec<String>) -> Option<(PortalAuth, String)> {
        let client_id = self.client_id.as_deref().filter(|s| !s.is_empty());
        let missing: Vec<&str> = [
            ("portal_url", self.portal_url.is_none()),
            ("client_id", client_id.is_none()),
            ("client_secret", self.client_secret.is_none()),
        ]
        .into_iter()
        .filter_map(|(key, absent)| absent.then_some(key))
        .collect();
        if !missing.is_empty() {
            problems.push(format!("portal.oauth: missing {}", missing.join(", ")));
            return None;
        }
        let portal_url = parse_http_url("portal.oauth.portal_url", self.portal_url.as_deref()?)
            .map_err(|p| problems.push(p))
            .ok()?;
        let token_endpoint = self.token_endpoint.as_ref().and_then(|t| {
            parse_http_url("portal.oauth.token_endpoint", t)
                .map_err(|p| problems.push(p))
                .ok()
        });
        let origin = origin_of(&portal_url);
        let settings = OAuthSettings {
            portal_url,
            client_id: client_id?.to_string(),
            client_secret: self.client_secret.clone()?,
            refresh_token: self.refresh_token.clone(),
            access_token: self.access_token.clone(),
            token_endpoint,
        };
        Some((PortalAuth::OAuth(Box::new(settings)), origin))
    }
}
