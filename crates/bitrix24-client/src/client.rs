//! The client: configuration, and one call with rate limiting, retries, token refresh,
//! logging and error mapping. The typed methods live in `handler.rs`, `paysystem.rs`,
//! `settings.rs` and `pay.rs`.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{Auth, OAuthTokens, Webhook};
use crate::envelope;
use crate::error::{Call, Error};
use crate::oauth::TokenManager;
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::retry::{delay_for, Retry, RetryConfig};
use crate::secret::{scrub, Secret};
use crate::transport;

/// The portal cuts requests at 60 s; giving up earlier leaves room to retry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A Bitrix24 REST client. Cheap to clone; clones share the rate limiter and OAuth tokens.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    auth: AuthState,
    host: String,
    limiter: Option<RateLimiter>,
    retry: RetryConfig,
    timeout: Duration,
}

enum AuthState {
    Webhook(Webhook),
    OAuth(Box<TokenManager>),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.inner.host)
            .field(
                "auth",
                &match self.inner.auth {
                    AuthState::Webhook(_) => "webhook",
                    AuthState::OAuth(_) => "oauth",
                },
            )
            .field("rate_limit", &self.inner.limiter.is_some())
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// Configures a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    auth: Auth,
    rate_limit: Option<RateLimit>,
    retry: RetryConfig,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
}

impl ClientBuilder {
    /// Client-side leaky bucket; `None` disables it. Default: 2 requests/s, burst 50.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Per-request timeout (default 30 s; keep it below the portal's 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout for establishing a connection (default 10 s, never above the request timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retry bounds for every call.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        if self.retry.max_attempts == 0 {
            return Err(Error::Config(
                "retry.max_attempts must be at least 1".into(),
            ));
        }
        if let Some(l) = self.rate_limit {
            if !(l.per_second.is_finite() && l.per_second > 0.0) || l.burst == 0 {
                return Err(Error::Config(
                    "rate limit needs per_second > 0 and burst > 0".into(),
                ));
            }
        }
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout.min(self.timeout))
            .timeout(self.timeout)
            // Redirects would re-send the webhook code or token to wherever they point.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {}", e.without_url())))?;
        let host = self.auth.host();
        let auth = match self.auth {
            Auth::Webhook(w) => AuthState::Webhook(w),
            Auth::OAuth(o) => AuthState::OAuth(Box::new(TokenManager::new(*o))),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                auth,
                host,
                limiter: self.rate_limit.map(RateLimiter::new),
                retry: self.retry,
                timeout: self.timeout,
            }),
        })
    }
}

