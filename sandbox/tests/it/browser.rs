//! The payment page in a real browser (headless Chromium): the iframe gets the portal's message
//! on every load, from the sandbox's origin, with the wrapper's computed style; it resizes only
//! for messages from the ACTION_URI's hostname.
//!
//! A small "widget" server plays the ACTION_URI on `localhost` (the sandbox is on 127.0.0.1, so
//! the two are different origins, as in the preview). Its page records what it receives by
//! POSTing to `/record`, and answers with a size.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::Router;
use common::browser::Browser;
use common::Portal;
use serde_json::{json, Value};

type Records = Arc<Mutex<Vec<Value>>>;

/// Answers the first message with height 480, reloads itself once, answers the second with
/// 512 and a width the portal must ignore.
const WIDGET: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<p>widget</p>
<script>
window.addEventListener("message", function (event) {
  var second = location.search.indexOf("again") >= 0;
  fetch("/record", {method: "POST", body: JSON.stringify({origin: event.origin, data: event.data, second: second})})
    .then(function () {
      if (second) {
        parent.postMessage({height: 512, width: "100%"}, "*");
      } else {
        parent.postMessage({height: 480}, "*");
        location.href = "/widget?again";
      }
    });
});
</script></body></html>"#;

/// Served on another hostname: it may not resize the portal's iframe.
const INTRUDER: &str = r#"<!DOCTYPE html><html><body><script>
window.addEventListener("message", function () {
  fetch("/record", {method: "POST", body: JSON.stringify({intruder_got_message: true})});
});
fetch("/record", {method: "POST", body: JSON.stringify({intruder_loaded: true})})
  .then(function () { parent.postMessage({height: 999, width: 999}, "*"); });
</script></body></html>"#;

async fn widget_server() -> (String, Records, tokio::task::JoinHandle<()>) {
    let records: Records = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/widget", get(|| async { Html(WIDGET) }))
        .route("/intruder", get(|| async { Html(INTRUDER) }))
        .route(
            "/elsewhere",
            get(move || async move {
                Redirect::temporary(&format!("http://127.0.0.1:{port}/intruder"))
            }),
        )
        .route(
            "/record",
            post(|State(records): State<Records>, body: String| async move {
                records
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
            }),
        )
        .with_state(records.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://localhost:{port}"), records, task)
}

async fn wait_for(records: &Records, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        if records.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    records.lock().unwrap().clone()
}

#[tokio::test]
async fn the_iframe_gets_the_message_on_every_load_and_is_resized() {
    let (widget, records, server) = widget_server().await;
    let portal = Portal::start().await;
    portal.b24pay_setup(&format!("{widget}/widget")).await;
    let page = format!("{}/pay/1?theme=dark", portal.sandbox.base_url());
    let browser = Browser::start().await;
    browser.open(&page).await;

    let records = wait_for(&records, 2).await;
    assert_eq!(records.len(), 2, "one message per load: {records:#?}");
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["second"], json!(i == 1));
        assert_eq!(record["origin"], json!(portal.sandbox.base_url()));
        let data = &record["data"];
        assert_eq!(data["shopId"], json!("shop-42"));
        assert_eq!(
            data["BX_SYSTEM_PARAMS"],
            json!({
                "RETURN_URL": page,
                "PAYSYSTEM_ID": "1",
                "PAYMENT_ID": "1",
                "SUM": "3000",
                "CURRENCY": "RUB",
            })
        );
        // Chromium's computed style of the transparent wrapper, text colour of the dark store.
        let style = &data["BX_COMPUTED_STYLE"];
        assert_eq!(style["backgroundColor"], json!("rgba(0, 0, 0, 0)"));
        assert_eq!(style["color"], json!("rgb(233, 230, 225)"));
        assert!(style["fontFamily"].as_str().unwrap().contains("Helvetica"));
        assert!(style["0"].is_string(), "index keys hold property names");
    }
    // The last answer set the height; its width "100%" was ignored (parseInt gives 100, so
    // the portal would set "100%px", which the browser rejects, keeping 100%).
    let style = browser
        .iframe_style_when(|s| s.contains("height: 512px"))
        .await;
    assert!(style.contains("height: 512px"), "{style}");
    assert!(style.contains("width: 100%"), "{style}");

    browser.quit().await;
    portal.sandbox.shutdown().await;
    server.abort();
}

#[tokio::test]
async fn messages_from_another_hostname_do_not_resize() {
    let (widget, records, server) = widget_server().await;
    let portal = Portal::start().await;
    // The ACTION_URI is on `localhost`, but the frame ends up on 127.0.0.1.
    portal.b24pay_setup(&format!("{widget}/elsewhere")).await;
    let browser = Browser::start().await;
    browser
        .open(&format!("{}/pay/1", portal.sandbox.base_url()))
        .await;
    let records = wait_for(&records, 1).await;
    assert!(
        records.contains(&json!({"intruder_loaded": true})),
        "{records:?}"
    );
    // The portal posts to the ACTION_URI's origin only, so the intruder hears nothing…
    assert!(!records.contains(&json!({"intruder_got_message": true})));
    // …and its resize request (sent right after that record) is ignored.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let style = browser.iframe_style_when(|_| true).await;
    assert!(style.contains("height: 350px"), "{style}");
    assert!(style.contains("width: 100%"), "{style}");
    browser.quit().await;
    portal.sandbox.shutdown().await;
    server.abort();
}
