//! The operator's endpoints, `/healthz`, `/readyz` and `/metrics`, over HTTP; and the
//! standalone preview page, served only when configured.

use crate::common::*;
use b24pay_companion::serve::{PageSettings, Widget};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_metrics() {
    let env = Env::start(StoreKind::Sqlite).await;
    let (status, view) = reqwest::get(format!("{}/healthz", env.base))
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        view.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let r = reqwest::get(format!("{}/readyz", env.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["store"].as_str(), v["portal"].as_str()),
        (Some("ok"), Some("ok"))
    );

    let id = env.order("3000", "RUB");
    let (_, paid_view) = env.pay_order(id, "3000", "RUB", APPROVED).await;
    env.confirm(
        &key(),
        &env.body(
            env.order("3000", "RUB"),
            env.ps_order,
            "3000",
            "RUB",
            DECLINED,
        ),
    )
    .await;
    env.wait_paid(id, std::time::Duration::from_secs(10)).await;
    // Delivered: paid, re-read and marked done.
    env.wait_notified(
        paid_view["id"].as_str().unwrap(),
        std::time::Duration::from_secs(10),
    )
    .await;
    // Already paid (said only to a request with the payment's own amount).
    env.pay_order(id, "3000", "RUB", APPROVED).await;
    let r = reqwest::get(format!("{}/metrics", env.base)).await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("text"));
    let text = r.text().await.unwrap();
    for needle in [
        r#"b24pay_http_requests_total{route="/api/v1/payments",method="POST",status="200"}"#,
        r#"b24pay_http_requests_total{route="/api/v1/payments",method="POST",status="409"}"#,
        r#"b24pay_http_request_duration_seconds_bucket{le="0.001",route="/api/v1/payments"}"#,
        r#"b24pay_payments_total{outcome="succeeded"} 1"#,
        r#"b24pay_payments_total{outcome="declined"} 1"#,
        r#"b24pay_payments_total{outcome="already_paid"} 1"#,
        "b24pay_outbox_depth 0",
        "b24pay_outbox_delivered_total 1",
        "# TYPE b24pay_outbox_retries counter",
        "# TYPE b24pay_portal_errors counter",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }

    // The portal gone: not ready, but alive.
    let mut env = env;
    env.stop_server().await;
    env.file_config.portal.webhook_url = Some(b24pay_companion::config::Secret::new(
        "http://127.0.0.1:9/rest/1/nothinghere/",
    ));
    env.start_server().await;
    let r = reqwest::get(format!("{}/readyz", env.base)).await.unwrap();
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["store"], "ok");
    assert!(
        v["portal"].as_str().unwrap().starts_with("unavailable"),
        "{v}"
    );
    assert_eq!(
        reqwest::get(format!("{}/healthz", env.base))
            .await
            .unwrap()
            .status(),
        200
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_preview_only_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let dist = fake_dist(dir.path());
    let sample = r#"{"lang":"en","BX_SYSTEM_PARAMS":{"PAYMENT_ID":"1","SUM":"10","CURRENCY":"USD","PAYSYSTEM_ID":"2","RETURN_URL":"http://127.0.0.1:8081/pay/1?a=1&b=\"2\""}}"#;
    let path = dir.path().join("sample.json");
    std::fs::write(&path, sample).unwrap();
    // The configuration reads and checks the file; `serve` without it has no preview.
    let mut file = b24pay_companion::config::FileConfig {
        preview_sample: Some(path.clone()),
        portal: b24pay_companion::config::FilePortal {
            webhook_url: Some(b24pay_companion::config::Secret::new(
                "http://127.0.0.1:9/rest/1/abc/",
            )),
            ..Default::default()
        },
        ..Default::default()
    };
    let config = file.clone().validate().unwrap();
    assert_eq!(config.preview_sample.as_deref(), Some(sample));
    std::fs::write(&path, r#"{"not":"a portal message"}"#).unwrap();
    let err = file.clone().validate().unwrap_err().to_string();
    assert!(err.contains("preview_sample"), "{err}");
    file.preview_sample = None;
    assert_eq!(file.validate().unwrap().preview_sample, None);

    let page = |preview_sample: Option<&str>| {
        let widget = Widget::load(
            &dist,
            &PageSettings {
                allowed_origins: vec!["http://127.0.0.1:8081".into()],
                api_base: "/api/v1".into(),
                preview_sample: preview_sample.map(str::to_owned),
                acquirer_sources: Default::default(),
            },
        )
        .unwrap();
        String::from_utf8(widget.index_html().unwrap().to_vec()).unwrap()
    };
    // Off by default: the meta tag stays empty.
    let fake = std::fs::read_to_string(dist.join("index.html")).unwrap();
    let with_meta = fake.replace(
        "<title>",
        "<meta name=\"b24pay-preview\" content=\"\">\n  <title>",
    );
    std::fs::write(dist.join("index.html"), with_meta).unwrap();
    assert!(page(None).contains(r#"<meta name="b24pay-preview" content="">"#));
    // Configured: the sample, escaped for the attribute.
    let html = page(Some(sample));
    assert!(
        html.contains(r#"<meta name="b24pay-preview" content="{&quot;lang&quot;:&quot;en&quot;"#),
        "{html}"
    );
    assert!(html.contains(r#"?a=1&amp;b=\&quot;2\&quot;"#), "{html}");
    assert!(!html.contains(r#"b=\"2\""#));
}
