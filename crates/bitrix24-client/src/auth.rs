//! How the client authenticates: an incoming webhook URL, or an OAuth application's tokens
//! with a store that keeps refreshed tokens across restarts.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use url::Url;

use crate::error::Error;
use crate::secret::Secret;

/// Bitrix24's OAuth server, used to refresh tokens of cloud portals.
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://oauth.bitrix.info/oauth/token/";

/// Credentials for calling a portal.
#[derive(Clone)]
pub enum Auth {
    /// `https://PORTAL/rest/USER_ID/CODE/` + method.
    Webhook(Webhook),
    /// `https://PORTAL/rest/` + method, with `auth` = access token.
    OAuth(Box<OAuth>),
}

impl Auth {
    /// Parses an incoming webhook URL such as `https://portal.bitrix24.ru/rest/1/abc123/`
    /// (the trailing slash is optional). `http` is accepted for local test portals.
    pub fn webhook(url: &str) -> Result<Auth, Error> {
        Webhook::parse(url).map(Auth::Webhook)
    }

    /// OAuth with the app's current tokens; refreshed tokens are handed to `store`.
    pub fn oauth(config: OAuthConfig, tokens: OAuthTokens, store: Arc<dyn TokenStore>) -> Auth {
        Auth::OAuth(Box::new(OAuth {
            config,
            tokens,
            store,
        }))
    }

    /// Host (and port, if not the default) of the portal, for messages and logs.
    pub fn host(&self) -> String {
        match self {
            Auth::Webhook(w) => host_of(&w.portal),
            Auth::OAuth(o) => host_of(&o.config.portal_url),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Webhook(w) => f.debug_tuple("Webhook").field(w).finish(),
            Auth::OAuth(o) => f.debug_tuple("OAuth").field(o).finish(),
        }
    }
}

pub(crate) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::from("?"),
    }
}

/// A parsed incoming webhook: portal origin, user id and the secret code.
#[derive(Clone)]
pub struct Webhook {
    /// The portal's base URL up to (not including) `rest/`, e.g. `https://portal.bitrix24.ru/`.
    pub(crate) portal: Url,
    pub(crate) user_id: u64,
    pub(crate) code: Secret,
}

impl Webhook {
    pub fn parse(url: &str) -> Result<Webhook, Error> {
        // The message never repeats the URL: it contains the code.
        let bad = |why: &str| Error::Config(format!("webhook URL: {why}"));
        let parsed = Url::parse(url.trim()).map_err(|_| bad("not a valid URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("scheme must be https (or http for a local portal)"));
        }
        if parsed.host_str().is_none() {
            return Err(bad("no host"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad("must not have a query or fragment"));
        }
        let segments: Vec<&str> = parsed
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        // …/rest/USER_ID/CODE, possibly below a path prefix.
        let n = segments.len();
        if n < 3 || segments[n - 3] != "rest" {
            return Err(bad("path must end in /rest/USER_ID/CODE/"));
        }
        let user_id: u64 = segments[n - 2]
            .parse()
            .map_err(|_| bad("USER_ID must be a number"))?;
        let code = segments[n - 1];
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad("CODE has unexpected characters"));
        }
        let mut portal = parsed.clone();
        let prefix: String = segments[..n - 3].iter().map(|s| format!("{s}/")).collect();
        portal.set_path(&format!("/{prefix}"));
        Ok(Webhook {
            portal,
            user_id,
            code: Secret::new(code),
        })
    }

    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    pub fn host(&self) -> String {
        host_of(&self.portal)
    }

    /// The URL for a method. Contains the code: send it, never print it.
    pub(crate) fn method_url(&self, method: &str) -> Url {
        let mut url = self.portal.clone();
        url.set_path(&format!(
            "{}rest/{}/{}/{}",
            self.portal.path(),
            self.user_id,
            self.code.expose(),
            method
        ));
        url
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("portal", &self.portal.as_str())
            .field("user_id", &self.user_id)
            .field("code", &self.code)
            .finish()
    }
}

/// An OAuth application's settings.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    /// The portal, e.g. `https://portal.bitrix24.ru/`. Methods are called at `<portal>/rest/METHOD`.
    pub portal_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    /// Where tokens are refreshed; [`DEFAULT_TOKEN_ENDPOINT`] for cloud portals.
    pub token_endpoint: Url,
}

