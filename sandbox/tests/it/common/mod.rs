//! Shared fixtures: a started sandbox and a plain HTTP client speaking the portal's wire.
#![allow(dead_code)]

pub mod app_server;
pub mod browser;
pub mod seeds;

use b24pay_sandbox::{Fault, Sandbox, SandboxHandle};
use serde_json::{json, Value};
use std::time::Duration;

/// The method that marks a payment paid, the one most faults are aimed at.
pub const PAY: &str = "sale.paysystem.pay.payment";

/// A client timeout that gives up long before the sandbox's hangs and slow replies end.
pub const IMPATIENT: Duration = Duration::from_millis(300);

/// A reply as the tests see it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The `result` of a successful call (fails the test otherwise).
    #[track_caller]
    pub fn result(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {self:?}");
        assert!(self.body.get("time").is_some(), "no time block: {self:?}");
        &self.body["result"]
    }

    /// The error code of a failed call, after checking the status.
    #[track_caller]
    pub fn error(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "unexpected reply {self:?}");
        assert!(
            self.body["error_description"].is_string(),
            "no error_description: {self:?}"
        );
        self.body["error"].as_str().expect("error code")
    }

    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or("")
    }
}

pub struct Portal {
    pub sandbox: SandboxHandle,
    pub http: reqwest::Client,
}

impl Portal {
    pub async fn start() -> Portal {
        Portal::with(Sandbox::builder()).await
    }

