//! [`Env`]: a sandbox portal with our pay systems registered, and the companion in-process on
//! an OS-assigned port; its options, start and stop. What tests ask it is in `env_api.rs`.

use super::{fake_dist, store_location, token_key, webhook_client, StoreKind, TEST_MASTER_KEY};
use b24pay_companion::acquirer::{Acquirer, TestAcquirer};
use b24pay_companion::config::{
    FileConfig, FileLimits, FileOutbox, FilePayments, FilePortal, FileSecurity, Secret,
};
use b24pay_companion::portal::{Bitrix24Portal, Mode, Portal};
use b24pay_companion::register::{register, RegisterOptions};
use b24pay_companion::store::{self, Registry, SharedStore, StoreLocation};
use b24pay_companion::{Parts, Server};
use b24pay_sandbox::{Sandbox, SandboxHandle};
use std::path::PathBuf;
use std::sync::Arc;

/// Wraps the companion's test acquirer (for acquirers that misbehave on purpose).
pub type WrapAcquirer = Arc<dyn Fn(Arc<dyn Acquirer>) -> Arc<dyn Acquirer> + Send + Sync>;
/// Wraps the companion's portal (for portals that refuse on purpose).
pub type WrapPortal = Arc<dyn Fn(Arc<dyn Portal>) -> Arc<dyn Portal> + Send + Sync>;

/// A started test world: the sandbox, our pay systems in it, and the companion serving.
pub struct Env {
    pub sandbox: SandboxHandle,
    pub wrap_acquirer: Option<WrapAcquirer>,
    pub wrap_portal: Option<WrapPortal>,
    pub server: Option<Server>,
    pub http: reqwest::Client,
    pub base: String,
    pub ps_order: u64,
    pub ps_invoice: u64,
    pub store_location: StoreLocation,
    pub dir: tempfile::TempDir,
    pub file_config: FileConfig,
}

/// How [`Env::start_with`] sets the world up.
pub struct EnvOptions {
    pub kind: StoreKind,
    pub portal_timeout_ms: u64,
    pub outbox_lease_ms: u64,
    pub charge_lease_ms: u64,
    pub body_bytes: Option<usize>,
    /// Changes to the test configuration, applied last.
    pub configure: fn(&mut FileConfig),
    pub wrap_acquirer: Option<WrapAcquirer>,
    pub wrap_portal: Option<WrapPortal>,
}

impl EnvOptions {
    pub fn new(kind: StoreKind) -> EnvOptions {
        EnvOptions {
            kind,
            portal_timeout_ms: 1500,
            outbox_lease_ms: 4000,
            charge_lease_ms: 3000,
            body_bytes: None,
            configure: |_| {},
            wrap_acquirer: None,
            wrap_portal: None,
        }
    }

    pub fn configure(mut self, f: fn(&mut FileConfig)) -> EnvOptions {
        self.configure = f;
        self
    }

    pub fn acquirer(
        mut self,
        wrap: impl Fn(Arc<dyn Acquirer>) -> Arc<dyn Acquirer> + Send + Sync + 'static,
    ) -> EnvOptions {
        self.wrap_acquirer = Some(Arc::new(wrap));
        self
    }

    pub fn portal(
        mut self,
        wrap: impl Fn(Arc<dyn Portal>) -> Arc<dyn Portal> + Send + Sync + 'static,
    ) -> EnvOptions {
        self.wrap_portal = Some(Arc::new(wrap));
        self
    }
}

impl Env {
    pub async fn start(kind: StoreKind) -> Env {
        Env::start_with(EnvOptions::new(kind)).await
    }