impl OAuthConfig {
    /// Settings with the default token endpoint.
    pub fn new(
        portal_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Result<OAuthConfig, Error> {
        let mut portal_url = Url::parse(portal_url)
            .map_err(|_| Error::Config("OAuth portal URL is not a valid URL".into()))?;
        if !matches!(portal_url.scheme(), "http" | "https") || portal_url.host_str().is_none() {
            return Err(Error::Config(
                "OAuth portal URL must be an http(s) URL with a host".into(),
            ));
        }
        // `https://portal/rest/` (a `client_endpoint`) and `https://portal` both mean the portal.
        let mut path = portal_url.path().trim_end_matches('/').to_owned();
        if path.ends_with("/rest") {
            path.truncate(path.len() - "/rest".len());
        }
        portal_url.set_path(&format!("{path}/"));
        portal_url.set_query(None);
        portal_url.set_fragment(None);
        Ok(OAuthConfig {
            portal_url,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            token_endpoint: Url::parse(DEFAULT_TOKEN_ENDPOINT).expect("valid constant"),
        })
    }

    /// Uses another token endpoint (a self-hosted portal's `/oauth/token/`, or a test server).
    pub fn with_token_endpoint(mut self, endpoint: &str) -> Result<OAuthConfig, Error> {
        self.token_endpoint = Url::parse(endpoint)
            .map_err(|_| Error::Config("OAuth token endpoint is not a valid URL".into()))?;
        Ok(self)
    }

    pub(crate) fn method_url(&self, method: &str) -> Url {
        let mut url = self.portal_url.clone();
        url.set_path(&format!("{}rest/{}", self.portal_url.path(), method));
        url
    }
}

/// An OAuth token pair and what the OAuth server said about it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OAuthTokens {
    pub access_token: Secret,
    /// Single use: each refresh returns a new one.
    pub refresh_token: Secret,
    /// Unix time (seconds) when the access token expires, if known.
    pub expires_at: Option<i64>,
    /// The portal's REST endpoint, e.g. `https://portal.bitrix24.ru/rest/`.
    pub client_endpoint: Option<String>,
    pub member_id: Option<String>,
    pub domain: Option<String>,
    pub scope: Option<String>,
}

impl OAuthTokens {
    pub fn new(access_token: impl Into<Secret>, refresh_token: impl Into<Secret>) -> OAuthTokens {
        OAuthTokens {
            access_token: access_token.into(),
            refresh_token: refresh_token.into(),
            ..OAuthTokens::default()
        }
    }
}

/// The error type a [`TokenStore`] may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A boxed future, so that `TokenStore` can be used as `Arc<dyn TokenStore>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where refreshed tokens are persisted. Refresh tokens are single use, so the new pair must
/// be saved before the old one is forgotten or the app loses access after a restart.
///
/// Several processes sharing one store (instances behind a load balancer) must not refresh
/// at the same time — the second refresh with the same token fails with `invalid_grant` — so a
/// shared store also implements [`TokenStore::lock`] (held across processes while one of them
/// refreshes) and [`TokenStore::load`] (what the last refresh saved). A client that sees
/// `expired_token` takes the lock, reloads, and uses tokens another process already refreshed
/// instead of refreshing again. The defaults suit a store used by one process.
///
/// ```
/// use bitrix24_client::{BoxError, BoxFuture, OAuthTokens, TokenStore};
/// struct Db;
/// impl TokenStore for Db {
///     fn save<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<(), BoxError>> {
///         Box::pin(async move {
///             let _ = (tokens.access_token.expose(), tokens.refresh_token.expose());
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// Persists the new tokens. Called once per refresh, while other calls wait for it (and
    /// while [`TokenStore::lock`] is held). An error is logged (without the tokens) and the new
    /// tokens are still used in memory.
    fn save<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<(), BoxError>>;

    /// The tokens saved last, by this process or another. Default: none known.
    fn load(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>, BoxError>> {
        Box::pin(async { Ok(None) })
    }

    /// Keeps other processes from refreshing until the lock is released or dropped. Default:
    /// no lock (one process; the client already refreshes once for all its own calls).
    fn lock(&self) -> BoxFuture<'_, Result<TokenLock, BoxError>> {
        Box::pin(async { Ok(TokenLock::none()) })
    }
}

/// What [`TokenStore::lock`] holds; released by [`TokenLock::release`], or (less promptly, as
/// the implementation can) when dropped.
#[must_use = "the lock is held only while this value lives"]
pub struct TokenLock(Option<Box<dyn TokenLockGuard>>);

/// One implementation's held lock (a database lock, a mutex guard).
pub trait TokenLockGuard: Send {
    /// Releases the lock.
    fn release(self: Box<Self>) -> BoxFuture<'static, ()>;
}

impl TokenLock {
    /// A lock that holds nothing.
    pub fn none() -> TokenLock {
        TokenLock(None)
    }

    pub fn new(guard: Box<dyn TokenLockGuard>) -> TokenLock {
        TokenLock(Some(guard))
    }

    pub async fn release(mut self) {
        if let Some(guard) = self.0.take() {
            guard.release().await;
        }
    }
}

impl fmt::Debug for TokenLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "TokenLock(held)"
        } else {
            "TokenLock(none)"
        })
    }
}

