//! A Market application's own server, for the tests of apps installed on the sandbox's
//! platform: it records the events and install pages the portals send it, and serves an install
//! page that calls `BX24.installFinish()`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::post;
use axum::{Form, Router};
use b24pay_sandbox::{App, Platform, PlatformHandle, Sandbox};
use serde_json::Value;

pub type Fields = BTreeMap<String, String>;

/// What the app's server received.
#[derive(Clone, Default)]
pub struct Received {
    pub events: Arc<Mutex<Vec<Fields>>>,
    /// The install page's query string and POSTed fields.
    pub install_pages: Arc<Mutex<Vec<(String, Fields)>>>,
    pub records: Arc<Mutex<Vec<Value>>>,
}

/// The app's install page: the BX24 library from the portal, then `installFinish()`.
pub fn install_page(bx24: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{bx24}"></script></head><body>
<p>b24pay install page</p>
<script>
BX24.init(function () {{
  fetch("/record", {{method: "POST", body: JSON.stringify({{auth: BX24.getAuth(), domain: BX24.getDomain(), placement: BX24.placement.info()}})}})
    .then(function () {{ BX24.installFinish(); }});
}});
</script></body></html>"#
    )
}

/// The app on `localhost` (another origin than the portals on 127.0.0.1).
pub async fn app_server(bx24: Arc<Mutex<String>>) -> (String, Received) {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = Router::new()
        .route(
            "/handler",
            post(
                |State(r): State<Received>, Form(form): Form<BTreeMap<String, String>>| async move {
                    r.events.lock().unwrap().push(form);
                    "ok"
                },
            ),
        )
        .route(
            "/install",
            post(
                move |State(r): State<Received>,
                      RawQuery(query): RawQuery,
                      Form(form): Form<BTreeMap<String, String>>| async move {
                    r.install_pages
                        .lock()
                        .unwrap()
                        .push((query.unwrap_or_default(), form));
                    Html(install_page(&bx24.lock().unwrap()))
                },
            ),
        )
        .route(
            "/record",
            post(|State(r): State<Received>, body: String| async move {
                r.records
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap());
            }),
        )
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://localhost:{port}"), received)
}

/// The Market app whose server is at `base`.
pub fn app(base: &str) -> App {
    App::new(
        "app.b24pay.test",
        "appsecret0123456789",
        format!("{base}/handler"),
    )
    .with_install_url(format!("{base}/install"))
}

/// A platform with two portals (North Shop, South Shop) and `app` in its market.
pub async fn two_portals(app: App) -> PlatformHandle {
    Platform::builder()
        .portal(Sandbox::builder().store_name("North Shop"))
        .portal(Sandbox::builder().store_name("South Shop"))
        .app(app)
        .start()
        .await
        .unwrap()
}

/// GET `url`: the status and the JSON body (`null` when none).
pub async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// POST `body` as JSON to `url`: the status and the JSON body (`null` when none).
pub async fn rest(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
