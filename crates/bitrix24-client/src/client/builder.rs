//! Configuring a [`Client`]: rate limit, budget, retries, timeouts, reply size.

use std::sync::Arc;
use std::time::Duration;

use super::{AuthState, Client, Inner, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use crate::auth::Auth;
use crate::budget::Budget;
use crate::error::Error;
use crate::oauth::TokenManager;
use crate::rate_limit::{Priority, RateLimit, RateLimiter};
use crate::retry::RetryConfig;

/// Configures a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    auth: Auth,
    rate_limit: Option<RateLimit>,
    customer_share: f64,
    budget: Option<Arc<dyn Budget>>,
    retry: RetryConfig,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    max_response_bytes: usize,
}

impl ClientBuilder {
    /// Client-side leaky bucket; `None` disables it. Default: 2 requests/s, burst 50.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The share of the rate limit's bucket that [`Priority::Customer`] calls may fill
    /// (default 1: all of it). The rest is kept for [`Priority::Background`] calls, which may
    /// use the whole bucket. Between 0 (exclusive) and 1.
    pub fn customer_share(mut self, share: f64) -> Self {
        self.customer_share = share;
        self
    }

    /// Takes slots from `budget` instead of a leaky bucket of this client's own (which
    /// [`ClientBuilder::rate_limit`] and [`ClientBuilder::customer_share`] configure): e.g. a
    /// [`SharedBudget`](crate::SharedBudget) that every process calling the portal shares.
    pub fn budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Replies larger than this are refused without being read whole (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
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
        if !(self.customer_share > 0.0 && self.customer_share <= 1.0) {
            return Err(Error::Config(
                "customer_share must be above 0 and at most 1".into(),
            ));
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
        let share = self.customer_share;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                auth,
                host,
                budget: self.budget.or_else(|| {
                    self.rate_limit.map(|l| {
                        Arc::new(RateLimiter::with_customer_share(l, share)) as Arc<dyn Budget>
                    })
                }),
                retry: self.retry,
                timeout: self.timeout,
                max_response_bytes: self.max_response_bytes.max(1024),
            }),
            priority: Priority::default(),
        })
    }
}

impl Client {
    pub fn builder(auth: Auth) -> ClientBuilder {
        ClientBuilder {
            auth,
            rate_limit: Some(RateLimit::default()),
            customer_share: 1.0,
            budget: None,
            retry: RetryConfig::default(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("bitrix24-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}
