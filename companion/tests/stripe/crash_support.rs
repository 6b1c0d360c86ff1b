//! What the crash tests (`open_crash.rs`, `webhook_crash.rs`) share: a sandbox with a LIVE pay
//! system, localstripe, a store that outlives the process, and the real `b24pay serve`
//! configured for Stripe against them, started with a crash point or without.

use crate::common::*;
use crate::live::WEBHOOK_SECRET;
use crate::localstripe::{LocalStripe, PUBLISHABLE_KEY, SECRET_KEY};
use crate::support::APPROVED;
use b24pay_companion::portal::Mode;
use b24pay_companion::store::StoreLocation;
use b24pay_sandbox::{NewPayment, Sandbox, SandboxHandle};
use serde_json::Value;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Companion {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Companion {
    /// Sends the widget's confirm request once (30 s at most).
    pub async fn confirm(&self, key: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
        confirm_request(
            &reqwest::Client::new(),
            &format!("http://{}", self.addr),
            key,
            body,
        )
        .timeout(Duration::from_secs(30))
        .send()
        .await
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real `b24pay serve` configured for Stripe against `ls`; `extra` environment variables
/// override the defaults below.
fn serve(
    sandbox: &SandboxHandle,
    ls: &LocalStripe,
    dir: &std::path::Path,
    location: &StoreLocation,
    crash_point: Option<&str>,
    extra: &[(&str, &str)],
) -> Companion {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b24pay"));
    cmd.arg("serve")
        .env_clear()
        .env("B24PAY_LOG", "warn")
        .env("B24PAY_LISTEN", "127.0.0.1:0")
        .env("B24PAY_WEBHOOK_URL", sandbox.webhook_url())
        .env("B24PAY_ALLOWED_ORIGINS", sandbox.base_url())
        .env("B24PAY_DIST_DIR", dir.join("dist"))
        .env("B24PAY_PORTAL_RATE_LIMIT", "off")
        .env("B24PAY_RECONCILE_POLL_MS", "600000")
        .env("B24PAY_CHARGE_LEASE_MS", "10000")
        .env("B24PAY_PORTAL_TIMEOUT_MS", "1500")
        .env("B24PAY_OUTBOX_BASE_BACKOFF_MS", "50")
        .env("B24PAY_OUTBOX_MAX_BACKOFF_MS", "400")
        .env("B24PAY_MASTER_KEY", TEST_MASTER_KEY)
        .env("B24PAY_STRIPE_SECRET_KEY", SECRET_KEY)
        .env("B24PAY_STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
        .env("B24PAY_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("B24PAY_STRIPE_API_BASE", &ls.base)
        .env(
            "B24PAY_STRIPE_JS_URL",
            format!("{}/js.stripe.com/v3/", ls.base),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    match location {
        StoreLocation::DataDir(d) => cmd.env("B24PAY_DATA_DIR", d),
        StoreLocation::Url(u) => cmd.env("DATABASE_URL", u),
    };
    if let Some(point) = crash_point {
        cmd.env("B24PAY_CRASH_POINT", point);
    }
    cmd.envs(extra.iter().copied());
    let (child, base) = start_listening(&mut cmd, Duration::from_secs(60));
    let addr = base["http://".len()..]
        .parse()
        .unwrap_or_else(|_| panic!("no address in {base:?}"));
    Companion { child, addr }
}

/// localstripe, a sandbox with a LIVE pay system registered through the real `register`, and
/// a store (SQLite in a temporary directory, or a fresh PostgreSQL database) that outlives
/// every companion process of the test.
pub struct CrashWorld {
    pub ls: LocalStripe,
    pub sandbox: SandboxHandle,
    pub ps: u64,
    pub dir: tempfile::TempDir,
    pub location: StoreLocation,
}

impl CrashWorld {
    pub async fn start(kind: StoreKind) -> CrashWorld {
        let ls = LocalStripe::start();
        let sandbox = Sandbox::builder().start().await.unwrap();
        let ps = register_paysystem(&sandbox, Mode::Live, 1, None).await;
        let dir = tempfile::tempdir().unwrap();
        fake_dist(dir.path());
        let location = store_location(kind, dir.path()).await;
        CrashWorld {
            ls,
            sandbox,
            ps,
            dir,
            location,
        }
    }

    /// A new order on the LIVE pay system; its payment id and the confirm body paying it with
    /// the approved card.
    pub fn order(&self, sum: &str, currency: &str) -> (u64, Value) {
        let id = self
            .sandbox
            .create_payment(NewPayment::order(sum, currency).with_pay_system(self.ps))
            .unwrap()
            .payment_id;
        (id, confirm_body(id, self.ps, sum, currency, APPROVED))
    }

    /// The companion on this world's store, dying at `crash_point` if one is given.
    pub fn spawn(&self, crash_point: Option<&str>, extra: &[(&str, &str)]) -> Companion {
        serve(
            &self.sandbox,
            &self.ls,
            self.dir.path(),
            &self.location,
            crash_point,
            extra,
        )
    }
}