    pub async fn start_with(o: EnvOptions) -> Env {
        if let Ok(filter) = std::env::var("B24PAY_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let sandbox = Sandbox::builder().start().await.expect("sandbox starts");
        let dir = tempfile::tempdir().unwrap();
        let dist = fake_dist(dir.path());
        let store_location = store_location(o.kind, dir.path()).await;
        let mut file_config = test_file_config(&o, &sandbox, dist, &store_location);
        (o.configure)(&mut file_config);
        let ids = register_order_and_invoice(&sandbox).await;
        let mut env = Env {
            sandbox,
            wrap_acquirer: o.wrap_acquirer,
            wrap_portal: o.wrap_portal,
            server: None,
            http: reqwest::Client::new(),
            base: String::new(),
            ps_order: ids[0],
            ps_invoice: ids[1],
            store_location,
            dir,
            file_config,
        };
        env.start_server().await;
        env
    }

    pub async fn start_server(&mut self) {
        let config = self.file_config.clone().validate().expect("valid config");
        let server = if self.wrap_acquirer.is_none() && self.wrap_portal.is_none() {
            Server::start(config).await.expect("server starts")
        } else {
            let store = store::open(&config.store).await.expect("store opens");
            let real: Arc<dyn Portal> = Arc::new(
                Bitrix24Portal::connect(&config.portal, store.clone(), token_key(&config))
                    .await
                    .expect("portal client"),
            );
            let portal = match &self.wrap_portal {
                Some(wrap) => wrap(real),
                None => real,
            };
            let mut parts = Parts::new(store.clone(), portal);
            if let Some(wrap) = &self.wrap_acquirer {
                parts.test_acquirer = Some(wrap(Arc::new(TestAcquirer::new(store))));
            }
            Server::start_with(config, parts)
                .await
                .expect("server starts")
        };
        self.base = server.url();
        self.server = Some(server);
    }

    pub async fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server running")
    }

    pub fn store(&self) -> SharedStore {
        self.server().services.store.clone()
    }

    pub async fn open_store(&self) -> SharedStore {
        store::open(&self.store_location)
            .await
            .expect("store opens")
    }

    pub async fn stop(mut self) {
        self.stop_server().await;
        self.sandbox.shutdown().await;
    }
}

/// The companion's configuration in these tests: listening on an OS-assigned port, the store
/// at `store_location`, the sandbox's webhook, test mode allowed, short leases, backoffs and
/// polls, and no per-client limits.
fn test_file_config(
    o: &EnvOptions,
    sandbox: &SandboxHandle,
    dist: PathBuf,
    store_location: &StoreLocation,
) -> FileConfig {
    FileConfig {
        listen: Some("127.0.0.1:0".into()),
        public_url: Some("http://localhost:8080/".into()),
        allowed_origins: Some(vec![sandbox.base_url()]),
        data_dir: match store_location {
            StoreLocation::DataDir(d) => Some(d.clone()),
            _ => None,
        },
        database_url: match store_location {
            StoreLocation::Url(u) => Some(Secret::new(u.clone())),
            _ => None,
        },
        dist_dir: Some(dist),
        portal: FilePortal {
            webhook_url: Some(Secret::new(sandbox.webhook_url())),
            timeout_ms: Some(o.portal_timeout_ms),
            rate_limit_per_second: Some(0.0),
            ..FilePortal::default()
        },
        limits: FileLimits {
            body_bytes: o.body_bytes,
            ..FileLimits::default()
        },
        outbox: FileOutbox {
            lease_ms: Some(o.outbox_lease_ms),
            base_backoff_ms: Some(50),
            max_backoff_ms: Some(400),
            poll_ms: Some(100),
            ambiguous_wait_ms: Some(500),
            ..FileOutbox::default()
        },
        payments: FilePayments {
            charge_lease_ms: Some(o.charge_lease_ms),
            duplicate_wait_ms: Some(8000),
            allow_test_mode: Some(true),
            reconcile_poll_ms: Some(100),
            // Every test request comes from 127.0.0.1: the limits have tests of their own.
            client_per_minute: Some(0),
            payment_per_minute: Some(0),
            ..FilePayments::default()
        },
        security: FileSecurity {
            master_key: match store_location {
                StoreLocation::Url(_) => Some(Secret::new(TEST_MASTER_KEY)),
                StoreLocation::DataDir(_) => None,
            },
        },
        ..FileConfig::default()
    }
}

/// Registers, through the real `register` path, a TEST pay system for orders (person type 1)
/// and one for legacy invoices (person type 3), both with a secret key; their ids.
async fn register_order_and_invoice(sandbox: &SandboxHandle) -> [u64; 2] {
    let client = webhook_client(sandbox);
    let widget_url = url::Url::parse("http://localhost:8080/").unwrap();
    let mut ids = Vec::new();
    for (registry, person_type) in [(Registry::Order, 1), (Registry::CrmInvoice, 3)] {
        let mut opts = RegisterOptions::new(widget_url.clone(), Mode::Test);
        opts.registry = registry;
        opts.person_type = Some(person_type);
        opts.secret_key = Some("topsecretkey".into());
        ids.push(
            register(&client, &opts)
                .await
                .expect("register")
                .paysystem_id,
        );
    }
    [ids[0], ids[1]]
}
