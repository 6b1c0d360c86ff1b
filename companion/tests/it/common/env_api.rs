//! What tests ask an [`Env`]: the companion's HTTP API as the widget calls it, the stored
//! attempts and charges, the sandbox's payments, and waits for each to change.

use super::{confirm_body, key, Env};
use b24pay_companion::store::Attempt;
use b24pay_protocol::ids::AttemptId;
use b24pay_sandbox::{NewPayment, PaymentSnapshot};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

impl Env {
    /// The companion's `/metrics` text.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The stored attempt.
    pub async fn attempt(&self, id: &str) -> Attempt {
        self.store()
            .attempt(&AttemptId::parse(id).unwrap())
            .await
            .unwrap()
            .expect("attempt exists")
    }

    /// Waits until the stored attempt satisfies `done`.
    pub async fn wait_attempt(
        &self,
        id: &str,
        within: Duration,
        done: impl Fn(&Attempt) -> bool,
    ) -> Attempt {
        let started = Instant::now();
        loop {
            let a = self.attempt(id).await;
            if done(&a) {
                return a;
            }
            assert!(
                started.elapsed() < within,
                "attempt {id} not there within {within:?}: {:?} ({:?})",
                a.state,
                a.note
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// An order payment bound to our ORDER pay system.
    pub fn order(&self, sum: &str, currency: &str) -> u64 {
        self.sandbox
            .create_payment(NewPayment::order(sum, currency).with_pay_system(self.ps_order))
            .expect("payment created")
            .payment_id
    }

    /// A legacy invoice bound to our CRM_INVOICE pay system; returns (payment id, invoice id).
    pub fn invoice(&self, sum: &str, currency: &str) -> (u64, u64) {
        let c = self
            .sandbox
            .create_payment(NewPayment::invoice(sum, currency).with_pay_system(self.ps_invoice))
            .expect("invoice created");
        (c.payment_id, c.order_id)
    }

    pub fn body(
        &self,
        payment_id: u64,
        ps: u64,
        amount: &str,
        currency: &str,
        number: &str,
    ) -> Value {
        confirm_body(payment_id, ps, amount, currency, number)
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn confirm(&self, key: &str, body: &Value) -> (u16, Value) {
        self.post("/api/v1/payments", Some(key), body).await
    }

    pub async fn challenge(&self, id: &str, key: &str, code: &str) -> (u16, Value) {
        self.post(
            &format!("/api/v1/payments/{id}/challenge"),
            Some(key),
            &json!({ "code": code }),
        )
        .await
    }

    pub async fn status(&self, id: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}/api/v1/payments/{id}", self.base))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub fn payment(&self, id: u64) -> PaymentSnapshot {
        self.sandbox.payment(id).expect("payment exists")
    }

    /// Waits until the sandbox shows the payment paid.
    pub async fn wait_paid(&self, id: u64, within: Duration) -> PaymentSnapshot {
        let started = Instant::now();
        loop {
            let p = self.payment(id);
            if p.paid {
                return p;
            }
            assert!(
                started.elapsed() < within,
                "payment {id} not paid within {within:?}: {p:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the status endpoint reports the portal notified.
    pub async fn wait_notified(&self, attempt: &str, within: Duration) {
        let started = Instant::now();
        loop {
            let (_, v) = self.status(attempt).await;
            if v["portal_notified"] == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < within,
                "attempt {attempt} not notified: {v}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Charges the test acquirer made for one portal payment.
    pub async fn charges(&self, ps: u64, payment_id: u64) -> i64 {
        self.store()
            .ledger_count(Some(&format!("{ps}/{payment_id}")))
            .await
            .unwrap()
    }

    /// A new customer request (a fresh idempotency key) to pay order payment `id` of our ORDER
    /// pay system with `card`, stating `amount` and `currency`.
    pub async fn pay_order(
        &self,
        id: u64,
        amount: &str,
        currency: &str,
        card: &str,
    ) -> (u16, Value) {
        self.confirm(
            &key(),
            &self.body(id, self.ps_order, amount, currency, card),
        )
        .await
    }
}
