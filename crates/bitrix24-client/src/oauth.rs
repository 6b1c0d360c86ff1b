//! Keeping an OAuth access token fresh. Refresh tokens are single use, so concurrent calls
//! that all see `expired_token` must share one refresh: the first caller refreshes, the others
//! wait for it and then use its result. Across processes the [`TokenStore`]'s lock does the
//! same: the refresher holds it, and a process that waited reloads the tokens the other one
//! saved instead of spending the same refresh token again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::auth::{host_of, BoxError, OAuth, OAuthConfig, OAuthTokens, TokenStore};
use crate::error::{Call, Error, ProtocolKind};
use crate::secret::{scrub, Secret};
use crate::transport;

/// The OAuth server's replies are a few hundred bytes.
const MAX_TOKEN_REPLY_BYTES: usize = 64 * 1024;
/// Access tokens live an hour; an expiry further out than this is not believed.
const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

pub(crate) struct TokenManager {
    config: OAuthConfig,
    store: Arc<dyn TokenStore>,
    current: Mutex<Current>,
    /// Held for the whole refresh. Holds the generation whose refresh failed permanently, so
    /// that callers queued behind a rejected refresh token do not each send it again.
    refresh_lock: tokio::sync::Mutex<Option<(u64, Error)>>,
    refreshes: AtomicU64,
    /// Refresh tokens this process spent (the latest few): tokens in the store that carry one
    /// are older than ours (a save that failed), not another process's refresh.
    spent: Mutex<std::collections::VecDeque<Secret>>,
}

/// How an expired token was replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Renewal {
    /// This call refreshed it at the OAuth server.
    Refreshed,
    /// Another call, or another process through the store, already had.
    Reloaded,
}

