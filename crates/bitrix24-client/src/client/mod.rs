//! The client: one call with rate limiting, retries, token refresh, logging and error mapping
//! (its configuration in `builder.rs`). The typed methods live in `handler/`, `paysystem.rs`,
//! `settings.rs` and `pay.rs`.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{Auth, OAuthTokens, Webhook};
use crate::budget::Budget;
use crate::envelope;
use crate::error::{Call, Error};
use crate::oauth::{Renewal, TokenManager};
use crate::rate_limit::Priority;
use crate::retry::{delay_for, Retry, RetryConfig};
use crate::secret::{scrub, Secret};
use crate::transport;

mod builder;
pub use builder::ClientBuilder;

/// The portal cuts requests at 60 s; giving up earlier leaves room to retry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A Bitrix24 REST client. Cheap to clone; clones share the rate limiter and OAuth tokens.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Which share of the rate limit this handle's calls may use.
    priority: Priority,
}

/// Replies larger than this are refused unread (the portal's pay-system replies are a few KB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// How often one call may pick up tokens another call or process refreshed (besides its own one
/// refresh): bounded, though each needs a real refresh elsewhere.
const MAX_TOKEN_RELOADS: u32 = 3;

struct Inner {
    http: reqwest::Client,
    auth: AuthState,
    host: String,
    budget: Option<Arc<dyn Budget>>,
    retry: RetryConfig,
    timeout: Duration,
    max_response_bytes: usize,
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
            .field("rate_limit", &self.inner.budget.is_some())
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("priority", &self.priority)
            .finish()
    }
}

impl Client {
    /// The same client (shared rate limiter, tokens and connections) whose calls have
    /// `priority` in the rate limit.
    pub fn with_priority(&self, priority: Priority) -> Client {
        Client {
            inner: self.inner.clone(),
            priority,
        }
    }

