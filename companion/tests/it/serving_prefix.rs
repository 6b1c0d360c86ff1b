//! The widget under `public_url`'s path (`https://example.com/pay/`): the page's asset URLs
//! point under it, files are served under it and nowhere else, and an installed portal's page
//! (`/pay/p/{id}/`) names only that portal's origin, in its meta tag and its CSP, and its own API.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use b24pay_companion::csp;
use b24pay_companion::serve::{PageSettings, Widget};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

async fn get(app: &axum::Router, path: &str) -> (StatusCode, HeaderMap, String) {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn settings() -> PageSettings {
    PageSettings {
        allowed_origins: vec!["https://configured.bitrix24.ru".into()],
        api_base: "/pay/api/v1".into(),
        preview_sample: None,
        acquirer_sources: Default::default(),
    }
}

fn csp_of(headers: &HeaderMap) -> String {
    headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_widget_is_served_under_public_urls_path() {
    let dir = tempfile::tempdir().unwrap();
    let dist = fake_dist(dir.path());
    let widget = Arc::new(Widget::load_at(&dist, &settings(), "/pay").unwrap());
    assert_eq!(widget.prefix(), "/pay/");
    let app = axum::Router::new()
        .fallback(b24pay_companion::serve::serve)
        .with_state(widget.clone());
    for page in ["/pay/", "/pay", "/pay/index.html"] {
        let (status, headers, html) = get(&app, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            html.contains(r#"src="/pay/loader-0123456789abcdef.js""#),
            "{html}"
        );
        assert!(
            html.contains("from '/pay/b24pay-widget-1a2b3c4d5e6f7a8b.js'"),
            "{html}"
        );
        assert!(
            html.contains("'/pay/b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm'"),
            "{html}"
        );
        // The CSP allows the inline loader as it is served, rewritten.
        for hash in csp::inline_hashes(&html, "script") {
            assert!(csp_of(&headers).contains(&hash), "{hash}");
        }
    }
    let (status, headers, _) = get(&app, "/pay/b24pay-widget-1a2b3c4d5e6f7a8b.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    for outside in [
        "/",
        "/b24pay-widget-1a2b3c4d5e6f7a8b.js",
        "/payx/",
        "/other/index.html",
    ] {
        assert_eq!(
            get(&app, outside).await.0,
            StatusCode::NOT_FOUND,
            "{outside}"
        );
    }
}

#[tokio::test]
async fn an_installed_portals_page_names_that_portal_only() {
    let dir = tempfile::tempdir().unwrap();
    let dist = fake_dist(dir.path());
    let widget = Widget::load_at(&dist, &settings(), "/pay/").unwrap();
    let page = |origin: &str| {
        widget.portal_page(
            "abcdefghijkmnpqrstuv",
            origin,
            &Method::GET,
            &HeaderMap::new(),
        )
    };
    let response = page("https://north.bitrix24.ru");
    assert_eq!(response.status(), StatusCode::OK);
    let policy = csp_of(response.headers());
    assert!(
        policy.contains("frame-ancestors https://north.bitrix24.ru;"),
        "{policy}"
    );
    assert!(!policy.contains("configured"), "{policy}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8_lossy(&body);
    assert!(html
        .contains(r#"<meta name="b24pay-allowed-origins" content="https://north.bitrix24.ru">"#));
    assert!(
        html.contains(r#"<meta name="b24pay-api" content="/pay/p/abcdefghijkmnpqrstuv/api/v1">"#)
    );
    assert!(html.contains(r#"src="/pay/loader-0123456789abcdef.js""#));
    // The portal moved: its page follows its new origin at once.
    let moved = csp_of(page("https://north-new.bitrix24.ru").headers());
    assert!(
        moved.contains("frame-ancestors https://north-new.bitrix24.ru;"),
        "{moved}"
    );
}
