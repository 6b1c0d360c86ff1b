//! Starting a sandbox ([`SandboxBuilder`]); driving it from Rust is in `handle.rs`.

mod handle;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use handle::SandboxHandle;

use crate::app::App;
use crate::limits::{LeakyBucket, RateLimit};
use crate::oauth::{OAuthState, MEMBER_ID};
use crate::persist::{DataFile, DataFileError};
use crate::portal_format::now_unix;
use crate::server::Listeners;
use crate::state::{AppState, Config};
use crate::tls::TlsError;
use crate::world::{CreatedPayment, NewPayment, Registry, World, WorldError};

/// The webhook code the preview and the examples use.
pub const DEFAULT_WEBHOOK_CODE: &str = "sandboxwebhookcode0000";
/// The portal user the incoming webhook belongs to.
pub const WEBHOOK_USER_ID: u64 = 1;
/// The OAuth application the token endpoint accepts by default.
pub const DEFAULT_OAUTH_CLIENT_ID: &str = "local.b24paysandbox.000001";
pub const DEFAULT_OAUTH_CLIENT_SECRET: &str = "sandboxclientsecret0000000000000000000000000000";

/// Entry point: `Sandbox::builder()…start().await`.
pub struct Sandbox;

impl Sandbox {
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

/// Configures a sandbox before it starts. Every setting has a default suitable for tests:
/// bind `127.0.0.1:0`, webhook code [`DEFAULT_WEBHOOK_CODE`], no rate limit, in memory.
#[derive(Clone, Debug)]
pub struct SandboxBuilder {
    bind: String,
    webhook_code: String,
    rate_limit: Option<RateLimit>,
    data_file: Option<PathBuf>,
    public_url: Option<String>,
    oauth_client_id: String,
    oauth_client_secret: String,
    store_name: String,
    tls_dir: Option<PathBuf>,
    member_id: String,
    app: Option<App>,
    /// Set by a [`Platform`](crate::Platform): its OAuth server and this portal's token salt.
    pub(crate) oauth_server: Option<String>,
    pub(crate) token_salt: u64,
}

impl Default for SandboxBuilder {
    fn default() -> SandboxBuilder {
        SandboxBuilder {
            bind: "127.0.0.1:0".to_string(),
            webhook_code: DEFAULT_WEBHOOK_CODE.to_string(),
            rate_limit: None,
            data_file: None,
            public_url: None,
            oauth_client_id: DEFAULT_OAUTH_CLIENT_ID.to_string(),
            oauth_client_secret: DEFAULT_OAUTH_CLIENT_SECRET.to_string(),
            store_name: "Linden Street Goods".to_string(),
            tls_dir: None,
            member_id: MEMBER_ID.to_string(),
            app: None,
            oauth_server: None,
            token_salt: 0,
        }
    }
}

impl SandboxBuilder {
    /// Address to listen on, e.g. `"127.0.0.1:8081"`; port 0 picks a free port.
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.bind = addr.into();
        self
    }

    /// The secret part of the incoming webhook URL `/rest/1/{code}/`.
    pub fn webhook_code(mut self, code: impl Into<String>) -> Self {
        self.webhook_code = code.into();
        self
    }

