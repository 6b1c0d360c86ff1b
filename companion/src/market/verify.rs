//! Tokens handed over by an event or the install page are checked with the OAuth server of the
//! configured `[app]` (never a URL the request names): a refresh with our client secret
//! succeeds only for tokens the platform issued to this app, and its answer says which portal
//! they belong to (`member_id`) and where it is (`client_endpoint`). A request that names
//! another `member_id` than the OAuth server does is forged.

use super::form::Handover;
use crate::config::AppSettings;
use crate::register::Scopes;
use bitrix24_client::OAuthTokens;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
struct Reply {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    member_id: Option<String>,
    #[serde(default)]
    client_endpoint: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// A portal's tokens, fresh from the OAuth server, and who it says the portal is.
pub struct Verified {
    pub tokens: OAuthTokens,
    pub member_id: String,
    pub client_endpoint: url::Url,
    /// The scopes the portal granted the app, as the OAuth server says (`pay_system,sale`).
    pub scopes: Scopes,
}

impl Verified {
    /// `host[:port]`, as the platform writes `DOMAIN`.
    pub fn domain(&self) -> String {
        let host = self.client_endpoint.host_str().unwrap_or_default();
        match self.client_endpoint.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    pub fn origin(&self) -> String {
        self.client_endpoint.origin().ascii_serialization()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the OAuth server refused the tokens")]
    Refused,
    #[error("the tokens belong to another portal than the request names")]
    OtherPortal,
    #[error("the OAuth server could not be asked: {0}")]
    Unreachable(String),
}

pub async fn verify(
    http: &reqwest::Client,
    app: &AppSettings,
    handover: &Handover,
) -> Result<Verified, VerifyError> {
    let response = http
        .get(app.token_endpoint.clone())
        .query(&[
            ("grant_type", "refresh_token"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.expose()),
            ("refresh_token", handover.refresh_token.as_str()),
        ])
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| VerifyError::Unreachable(e.without_url().to_string()))?;
    if response.status().is_client_error() {
        return Err(VerifyError::Refused);
    }
    if !response.status().is_success() {
        return Err(VerifyError::Unreachable(response.status().to_string()));
    }
    let reply: Reply = response.json().await.map_err(|_| VerifyError::Refused)?;
    if reply.member_id.as_deref() != Some(handover.member_id.as_str()) {
        return Err(VerifyError::OtherPortal);
    }
    let client_endpoint = reply
        .client_endpoint
        .as_deref()
        .and_then(|e| url::Url::parse(e).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or(VerifyError::Refused)?;
    let mut tokens = OAuthTokens::new(reply.access_token, reply.refresh_token);
    let lifetime = reply.expires_in.and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    });
    tokens.expires_at = lifetime.map(|s| crate::store::now_ms() / 1000 + s);
    tokens.client_endpoint = Some(client_endpoint.to_string());
    tokens.member_id = Some(handover.member_id.clone());
    Ok(Verified {
        tokens,
        member_id: handover.member_id.clone(),
        client_endpoint,
        scopes: Scopes::parse(reply.scope.as_deref().unwrap_or_default()),
    })
}
