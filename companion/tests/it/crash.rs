//! Crash safety with the real `b24pay` binary as a child process: it dies (abort at a named
//! crash point, or SIGKILL while the portal hangs) between the charge and the portal call, and
//! after the portal call; restarted, it ends with the payment paid exactly once and charged
//! exactly once. SQLite and PostgreSQL.

use crate::common::*;
use b24pay_companion::store::{self, StoreLocation};
use b24pay_sandbox::{Fault, Sandbox, SandboxHandle};
use serde_json::Value;
use std::time::{Duration, Instant};

struct Setup {
    sandbox: SandboxHandle,
    ps: u64,
    dir: tempfile::TempDir,
    location: StoreLocation,
    http: reqwest::Client,
}

impl Setup {
    async fn new(kind: StoreKind) -> Setup {
        let sandbox = Sandbox::builder().start().await.unwrap();
        let ps = register_order_paysystem(&sandbox, None).await;
        let dir = tempfile::tempdir().unwrap();
        fake_dist(dir.path());
        let location = store_location(kind, dir.path()).await;
        Setup {
            sandbox,
            ps,
            dir,
            location,
            http: reqwest::Client::new(),
        }
    }

    /// Starts `b24pay serve` with the crash point armed (if any) and waits for its address.
    /// Leases, timeouts and the reconciler's polls are short, so a restarted companion takes
    /// over the dead one's work within seconds.
    fn spawn(&self, crash_point: Option<&str>) -> ServeProcess {
        let mut cmd = serve_command(&self.dir.path().join("dist"), &self.location);
        cmd.env("B24PAY_LISTEN", "127.0.0.1:0")
            .env("B24PAY_WEBHOOK_URL", self.sandbox.webhook_url())
            .env("B24PAY_ALLOWED_ORIGINS", self.sandbox.base_url())
            .env("B24PAY_RECONCILE_POLL_MS", "100")
            .env("B24PAY_CANCEL_AFTER_MS", "1000")
            .env("B24PAY_PORTAL_TIMEOUT_MS", "1500")
            .env("B24PAY_OUTBOX_LEASE_MS", "2500")
            .env("B24PAY_CHARGE_LEASE_MS", "1500");
        if let Some(point) = crash_point {
            cmd.env("B24PAY_CRASH_POINT", point);
        }
        ServeProcess::start_within(&mut cmd, Duration::from_secs(30))
    }

    fn body(&self, payment_id: u64) -> Value {
        confirm_body(payment_id, self.ps, "3000", "RUB", APPROVED)
    }

    fn order(&self) -> u64 {
        self.sandbox
            .create_payment(
                b24pay_sandbox::NewPayment::order("3000", "RUB").with_pay_system(self.ps),
            )
            .unwrap()
            .payment_id
    }