    pub async fn with(builder: b24pay_sandbox::SandboxBuilder) -> Portal {
        let sandbox = builder.start().await.expect("sandbox starts");
        Portal {
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    pub fn webhook(&self, method: &str) -> String {
        format!("{}{method}", self.sandbox.webhook_url())
    }

    pub fn oauth(&self, method: &str) -> String {
        format!("{}{method}", self.sandbox.rest_url())
    }

    /// POST a JSON body to the webhook URL.
    pub async fn call(&self, method: &str, body: Value) -> Reply {
        self.post_json(&self.webhook(method), &body.to_string())
            .await
    }

    pub async fn post_json(&self, url: &str, body: &str) -> Reply {
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request sent");
        reply(response).await
    }

    /// `sale.paysystem.list` with no parameters: the call these tests use where any method
    /// would do.
    pub async fn list_pay_systems(&self) -> Reply {
        self.call("sale.paysystem.list", json!({})).await
    }

    /// `sale.paysystem.list` over the OAuth REST URL with `access_token` as `auth`.
    pub async fn list_with_token(&self, access_token: &str) -> Reply {
        self.get(&format!(
            "{}?auth={access_token}",
            self.oauth("sale.paysystem.list")
        ))
        .await
    }

    /// The next call of `method` runs `delay` after it arrives; its connection is cut after
    /// `cut_after` (at once for zero), never answered.
    pub fn delay_next(&self, method: &str, delay: Duration, cut_after: Duration) {
        self.sandbox
            .inject_for(Fault::DelayedExecution { delay, cut_after }, 1, [method]);
    }

    /// A `batch` call with `body` (`cmd`, `halt`) as JSON.
    pub async fn batch(&self, body: Value) -> Reply {
        self.call("batch", body).await
    }

    /// POST a JSON body to the webhook URL, for the calls whose transport is what the test
    /// checks (a connection dropped, a reply never sent): the raw result, no reply parsed.
    /// With `timeout`, the client gives up after it.
    pub async fn send(
        &self,
        method: &str,
        body: &Value,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self.http.post(self.webhook(method)).json(body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        request.send().await
    }

    /// POST a form-urlencoded body (already encoded) to the webhook URL.
    pub async fn call_form(&self, method: &str, form: &str) -> Reply {
        self.post_form(&self.webhook(method), form).await
    }

    pub async fn post_form(&self, url: &str, form: &str) -> Reply {
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .expect("request sent");
        reply(response).await
    }

    /// GET with a query string (already encoded).
    pub async fn get(&self, url: &str) -> Reply {
        let response = self.http.get(url).send().await.expect("request sent");
        reply(response).await
    }

    pub async fn control_get(&self, path: &str) -> Reply {
        self.get(&format!("{}/sandbox/api{path}", self.sandbox.base_url()))
            .await
    }

    pub async fn control_post(&self, path: &str, body: Value) -> Reply {
        let response = self
            .http
            .post(format!("{}/sandbox/api{path}", self.sandbox.base_url()))
            .json(&body)
            .send()
            .await
            .expect("request sent");
        reply(response).await
    }

    /// Registers the b24pay IFRAME handler (TEAM.md's fixed decisions); returns its id.
    pub async fn add_b24pay_handler(&self, code: &str, action_uri: &str) -> u64 {
        let reply = self
            .call(
                "sale.paysystem.handler.add",
                b24pay_handler(code, action_uri),
            )
            .await;
        reply.result().as_u64().expect("handler id")
    }

    /// Adds an active pay system for the handler; returns its id.
    pub async fn add_pay_system(
        &self,
        handler: &str,
        registry: &str,
        person_type: u64,
        settings: Value,
    ) -> u64 {
        let reply = self
            .call(
                "sale.paysystem.add",
                json!({
                    "NAME": format!("Card ({handler})"),
                    "PERSON_TYPE_ID": person_type,
                    "BX_REST_HANDLER": handler,
                    "ENTITY_REGISTRY_TYPE": registry,
                    "ACTIVE": "Y",
                    "SETTINGS": settings,
                }),
            )
            .await;
        reply.result().as_u64().expect("pay system id")
    }

    /// The b24pay handler with two pay systems of it and no settings: one for orders (person
    /// type 1) and one for legacy invoices (person type 3); their ids.
    pub async fn order_and_invoice_pay_systems(&self) -> (u64, u64) {
        self.add_b24pay_handler("b24pay", "http://localhost:8080/")
            .await;
        let order = self.add_pay_system("b24pay", "ORDER", 1, json!({})).await;
        let invoice = self
            .add_pay_system("b24pay", "CRM_INVOICE", 3, json!({}))
            .await;
        (order, invoice)
    }

    /// Handler + `ORDER` pay system for person type 1 + payment 1 bound to it.
    pub async fn b24pay_setup(&self, action_uri: &str) -> u64 {
        self.add_b24pay_handler("b24pay", action_uri).await;
        let ps = self
            .add_pay_system("b24pay", "ORDER", 1, b24pay_settings())
            .await;
        self.sandbox
            .set_payment_pay_system(1, ps)
            .expect("payment 1 takes the pay system");
        ps
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply { status, body }
}

/// A sandbox serving HTTPS with a CA of its own, kept in the returned directory (dropped:
/// deleted).
pub async fn https_sandbox() -> (tempfile::TempDir, SandboxHandle) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::builder()
        .https(dir.path().join("tls"))
        .start()
        .await
        .unwrap();
    (dir, sandbox)
}

/// The handler the companion's `register` creates.
pub fn b24pay_handler(code: &str, action_uri: &str) -> Value {
    // A setting the portal fills from the payment (or its order).
    let from_provider = |name: &str, key: &str, value: &str| {
        json!({
            "NAME": name, "GROUP": "PAYMENT",
            "DEFAULT": {"PROVIDER_KEY": key, "PROVIDER_VALUE": value},
        })
    };
    json!({
        "NAME": "b24pay card payments",
        "CODE": code,
        "SORT": 100,
        "SETTINGS": {
            "CURRENCY": ["RUB", "USD", "EUR", "KZT", "JPY"],
            "CLIENT_TYPE": "b2c",
            "IFRAME_DATA": {
                "ACTION_URI": action_uri,
                "FIELDS": {
                    "shopId": {"CODE": "B24PAY_SHOP_ID"},
                    "lang": {"CODE": "B24PAY_LANGUAGE"},
                },
            },
            "CODES": {
                "B24PAY_SHOP_ID": {"NAME": "Shop id", "SORT": "100"},
                "B24PAY_SECRET_KEY": {"NAME": "Secret key", "SORT": "200"},
                "B24PAY_MODE": {
                    "NAME": "Mode",
                    "SORT": "300",
                    "INPUT": {"TYPE": "ENUM", "OPTIONS": {"TEST": "Test", "LIVE": "Live"}},
                    "DEFAULT": {"PROVIDER_KEY": "VALUE", "PROVIDER_VALUE": "TEST"},
                },
                "B24PAY_LANGUAGE": {"NAME": "Language", "SORT": "400"},
                "B24PAY_PAYMENT_SUM": from_provider("Sum", "PAYMENT", "SUM"),
                "B24PAY_PAYMENT_CURRENCY": from_provider("Currency", "PAYMENT", "CURRENCY"),
                "B24PAY_PAYMENT_PAID": from_provider("Paid", "PAYMENT", "PAID"),
                "B24PAY_PAYMENT_NUMBER": from_provider("Payment number", "PAYMENT", "ACCOUNT_NUMBER"),
                "B24PAY_ORDER_ID": from_provider("Order id", "ORDER", "ID"),
            },
        },
    })
}

/// The pay-system settings the companion's `register` sets.
pub fn b24pay_settings() -> Value {
    json!({
        "B24PAY_SHOP_ID": {"TYPE": "VALUE", "VALUE": "shop-42"},
        "B24PAY_SECRET_KEY": {"TYPE": "VALUE", "VALUE": "s3cr3t"},
        "B24PAY_MODE": {"TYPE": "VALUE", "VALUE": "TEST"},
    })
}

/// The seed body with its missing closing brace restored (see [`seeds`]).
pub fn repaired(body: &str) -> String {
    format!("{body}}}")
}

/// A JSON object as a PHP `http_build_query` string (`SETTINGS[CODES][X][NAME]=…`,
/// lists as `[0]`, `[1]`, …), for `batch` commands.
pub fn php_query(params: &Value) -> String {
    fn walk(prefix: &str, value: &Value, out: &mut url::form_urlencoded::Serializer<'_, String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}[{k}]")
                    };
                    walk(&name, v, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), v, out);
                }
            }
            Value::Null => {}
            Value::String(s) => {
                out.append_pair(prefix, s);
            }
            other => {
                out.append_pair(prefix, &other.to_string());
            }
        }
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    walk("", params, &mut out);
    out.finish()
}

/// `method?query` for a `batch` command.
pub fn command(method: &str, params: Value) -> String {
    format!("{method}?{}", php_query(&params))
}