    /// The priority this handle's calls have.
    pub fn priority(&self) -> Priority {
        self.priority
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
        let deadline = later(Instant::now(), cfg.max_total);
        let mut attempt: u32 = 0;
        let mut failures: u32 = 0;
        let mut refreshed = false;
        let mut reloads: u32 = 0;
        let mut last_error: Option<Error> = None;
        loop {
            attempt += 1;
            if let Err(wait) = self.wait_for_slot(deadline).await {
                tracing::warn!(
                    attempt,
                    wait_ms = millis(wait),
                    "bitrix24 call gave up: client-side rate limit exceeds max_total"
                );
                return Err(last_error.unwrap_or_else(|| Error::Throttled {
                    call: Call::new(method, &self.inner.host),
                    wait,
                }));
            }
            let timeout = self.inner.timeout.min(remaining_after(deadline));
            let t0 = Instant::now();
            let (result, generation) = self.send_once::<T>(method, body, timeout).await;
            let elapsed_ms = millis(t0.elapsed());
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
                if let Some(budget) = &self.inner.budget {
                    budget.mark_full().await;
                }
            }
            // A portal that moved answers with a redirect (never followed: it would carry the
            // token elsewhere); the refreshed tokens name its new endpoint, which the next try
            // goes to.
            let renew = err.is_expired_token() || err.is_moved();
            if renew && !refreshed && reloads < MAX_TOKEN_RELOADS {
                // Refused before execution: always safe to send again with a fresh token. Tokens
                // refreshed elsewhere may have expired too, so they do not use up this call's
                // own refresh.
                match self.recover_token(generation, deadline).await {
                    Some(Ok(Renewal::Refreshed)) => {
                        refreshed = true;
                        continue;
                    }
                    Some(Ok(Renewal::Reloaded)) => {
                        reloads += 1;
                        continue;
                    }
                    // A transient refresh failure goes through the retry rules below.
                    Some(Err(refresh_err)) => err = refresh_err,
                    None => {}
                }
            }
            failures += 1;
            let Some(delay) = self.retry_delay(&err, retry, failures, deadline, attempt) else {
                return Err(err);
            };
            tokio::time::sleep(delay).await;
            last_error = Some(err);
        }
    }

    /// Waits for the rate limiter, at most until `deadline`.
    async fn wait_for_slot(&self, deadline: Instant) -> Result<(), Duration> {
        match &self.inner.budget {
            Some(budget) => {
                let max_wait = deadline.saturating_duration_since(Instant::now());
                budget.acquire(self.priority, max_wait).await
            }
            None => Ok(()),
        }
    }

    /// How long a call of this handle's priority would wait for the rate limit now (zero
    /// without one); reserves nothing. A caller gathering a [`Batch`](crate::Batch) can keep
    /// adding commands until its slot is there.
    pub async fn wait_now(&self) -> Duration {
        match &self.inner.budget {
            Some(budget) => budget.wait_now(self.priority).await,
            None => Duration::ZERO,
        }
    }

    /// Like [`Client::wait_now`], for a caller whose batch is ready to go: when it would wait,
    /// the budget notes it as waiting, so the other priority takes turns with it.
    pub async fn ready_wait(&self) -> Duration {
        match &self.inner.budget {
            Some(budget) => budget.ready_wait(self.priority).await,
            None => Duration::ZERO,
        }
    }

    /// How long until the portal's bucket (as the budget models it) is back at half full; zero
    /// without a rate limit. Above zero, requests are scarce for a while: a batch is worth
    /// filling before it is sent.
    pub async fn pressure(&self) -> Duration {
        match &self.inner.budget {
            Some(budget) => budget.pressure().await,
            None => Duration::ZERO,
        }
    }

    /// The longest a call may wait for the rate limit before it is refused at once
    /// ([`Error::Throttled`]): the retry configuration's `max_total`.
    pub fn max_wait(&self) -> Duration {
        self.inner.retry.max_total
    }

    /// Replaces an expired OAuth token (generation `seen`); `None` for a webhook client.
    async fn recover_token(
        &self,
        seen: Option<u64>,
        deadline: Instant,
    ) -> Option<Result<Renewal, Error>> {
        let (AuthState::OAuth(tokens), Some(generation)) = (&self.inner.auth, seen) else {
            return None;
        };
        let timeout = self.inner.timeout.min(remaining_after(deadline));
        Some(tokens.refresh(&self.inner.http, timeout, generation).await)
    }

    /// How long to wait before retrying after `err`; `None` when the call gives up.
    fn retry_delay(
        &self,
        err: &Error,
        retry: Retry,
        failures: u32,
        deadline: Instant,
        attempt: u32,
    ) -> Option<Duration> {
        let cfg = &self.inner.retry;
        if !retry.allows(err.retry_class()) || failures >= cfg.max_attempts {
            tracing::warn!(
                attempt,
                code = err.code(),
                status = err.http_status(),
                "bitrix24 call gave up"
            );
            return None;
        }
        // Compared as durations: a hostile `Retry-After` must not overflow an `Instant`.
        let delay = delay_for(cfg, failures, err);
        if delay >= deadline.saturating_duration_since(Instant::now()) {
            tracing::warn!(
                attempt,
                code = err.code(),
                delay_ms = millis(delay),
                "bitrix24 call gave up: retry would exceed max_total"
            );
            return None;
        }
        tracing::info!(
            attempt,
            code = err.code(),
            status = err.http_status(),
            delay_ms = millis(delay),
            "bitrix24 call will be retried"
        );
        Some(delay)
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
                    m.method_url(method),
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
            let max = self.inner.max_response_bytes;
            let bytes = transport::read_body(&call, response, max, &secrets).await?;
            envelope::parse::<T>(&call, status, retry_after, &bytes, &secrets).map(|v| (v, status))
        }
        .await;
        (result, generation)
    }
}

/// `at + d`, saturating at a year from `at` instead of overflowing.
fn later(at: Instant, d: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    at.checked_add(d.min(YEAR)).unwrap_or(at)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
