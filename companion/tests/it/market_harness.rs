//! The harness of the Market-app tests: a platform with two portals (North Shop, South Shop)
//! and the app, and one companion serving every portal that installs it.

use crate::common::*;
use b24pay_companion::config::{FileConfig, FilePayments, FilePortal};
use b24pay_companion::portal::Unconfigured;
use b24pay_companion::store::{self, PortalRow, SharedStore, StoreLocation};
use b24pay_companion::{Parts, Server};
use b24pay_sandbox::{App, Platform, PlatformHandle, Sandbox, SandboxHandle};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const CLIENT_ID: &str = "app.b24pay.test";
const CLIENT_SECRET: &str = "app-secret-for-tests";

pub(super) struct Market2 {
    pub(super) platform: PlatformHandle,
    pub(super) server: Server,
    pub(super) store: SharedStore,
    pub(super) url: String,
    _dir: tempfile::TempDir,
}

pub(super) async fn start() -> Market2 {
    start_at("/").await
}

/// With `public_url`'s path `prefix` (e.g. `/pay/`): every URL of the app is under it.
pub(super) async fn start_at(prefix: &str) -> Market2 {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("B24PAY_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        ))
        .with_test_writer()
        .try_init();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{prefix}", listener.local_addr().unwrap());
    let platform = Platform::builder()
        .portal(Sandbox::builder().store_name("North Shop"))
        .portal(Sandbox::builder().store_name("South Shop"))
        .app(
            App::new(CLIENT_ID, CLIENT_SECRET, format!("{url}app/events"))
                .with_install_url(format!("{url}app/install")),
        )
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut file = FileConfig {
        listen: Some(listener.local_addr().unwrap().to_string()),
        public_url: Some(url.clone()),
        data_dir: Some(dir.path().join("data")),
        dist_dir: Some(fake_dist(dir.path())),
        portal: FilePortal {
            rate_limit_per_second: Some(0.0),
            timeout_ms: Some(2000),
            ..FilePortal::default()
        },
        payments: FilePayments {
            allow_test_mode: Some(true),
            ..Default::default()
        },
        ..FileConfig::default()
    };
    file.app.client_id = Some(CLIENT_ID.into());
    file.app.client_secret = Some(b24pay_companion::config::Secret::new(CLIENT_SECRET));
    file.app.token_endpoint = Some(platform.oauth_token_endpoint());
    let config = file.validate().unwrap();
    let store = store::open(&StoreLocation::DataDir(dir.path().join("data")))
        .await
        .unwrap();
    let mut parts = Parts::new(store.clone(), Arc::new(Unconfigured));
    parts.listener = Some(listener);
    let server = Server::start_with(config, parts).await.unwrap();
    Market2 {
        platform,
        server,
        store,
        url,
        _dir: dir,
    }
}

impl Market2 {
    pub(super) async fn row(&self, portal: &SandboxHandle) -> PortalRow {
        self.store
            .portal_by_member(&portal.member_id())
            .await
            .unwrap()
            .expect("the portal is known")
    }

    pub(super) async fn pay(
        &self,
        public_id: &str,
        payment: u64,
        ps: u64,
        sum: &str,
    ) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}p/{public_id}/api/v1/payments", self.url))
            .header("Idempotency-Key", key())
            .json(
                &json!({"payment_id": payment.to_string(), "paysystem_id": ps.to_string(),
                "amount": sum, "currency": "USD",
                "card": {"number": APPROVED, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Both portals install the app and get a pay system each: their rows and pay systems
    /// (north's first).
    pub(super) async fn install_both(&self) -> ((PortalRow, PortalRow), (u64, u64)) {
        let (north, south) = (self.platform.portal(0), self.platform.portal(1));
        north.install_app().await.unwrap();
        south.install_app().await.unwrap();
        let rows = (self.row(north).await, self.row(south).await);
        let pay_systems = (
            add_pay_system(self, north).await,
            add_pay_system(self, south).await,
        );
        (rows, pay_systems)
    }

    pub(super) async fn post_event(&self, form: &[(&str, &str)]) -> u16 {
        reqwest::Client::new()
            .post(format!("{}app/events", self.url))
            .form(form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// What the merchant does after installing when the app cannot create pay systems itself
/// (the `pay_system` scope cannot list person types): a pay system of the b24pay handler, here
/// through the portal's webhook with the portal's own widget URL.
pub(super) async fn add_pay_system(m: &Market2, portal: &SandboxHandle) -> u64 {
    let row = m.row(portal).await;
    let url = url::Url::parse(&format!("{}p/{}/", m.url, row.public_id)).unwrap();
    let mut o =
        b24pay_companion::register::RegisterOptions::new(url, b24pay_companion::portal::Mode::Test);
    o.person_type = Some(1);
    let report = b24pay_companion::register::register(&webhook_client(portal), &o)
        .await
        .unwrap();
    assert_eq!(
        report.handler,
        b24pay_companion::register::Action::Unchanged,
        "the install set the handler up"
    );
    report.paysystem_id
}

/// Our pay systems on the portal (handler `b24pay`), by id.
pub(super) async fn our_pay_systems(portal: &SandboxHandle) -> Vec<u64> {
    let list = webhook_client(portal)
        .paysystem_list(&bitrix24_client::ListQuery::all())
        .await
        .unwrap();
    list.iter()
        .filter(|p| p.handler_code() == Some("b24pay"))
        .filter_map(|p| p.id)
        .collect()
}

pub(super) async fn wait_paid(portal: &SandboxHandle, payment: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !portal.payment(payment).is_some_and(|p| p.paid) {
        assert!(
            std::time::Instant::now() < deadline,
            "payment {payment} not marked paid"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
