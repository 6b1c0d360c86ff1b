//! Keeping an OAuth access token fresh. Refresh tokens are single use, so concurrent calls
//! that all see `expired_token` must share one refresh: the first caller refreshes, the others
//! wait for it and then use its result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::auth::{host_of, OAuth, OAuthConfig, OAuthTokens, TokenStore};
use crate::error::{Call, Error, ProtocolKind};
use crate::secret::{scrub, Secret};
use crate::transport;

pub(crate) struct TokenManager {
    config: OAuthConfig,
    store: Arc<dyn TokenStore>,
    current: Mutex<Current>,
    /// Held for the whole refresh. Holds the generation whose refresh failed permanently, so
    /// that callers queued behind a rejected refresh token do not each send it again.
    refresh_lock: tokio::sync::Mutex<Option<(u64, Error)>>,
    refreshes: AtomicU64,
}

struct Current {
    tokens: OAuthTokens,
    /// Incremented by each refresh; a caller that saw generation `g` fail knows whether
    /// someone else already replaced it.
    generation: u64,
}

/// The OAuth server's reply to `grant_type=refresh_token`.
#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    refresh_token: String,
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    expires_in: Option<i64>,
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    expires: Option<i64>,
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    client_endpoint: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    member_id: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    domain: Option<String>,
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    scope: Option<String>,
}

impl TokenManager {
    pub(crate) fn new(oauth: OAuth) -> TokenManager {
        TokenManager {
            config: oauth.config,
            store: oauth.store,
            current: Mutex::new(Current {
                tokens: oauth.tokens,
                generation: 0,
            }),
            refresh_lock: tokio::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
        }
    }

    pub(crate) fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The access token to send, and its generation.
    pub(crate) fn access_token(&self) -> (Secret, u64) {
        let c = self.current.lock().expect("not poisoned");
        (c.tokens.access_token.clone(), c.generation)
    }

    /// The tokens in use now.
    pub(crate) fn tokens(&self) -> OAuthTokens {
        self.current.lock().expect("not poisoned").tokens.clone()
    }

    pub(crate) fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Secrets that must not leak into error text.
    pub(crate) fn scrub(&self, text: String) -> String {
        let c = self.current.lock().expect("not poisoned");
        scrub(
            text,
            &[
                &c.tokens.access_token,
                &c.tokens.refresh_token,
                &self.config.client_secret,
            ],
        )
    }

    /// Replaces the access token of generation `seen`, unless another caller already did.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        seen: u64,
    ) -> Result<(), Error> {
        let mut failed = self.refresh_lock.lock().await;
        let refresh_token = {
            let c = self.current.lock().expect("not poisoned");
            if c.generation != seen {
                tracing::debug!("oauth: token already refreshed by another call");
                return Ok(());
            }
            c.tokens.refresh_token.clone()
        };
        if let Some((generation, err)) = failed.as_ref() {
            if *generation == seen {
                return Err(err.clone());
            }
        }
        let result = self.request(http, timeout, &refresh_token).await;
        let reply = match result {
            Ok(reply) => reply,
            Err(err) => {
                if !err.is_retryable() {
                    *failed = Some((seen, err.clone()));
                }
                tracing::warn!(code = err.code(), "oauth: token refresh failed");
                return Err(err);
            }
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let tokens = {
            let mut c = self.current.lock().expect("not poisoned");
            let old = &c.tokens;
            c.tokens = OAuthTokens {
                access_token: Secret::new(reply.access_token),
                refresh_token: Secret::new(reply.refresh_token),
                expires_at: reply.expires.or(reply.expires_in.map(|s| now + s)),
                client_endpoint: reply
                    .client_endpoint
                    .or_else(|| old.client_endpoint.clone()),
                member_id: reply.member_id.or_else(|| old.member_id.clone()),
                domain: reply.domain.or_else(|| old.domain.clone()),
                scope: reply.scope.or_else(|| old.scope.clone()),
            };
            c.generation += 1;
            c.tokens.clone()
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(host = %host_of(&self.config.portal_url), "oauth: access token refreshed");
        // Saved while still holding the lock, so a second refresh cannot overtake this save
        // and leave the store with a spent refresh token.
        if let Err(err) = self.store.save(&tokens).await {
            // The new tokens stay in use; the next refresh saves again.
            let message = scrub(
                err.to_string(),
                &[&tokens.access_token, &tokens.refresh_token],
            );
            tracing::error!(error = %message, "oauth: saving refreshed tokens failed");
        }
        Ok(())
    }

    async fn request(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        refresh_token: &Secret,
    ) -> Result<TokenReply, Error> {
        let endpoint = &self.config.token_endpoint;
        let host = host_of(endpoint);
        let call = Call::new("oauth.token.refresh", &host);
        let secrets = |s: String| scrub(s, &[refresh_token, &self.config.client_secret]);
        let response = http
            .get(endpoint.clone())
            .query(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ])
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| transport::error(&call, e, &secrets))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport::error(&call, e, &secrets))?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| Error::Protocol {
                call: call.clone(),
                kind: ProtocolKind::NotJson,
                status,
                detail: format!("{} byte body is not JSON", body.len()),
            })?;
        if let Some(code) = value.get("error").and_then(|c| c.as_str()) {
            let description = value
                .get("error_description")
                .and_then(crate::lenient::scalar_to_string)
                .unwrap_or_default();
            return Err(Error::TokenRefresh {
                host,
                code: code.to_owned(),
                description: secrets(description),
                status,
            });
        }
        if !(200..300).contains(&status) {
            return Err(Error::TokenRefresh {
                host,
                code: format!("HTTP_{status}"),
                description: String::new(),
                status,
            });
        }
        serde_json::from_value(value).map_err(|e| Error::Protocol {
            call,
            kind: ProtocolKind::UnexpectedShape,
            status,
            detail: crate::envelope::without_quoted(&e.to_string()),
        })
    }
}