    async fn confirm(
        &self,
        c: &ServeProcess,
        key: &str,
        body: &Value,
    ) -> Result<(u16, Value), reqwest::Error> {
        let resp = confirm_request(&self.http, &c.base, key, body)
            .timeout(Duration::from_secs(20))
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await?))
    }

    async fn wait_paid(&self, id: u64) {
        let started = Instant::now();
        while !self.sandbox.payment(id).unwrap().paid {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "payment {id} never paid"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn charges(&self, id: u64) -> i64 {
        let store = store::open(&self.location).await.unwrap();
        store
            .ledger_count(Some(&format!("{}/{id}", self.ps)))
            .await
            .unwrap()
    }

    fn wait_dead(c: &mut ServeProcess) {
        let started = Instant::now();
        loop {
            if let Some(status) = c.child.try_wait().unwrap() {
                assert!(!status.success(), "the crash point ended the process");
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "still alive");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts a companion with `point` armed and confirms payment `id` under `key`: no
    /// answer comes, the process dies at the point. Nothing retries the request here.
    async fn crash_at(&self, point: &str, id: u64, key: &str) {
        let mut c = self.spawn(Some(point));
        assert!(
            self.confirm(&c, key, &self.body(id)).await.is_err(),
            "no answer: it died at {point}"
        );
        Setup::wait_dead(&mut c);
    }

    /// After the recovery: the payment is paid, and after a moment for stray duplicates to
    /// misbehave, the portal was told exactly once and exactly one charge was made.
    async fn assert_paid_once(&self, id: u64, settle: Duration) {
        self.wait_paid(id).await;
        tokio::time::sleep(settle).await;
        assert_eq!(self.sandbox.payment(id).unwrap().pay_calls, 1);
        assert_eq!(self.charges(id).await, 1);
    }

    /// Stops the companion (killed: a clean stop is not what these tests are about) and the
    /// sandbox.
    async fn finish(self, c: ServeProcess) {
        drop(c);
        self.sandbox.shutdown().await;
    }
}

/// Dies right after the charge and its outbox row are committed, before the portal is told.
async fn crash_after_record(kind: StoreKind) {
    let s = Setup::new(kind).await;
    let id = s.order();
    let k = key();
    s.crash_at("after_record", id, &k).await;
    assert!(!s.sandbox.payment(id).unwrap().paid);
    assert_eq!(s.charges(id).await, 1);

    let c = s.spawn(None);
    s.wait_paid(id).await;
    // The customer's retry gets the recorded result; nothing is charged again.
    assert_succeeded(&s.confirm(&c, &k, &s.body(id)).await.unwrap());
    s.assert_paid_once(id, Duration::from_millis(200)).await;
    let p = s.sandbox.payment(id).unwrap();
    assert!(p.ps.invoice_id.unwrap().starts_with("tx_test_"));
    s.finish(c).await;
}

/// Dies after the acquirer approved, before anything was recorded: the retry with the same key
/// finds the attempt in flight, takes it over when its lease ends, and the acquirer's
/// idempotency key returns the first charge instead of making a second.
async fn crash_after_charge(kind: StoreKind) {
    let s = Setup::new(kind).await;
    let id = s.order();
    let k = key();
    s.crash_at("after_charge", id, &k).await;
    assert_eq!(s.charges(id).await, 1);

    let c = s.spawn(None);
    assert_succeeded(&s.confirm(&c, &k, &s.body(id)).await.unwrap());
    s.wait_paid(id).await;
    // A different customer request for the same payment is refused, not charged.
    let refused = s.confirm(&c, &key(), &s.body(id)).await.unwrap();
    assert_error(&refused, 409, "already_paid");
    s.assert_paid_once(id, Duration::from_millis(200)).await;
    s.finish(c).await;
}

/// Dies after the portal accepted `pay.payment`, before the outbox row was marked done: the
/// restarted worker re-reads PAID instead of calling again.
async fn crash_after_portal_call(kind: StoreKind) {
    let s = Setup::new(kind).await;
    let id = s.order();
    let mut c = s.spawn(Some("after_portal_call"));
    // The worker may be quicker than the response: the answer may or may not arrive.
    if let Ok((status, _)) = s.confirm(&c, &key(), &s.body(id)).await {
        assert_eq!(status, 200);
    }
    Setup::wait_dead(&mut c);
    assert!(s.sandbox.payment(id).unwrap().paid);
    let calls = s.sandbox.method_calls("sale.paysystem.pay.payment");

    let c = s.spawn(None);
    // The row comes back when the dead worker's lease ends; give it time to misbehave.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    assert_eq!(s.sandbox.method_calls("sale.paysystem.pay.payment"), calls);
    assert_eq!(s.sandbox.payment(id).unwrap().pay_calls, 1);
    let store = store::open(&s.location).await.unwrap();
    assert_eq!(store.outbox_depth().await.unwrap(), 0, "delivered");
    s.finish(c).await;
}

/// SIGKILL while `pay.payment` hangs at the portal.
async fn sigkill_during_portal_call(kind: StoreKind) {
    let s = Setup::new(kind).await;
    let id = s.order();
    s.sandbox.inject_for(
        Fault::Hang(Duration::from_secs(30)),
        1,
        ["sale.paysystem.pay.payment"],
    );
    let mut c = s.spawn(None);
    let (status, _) = s.confirm(&c, &key(), &s.body(id)).await.unwrap();
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.child.kill().unwrap(); // SIGKILL
    c.child.wait().unwrap();
    assert!(!s.sandbox.payment(id).unwrap().paid);
    s.sandbox.clear_faults();

    let c = s.spawn(None);
    s.assert_paid_once(id, Duration::from_millis(300)).await;
    s.finish(c).await;
}

/// Dies right after the acquirer approved; nobody retries. Restarted, the reconciler finds the
/// charge at the acquirer and the payment is paid, exactly once, with no customer action.
async fn crash_after_charge_nobody_retries(kind: StoreKind) {
    let s = Setup::new(kind).await;
    let id = s.order();
    s.crash_at("after_charge", id, &key()).await;
    assert_eq!(s.charges(id).await, 1);
    assert!(!s.sandbox.payment(id).unwrap().paid);

    let c = s.spawn(None);
    s.assert_paid_once(id, Duration::from_millis(300)).await;
    s.finish(c).await;
}

/// Dies after the charge was opened at the acquirer and its reference recorded, before the
/// acquirer was asked to move money; nobody retries. The reconciler cancels the open charge
/// (so a late confirm could not move money) and frees the payment: nothing charged, payable.
async fn crash_after_open_nobody_retries(kind: StoreKind) {
    let s = Setup::new(kind).await;
    let id = s.order();
    s.crash_at("after_open", id, &key()).await;
    let c = s.spawn(None);
    let store = store::open(&s.location).await.unwrap();
    let started = Instant::now();
    loop {
        let unsettled = store
            .list_attempts(b24pay_companion::store::AttemptFilter::Unsettled, 10)
            .await
            .unwrap();
        if unsettled.is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{unsettled:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.charges(id).await, 0);
    assert_succeeded(&s.confirm(&c, &key(), &s.body(id)).await.unwrap());
    s.wait_paid(id).await;
    assert_eq!(s.charges(id).await, 1);
    s.finish(c).await;
}

both_stores!(
    crash_after_charge_nobody_retries,
    crash_after_open_nobody_retries,
    crash_after_record,
    crash_after_charge,
    crash_after_portal_call,
    sigkill_during_portal_call,
);