/// A store that keeps the latest tokens in memory (tests, short-lived tools). Clients sharing
/// one behave like processes sharing a database: one refresh for all of them.
#[derive(Default, Debug)]
pub struct MemoryTokenStore {
    saved: Mutex<Vec<OAuthTokens>>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl MemoryTokenStore {
    pub fn new() -> MemoryTokenStore {
        MemoryTokenStore::default()
    }

    /// The most recently saved tokens.
    pub fn latest(&self) -> Option<OAuthTokens> {
        self.saved.lock().expect("not poisoned").last().cloned()
    }

    /// How many times tokens were saved (one per refresh).
    pub fn save_count(&self) -> usize {
        self.saved.lock().expect("not poisoned").len()
    }
}

/// Held (released when dropped).
struct MemoryLock(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

impl TokenLockGuard for MemoryLock {
    fn release(self: Box<Self>) -> BoxFuture<'static, ()> {
        drop(self);
        Box::pin(async {})
    }
}

impl TokenStore for MemoryTokenStore {
    fn save<'a>(&'a self, tokens: &'a OAuthTokens) -> BoxFuture<'a, Result<(), BoxError>> {
        self.saved
            .lock()
            .expect("not poisoned")
            .push(tokens.clone());
        Box::pin(async { Ok(()) })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<OAuthTokens>, BoxError>> {
        let latest = self.latest();
        Box::pin(async move { Ok(latest) })
    }

    fn lock(&self) -> BoxFuture<'_, Result<TokenLock, BoxError>> {
        let lock = self.lock.clone();
        Box::pin(async move {
            let guard = lock.lock_owned().await;
            Ok(TokenLock::new(Box::new(MemoryLock(guard))))
        })
    }
}

/// OAuth credentials: app settings, current tokens and their store.
#[derive(Clone)]
pub struct OAuth {
    pub(crate) config: OAuthConfig,
    pub(crate) tokens: OAuthTokens,
    pub(crate) store: Arc<dyn TokenStore>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("config", &self.config)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_url_is_parsed() {
        let Auth::Webhook(w) =
            Auth::webhook("https://portal.bitrix24.ru/rest/1/abc123xyz/").unwrap()
        else {
            panic!()
        };
        assert_eq!(w.user_id(), 1);
        assert_eq!(w.host(), "portal.bitrix24.ru");
        assert_eq!(
            w.method_url("sale.paysystem.list").as_str(),
            "https://portal.bitrix24.ru/rest/1/abc123xyz/sale.paysystem.list"
        );
        let w = Webhook::parse("http://127.0.0.1:8081/rest/7/code_00-1").unwrap();
        assert_eq!(w.host(), "127.0.0.1:8081");
        assert_eq!(
            w.method_url("m").as_str(),
            "http://127.0.0.1:8081/rest/7/code_00-1/m"
        );
        let w = Webhook::parse("https://example.com/bitrix/rest/2/secretcode/").unwrap();
        assert_eq!(
            w.method_url("m").as_str(),
            "https://example.com/bitrix/rest/2/secretcode/m"
        );
    }

    #[test]
    fn bad_webhook_urls_are_refused_without_echoing_them() {
        for url in [
            "not a url",
            "ftp://portal/rest/1/abc123xyz/",
            "https://portal/rest/x/abc123xyz/",
            "https://portal/api/1/abc123xyz/",
            "https://portal/rest/1/",
            "https://portal/rest/1/abc123xyz/?a=b",
        ] {
            let err = Auth::webhook(url).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{url}");
            assert!(!err.to_string().contains("abc123xyz"), "{err}");
        }
    }

    #[test]
    fn debug_hides_webhook_code_and_tokens() {
        let auth = Auth::webhook("https://portal.bitrix24.ru/rest/1/abc123xyz/").unwrap();
        let text = format!("{auth:?} {auth:#?}");
        assert!(!text.contains("abc123xyz"), "{text}");
        assert!(text.contains("portal.bitrix24.ru"));

        let config =
            OAuthConfig::new("https://portal.bitrix24.ru", "app.1", "client-secret-value").unwrap();
        let tokens = OAuthTokens::new("access-token-value", "refresh-token-value");
        let auth = Auth::oauth(config, tokens, Arc::new(MemoryTokenStore::new()));
        let text = format!("{auth:?} {auth:#?}");
        for secret in [
            "client-secret-value",
            "access-token-value",
            "refresh-token-value",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("app.1"));
    }

    #[test]
    fn oauth_portal_url_is_normalised() {
        for input in [
            "https://p.bitrix24.ru",
            "https://p.bitrix24.ru/",
            "https://p.bitrix24.ru/rest/",
        ] {
            let c = OAuthConfig::new(input, "id", "secret").unwrap();
            assert_eq!(
                c.method_url("sale.paysystem.list").as_str(),
                "https://p.bitrix24.ru/rest/sale.paysystem.list"
            );
        }
        assert_eq!(
            OAuthConfig::new("https://p", "id", "s")
                .unwrap()
                .token_endpoint
                .as_str(),
            DEFAULT_TOKEN_ENDPOINT
        );
    }
}