impl Client {
    pub fn builder(auth: Auth) -> ClientBuilder {
        ClientBuilder {
            auth,
            rate_limit: Some(RateLimit::default()),
            retry: RetryConfig::default(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("bitrix24-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// A client with default settings.
    pub fn new(auth: Auth) -> Result<Client, Error> {
        Client::builder(auth).build()
    }

    /// The portal's host (and port), as shown in errors and logs.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// The OAuth tokens in use now (after any refresh), or `None` for a webhook client.
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        match &self.inner.auth {
            AuthState::OAuth(m) => Some(m.tokens()),
            AuthState::Webhook(_) => None,
        }
    }

    /// How many times this client refreshed its OAuth token.
    pub fn token_refresh_count(&self) -> u64 {
        match &self.inner.auth {
            AuthState::OAuth(m) => m.refresh_count(),
            AuthState::Webhook(_) => 0,
        }
    }

    /// Calls any REST method: `params` must serialise to a JSON object; the reply's `result`
    /// is deserialised into `T` (use `serde_json::Value` for anything).
    pub async fn call<P, T>(&self, method: &str, params: &P, retry: Retry) -> Result<T, Error>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        if method.is_empty()
            || !method
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
        {
            return Err(Error::Config(format!("invalid method name {method:?}")));
        }
        let body = serde_json::to_vec(params)
            .map_err(|e| Error::Config(format!("{method}: params: {e}")))?;
        if body.first() != Some(&b'{') {
            return Err(Error::Config(format!(
                "{method}: params must be a JSON object"
            )));
        }
        let span = tracing::info_span!("bitrix24.call", method, host = %self.inner.host);
        self.execute(method, &body, retry).instrument(span).await
    }

    async fn execute<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &[u8],
        retry: Retry,
    ) -> Result<T, Error> {
        let cfg = &self.inner.retry;
        let started = Instant::now();
        let deadline = started + cfg.max_total;
        let mut attempt: u32 = 0;
        let mut failures: u32 = 0;
        let mut refreshed = false;
        let mut last_error: Option<Error> = None;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.inner.limiter {
                let budget = deadline.saturating_duration_since(Instant::now());
                if let Err(wait) = limiter.acquire(budget).await {
                    tracing::warn!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "bitrix24 call gave up: client-side rate limit exceeds max_total"
                    );
                    return Err(last_error.unwrap_or_else(|| Error::Throttled {
                        call: Call::new(method, &self.inner.host),
                        wait,
                    }));
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let timeout = self
                .inner
                .timeout
                .min(remaining)
                .max(Duration::from_millis(1));
            let t0 = Instant::now();
            let (result, generation) = self.send_once::<T>(method, body, timeout).await;
            let elapsed_ms = t0.elapsed().as_millis() as u64;
            let mut err = match result {
                Ok((value, status)) => {
                    tracing::debug!(attempt, elapsed_ms, status, "bitrix24 call succeeded");
                    return Ok(value);
                }
                Err(err) => err,
            };
            tracing::debug!(
                attempt,
                elapsed_ms,
                status = err.http_status(),
                code = err.code(),
                "bitrix24 call failed"
            );
            if err.is_query_limit() {
                if let Some(limiter) = &self.inner.limiter {
                    limiter.mark_full();
                }
            }
            if err.is_expired_token() && !refreshed {
                if let (AuthState::OAuth(tokens), Some(generation)) = (&self.inner.auth, generation)
                {
                    // Refused before execution: always safe to send again, once.
                    let refresh_timeout = self.inner.timeout.min(remaining_after(deadline));
                    match tokens
                        .refresh(&self.inner.http, refresh_timeout, generation)
                        .await
                    {
                        Ok(()) => {
                            refreshed = true;
                            continue;
                        }
                        // A transient refresh failure goes through the retry rules below.
                        Err(refresh_err) => err = refresh_err,
                    }
                }
            }
            failures += 1;
            let class = err.retry_class();
            if !retry.allows(class) || failures >= cfg.max_attempts {
                tracing::warn!(
                    attempt,
                    code = err.code(),
                    status = err.http_status(),
                    "bitrix24 call gave up"
                );
                return Err(err);
            }
            let delay = delay_for(cfg, failures, &err);
            if Instant::now() + delay >= deadline {
                tracing::warn!(
                    attempt,
                    code = err.code(),
                    delay_ms = delay.as_millis() as u64,
                    "bitrix24 call gave up: retry would exceed max_total"
                );
                return Err(err);
            }
            tracing::info!(
                attempt,
                code = err.code(),
                status = err.http_status(),
                delay_ms = delay.as_millis() as u64,
                "bitrix24 call will be retried"
            );
            tokio::time::sleep(delay).await;
            last_error = Some(err);
        }
    }

    /// One HTTP request. Returns the OAuth token generation used, for refresh coalescing.
    async fn send_once<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &[u8],
        timeout: Duration,
    ) -> (Result<(T, u16), Error>, Option<u64>) {
        let call = Call::new(method, &self.inner.host);
        let (url, body, generation, secrets): (
            _,
            Vec<u8>,
            _,
            Box<dyn Fn(String) -> String + Send + Sync>,
        ) = match &self.inner.auth {
            AuthState::Webhook(w) => {
                let code = w.code.clone();
                (
                    w.method_url(method),
                    body.to_vec(),
                    None,
                    Box::new(move |s| scrub(s, &[&code])),
                )
            }
            AuthState::OAuth(m) => {
                let (token, generation) = m.access_token();
                (
                    m.config().method_url(method),
                    with_auth(body, &token),
                    Some(generation),
                    Box::new(move |s| m.scrub(s)),
                )
            }
        };
        let result = async {
            let response = self
                .inner
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(timeout)
                .body(body)
                .send()
                .await
                .map_err(|e| transport::error(&call, e, &secrets))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let bytes = response
                .bytes()
                .await
                .map_err(|e| transport::error(&call, e, &secrets))?;
            envelope::parse::<T>(&call, status, retry_after, &bytes, &secrets).map(|v| (v, status))
        }
        .await;
        (result, generation)
    }
}

fn remaining_after(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// Adds `"auth": token` to a serialised JSON object, keeping the params' key order.
fn with_auth(params: &[u8], token: &Secret) -> Vec<u8> {
    let token_json = serde_json::to_vec(token.expose()).expect("a string serialises");
    let mut out = Vec::with_capacity(params.len() + token_json.len() + 10);
    out.extend_from_slice(b"{\"auth\":");
    out.extend_from_slice(&token_json);
    let rest = &params[1..];
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_is_spliced_into_params() {
        let t = Secret::new("tok\"en");
        assert_eq!(with_auth(b"{}", &t), br#"{"auth":"tok\"en"}"#);
        let out = with_auth(br#"{"ID":1,"B":[1]}"#, &t);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, serde_json::json!({"auth": "tok\"en", "ID": 1, "B": [1]}));
    }
}