/// How many spent refresh tokens are remembered.
const SPENT_REMEMBERED: usize = 8;

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
            spent: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// Where `method` is called: the portal's REST endpoint as the OAuth server last named it
    /// (a portal that moved), else as configured.
    pub(crate) fn method_url(&self, method: &str) -> url::Url {
        let endpoint = self
            .current
            .lock()
            .expect("not poisoned")
            .tokens
            .client_endpoint
            .clone();
        endpoint
            .and_then(|e| OAuthConfig::new(&e, String::new(), "").ok())
            // Never from https down to plain http.
            .filter(|c| {
                c.portal_url.scheme() == "https" || self.config.portal_url.scheme() == "http"
            })
            .map_or_else(|| self.config.method_url(method), |c| c.method_url(method))
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

    /// Replaces the access token of generation `seen`, unless another caller (in this process
    /// or, through the store, in another) already did.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        seen: u64,
    ) -> Result<Renewal, Error> {
        let mut failed = self.refresh_lock.lock().await;
        if self.current.lock().expect("not poisoned").generation != seen {
            tracing::debug!("oauth: token already refreshed by another call");
            return Ok(Renewal::Reloaded);
        }
        if let Some((generation, err)) = failed.as_ref() {
            if *generation == seen {
                return Err(err.clone());
            }
        }
        let lock = self.store_call("lock", timeout, self.store.lock()).await?;
        let result = self.refresh_locked(http, timeout, seen, &mut failed).await;
        lock.release().await;
        result
    }

    /// The refresh itself, under both locks.
    async fn refresh_locked(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        seen: u64,
        failed: &mut Option<(u64, Error)>,
    ) -> Result<Renewal, Error> {
        let stored = self.store_call("load", timeout, self.store.load()).await?;
        if let Some(stored) = stored {
            if self.adopt(stored) {
                return Ok(Renewal::Reloaded);
            }
        }
        let refresh_token = self.tokens().refresh_token;
        let reply = match self.request(http, timeout, &refresh_token).await {
            Ok(reply) => reply,
            Err(err) => {
                if !err.is_retryable() {
                    *failed = Some((seen, err.clone()));
                }
                tracing::warn!(code = err.code(), "oauth: token refresh failed");
                return Err(err);
            }
        };
        {
            let mut spent = self.spent.lock().expect("not poisoned");
            if spent.len() == SPENT_REMEMBERED {
                spent.pop_front();
            }
            spent.push_back(refresh_token);
        }
        let tokens = self.install(reply);
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(host = %host_of(&self.config.portal_url), "oauth: access token refreshed");
        // Saved while still holding the locks, so a second refresh cannot overtake this save
        // and leave the store with a spent refresh token.
        if let Err(err) = self.store.save(&tokens).await {
            // The new tokens stay in use; the next refresh saves again.
            let message = scrub(
                err.to_string(),
                &[&tokens.access_token, &tokens.refresh_token],
            );
            tracing::error!(error = %message, "oauth: saving refreshed tokens failed");
        }
        Ok(Renewal::Refreshed)
    }

    /// Uses tokens from the store when another process refreshed them (they are neither the
    /// ones in use nor older ones this process replaced). True when adopted.
    fn adopt(&self, stored: OAuthTokens) -> bool {
        if self
            .spent
            .lock()
            .expect("not poisoned")
            .contains(&stored.refresh_token)
        {
            return false;
        }
        let mut c = self.current.lock().expect("not poisoned");
        if stored.access_token == c.tokens.access_token
            && stored.refresh_token == c.tokens.refresh_token
        {
            return false;
        }
        c.tokens = stored;
        c.generation += 1;
        tracing::info!(
            host = %host_of(&self.config.portal_url),
            "oauth: using the tokens another instance refreshed"
        );
        true
    }

    /// Replaces the tokens in use with the OAuth server's reply; the new tokens.
    fn install(&self, reply: TokenReply) -> OAuthTokens {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let mut c = self.current.lock().expect("not poisoned");
        let old = &c.tokens;
        c.tokens = OAuthTokens {
            access_token: Secret::new(reply.access_token),
            refresh_token: Secret::new(reply.refresh_token),
            expires_at: expiry(now, reply.expires, reply.expires_in),
            client_endpoint: reply
                .client_endpoint
                .or_else(|| old.client_endpoint.clone()),
            member_id: reply.member_id.or_else(|| old.member_id.clone()),
            domain: reply.domain.or_else(|| old.domain.clone()),
            scope: reply.scope.or_else(|| old.scope.clone()),
        };
        c.generation += 1;
        c.tokens.clone()
    }

    /// A call to the token store, bounded by `timeout`. Its failure is retryable: nothing was
    /// sent to the OAuth server.
    async fn store_call<T>(
        &self,
        what: &str,
        timeout: Duration,
        call: impl std::future::Future<Output = Result<T, BoxError>>,
    ) -> Result<T, Error> {
        let description = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err)) => self.scrub(err.to_string()),
            Err(_) => format!("no answer within {} ms", timeout.as_millis()),
        };
        tracing::error!(error = %description, "oauth: token store {what} failed");
        Err(Error::TokenRefresh {
            host: "token store".into(),
            code: "TOKEN_STORE_UNAVAILABLE".into(),
            description: format!("{what}: {description}"),
            status: 503,
        })
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
        let body = transport::read_body(&call, response, MAX_TOKEN_REPLY_BYTES, &secrets).await?;
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
                code: crate::envelope::clip(code, crate::envelope::MAX_CODE_CHARS),
                description: crate::envelope::clip(
                    &secrets(description),
                    crate::envelope::MAX_DESCRIPTION_CHARS,
                ),
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

/// When a new access token expires: the server's absolute `expires`, else `now + expires_in`,
/// believed only within a day from now (a hostile or broken server cannot overflow it).
fn expiry(now: i64, expires: Option<i64>, expires_in: Option<i64>) -> Option<i64> {
    let latest = now.saturating_add(MAX_TOKEN_LIFETIME_SECS);
    let plausible = |at: i64| (now..=latest).contains(&at);
    expires
        .filter(|at| plausible(*at))
        .or_else(|| expires_in.map(|s| now.saturating_add(s.clamp(0, MAX_TOKEN_LIFETIME_SECS))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_expiry_is_clamped_not_overflowed() {
        let now = 1_700_000_000;
        assert_eq!(expiry(now, Some(now + 3600), None), Some(now + 3600));
        assert_eq!(expiry(now, None, Some(3600)), Some(now + 3600));
        assert_eq!(
            expiry(now, Some(i64::MAX), Some(i64::MAX)),
            Some(now + MAX_TOKEN_LIFETIME_SECS)
        );
        assert_eq!(expiry(now, Some(i64::MIN), Some(i64::MIN)), Some(now));
        assert_eq!(expiry(i64::MAX, None, Some(i64::MAX)), Some(i64::MAX));
        assert_eq!(expiry(now, None, None), None);
    }
}