    /// The portal's leaky bucket; `None` (the default) admits every call.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Keep the state in this JSON file: loaded at start if it exists, rewritten atomically
    /// after every change. Without it the sandbox lives in memory.
    pub fn data_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_file = Some(path.into());
        self
    }

    /// The URL the sandbox is reached at, for links, `RETURN_URL` and `client_endpoint`
    /// (default: `http://{bound address}`).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The OAuth application (`client_id`, `client_secret`) the token endpoint accepts.
    pub fn oauth_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.oauth_client_id = id.into();
        self.oauth_client_secret = secret.into();
        self
    }

    /// The seller's name shown on the payment page.
    pub fn store_name(mut self, name: impl Into<String>) -> Self {
        self.store_name = name.into();
        self
    }

    /// The portal's `member_id` (its identity for good; default: a fixed id).
    pub fn member_id(mut self, member_id: impl Into<String>) -> Self {
        self.member_id = member_id.into();
        self
    }

    /// A Market application the portal can install ([`SandboxHandle::install_app`], the
    /// install page at `/admin/app`). Its client becomes the portal's OAuth client.
    pub fn app(mut self, app: App) -> Self {
        self.oauth_client_id = app.client_id.clone();
        self.oauth_client_secret = app.client_secret.clone();
        self.app = Some(app);
        self
    }

    pub(crate) fn member_id_value(&self) -> &str {
        &self.member_id
    }

    /// Serve HTTPS instead of plain HTTP, with a server certificate signed by a local CA
    /// kept in `dir` (both made on first start; see [`SandboxHandle::ca_certificate`]).
    pub fn https(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tls_dir = Some(dir.into());
        self
    }

    /// Binds, loads the data file (if any) and starts serving in the current Tokio runtime.
    pub async fn start(self) -> Result<SandboxHandle, StartError> {
        let bind_error = |source| StartError::Bind {
            addr: self.bind.clone(),
            source,
        };
        let listener = TcpListener::bind(&self.bind).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let scheme = if self.tls_dir.is_some() {
            "https"
        } else {
            "http"
        };
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{local_addr}"))
            .trim_end_matches('/')
            .to_string();
        let tls = match &self.tls_dir {
            Some(dir) => {
                let host = url::Url::parse(&public_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string));
                Some(crate::tls::load_or_create(
                    dir,
                    &crate::tls::names(host.as_deref()),
                )?)
            }
            None => None,
        };
        let state = self.state(public_url.clone(), tls.as_ref().map(|t| t.ca_file.clone()))?;
        let router = crate::server::router(state.clone());
        let listeners = Arc::new(Listeners::new(router, tls.map(|t| t.acceptor)));
        state.set_listeners(&listeners);
        listeners.listen(listener, &public_url);
        tracing::info!(%local_addr, "sandbox portal listening");
        Ok(SandboxHandle::new(state, listeners))
    }

    /// The state: loaded from the data file, or the initial world (then written at once).
    fn state(
        self,
        public_url: String,
        ca_file: Option<PathBuf>,
    ) -> Result<Arc<AppState>, StartError> {
        let data_file = self.data_file.map(DataFile::new);
        let loaded = match &data_file {
            Some(file) => file.load()?,
            None => None,
        };
        let fresh = loaded.is_none();
        let (world, oauth) =
            loaded.unwrap_or_else(|| (World::initial(), OAuthState::with_salt(self.token_salt)));
        let config = Config {
            webhook_user_id: WEBHOOK_USER_ID,
            webhook_code: self.webhook_code,
            oauth_client_id: self.oauth_client_id,
            oauth_client_secret: self.oauth_client_secret,
            store_name: self.store_name,
            member_id: self.member_id,
            ca_file,
            oauth_server: self.oauth_server,
            app: self.app,
        };
        let state = Arc::new(AppState::new(
            config,
            public_url,
            world,
            oauth,
            LeakyBucket::new(self.rate_limit),
            data_file,
        ));
        if fresh {
            state.persist();
        }
        Ok(state)
    }
}

/// Why a sandbox did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    DataFile(#[from] DataFileError),
    #[error("HTTPS: {0}")]
    Tls(#[from] TlsError),
}

/// Creates a payment and fills in its page URL.
pub(crate) fn create_payment(
    state: &AppState,
    new: &NewPayment,
) -> Result<CreatedPayment, WorldError> {
    let mut created = state.mutate(|world| world.create_payment(new, now_unix()))?;
    let base = state.public_url();
    created.pay_url = match created.registry {
        Registry::Order => format!("{base}/pay/{}", created.payment_id),
        Registry::CrmInvoice => format!("{base}/pay/invoice/{}", created.order_id),
    };
    Ok(created)
}
