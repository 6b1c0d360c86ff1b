//! Serving the widget (with `Router::oneshot`, as axum's `testing` example does): content types,
//! compression, cache headers, security headers, the CSP's frame-ancestors and the inline
//! script's hash matching the page actually served, the deployment meta tags, and one test
//! against the real `dist/` when it has been built. `/healthz`, `/readyz`, `/metrics` and the
//! standalone preview page are in `health.rs`.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use b24pay_companion::csp;
use b24pay_companion::serve::{PageSettings, Widget};
use http_body_util::BodyExt;
use std::io::Read;
use tower::ServiceExt;

async fn get(
    app: &axum::Router,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn h<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

async fn app(env: &Env) -> axum::Router {
    let config = env.file_config.clone().validate().unwrap();
    b24pay_companion::app::router(&config, &env.server().services)
}

/// The text of each inline `<script>` (without `src`) in a page.
fn inline_scripts(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<script") {
        let tag_end = i + rest[i..].find('>').unwrap();
        let tag = &rest[i..tag_end];
        let close = tag_end + rest[tag_end..].find("</script>").unwrap();
        if !tag.contains(" src=") {
            out.push(rest[tag_end + 1..close].to_string());
        }
        rest = &rest[close..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_page() {
    let env = Env::start(StoreKind::Sqlite).await;
    let app = app(&env).await;
    for path in ["/", "/index.html"] {
        let (status, headers, body) = get(&app, path, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(h(&headers, "content-type"), "text/html; charset=utf-8");
        assert_eq!(h(&headers, "cache-control"), "no-cache");
        assert_eq!(h(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(h(&headers, "referrer-policy"), "no-referrer");
        assert!(
            headers.get("x-frame-options").is_none(),
            "the portal must be able to frame it"
        );
        let html = String::from_utf8(body).unwrap();
        let origin = env.sandbox.base_url();
        assert!(
            html.contains(&format!(
                r#"<meta name="b24pay-allowed-origins" content="{origin}">"#
            )),
            "{html}"
        );
        assert!(html.contains(r#"<meta name="b24pay-api" content="/api/v1">"#));
        let policy = h(&headers, "content-security-policy");
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("frame-ancestors {origin};")),
            "{policy}"
        );
        for part in [
            "style-src 'self'",
            "connect-src 'self';",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
        ] {
            assert!(policy.contains(part), "{part} in {policy}");
        }
        assert!(!policy.contains("unsafe-inline"));
        // Every inline script of the served page is allowed by hash, and nothing else is.
        let scripts = inline_scripts(&html);
        assert_eq!(scripts.len(), 1);
        for s in &scripts {
            assert!(
                policy.contains(&csp::sha256_source(s)),
                "hash of {s:?} in {policy}"
            );
        }
        assert_eq!(policy.matches("'sha256-").count(), 1);
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_types_caching_compression() {
    let env = Env::start(StoreKind::Sqlite).await;
    let app = app(&env).await;
    let dist = env.dir.path().join("dist");
    for (file, ty) in [
        (
            "b24pay-widget-1a2b3c4d5e6f7a8b.js",
            "text/javascript; charset=utf-8",
        ),
        ("b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm", "application/wasm"),
        ("widget-fedcba9876543210.css", "text/css; charset=utf-8"),
        (
            "loader-0123456789abcdef.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let original = std::fs::read(dist.join(file)).unwrap();
        let path = format!("/{file}");
        let (status, headers, body) = get(&app, &path, &[]).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(h(&headers, "content-type"), ty, "{file}");
        assert_eq!(
            h(&headers, "cache-control"),
            "public, max-age=31536000, immutable",
            "{file}"
        );
        assert_eq!(h(&headers, "x-content-type-options"), "nosniff");
        assert!(headers.get("content-encoding").is_none());
        assert_eq!(body, original, "{file} identity");

        let (_, headers, body) =
            get(&app, &path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(h(&headers, "content-encoding"), "br", "{file}");
        assert_eq!(h(&headers, "vary"), "Accept-Encoding");
        assert!(body.len() < original.len());
        let mut plain = Vec::new();
        brotli::Decompressor::new(&body[..], 4096)
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, original, "{file} brotli round trip");

        let (_, headers, body) = get(&app, &path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(h(&headers, "content-encoding"), "gzip", "{file}");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, original, "{file} gzip round trip");

        let (_, headers, _) = get(&app, &path, &[("accept-encoding", "br;q=0, gzip;q=0")]).await;
        assert!(
            headers.get("content-encoding").is_none(),
            "q=0 refuses a coding"
        );

        // Revalidation.
        let (_, headers, _) = get(&app, &path, &[("accept-encoding", "br")]).await;
        let etag = h(&headers, "etag").to_string();
        let (status, _, body) = get(
            &app,
            &path,
            &[("accept-encoding", "br"), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(status, 304);
        assert!(body.is_empty());
    }
    let (status, _, _) = get(&app, "/nope.js", &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&app, "/../Cargo.toml", &[]).await;
    assert_eq!(status, 404);
    // HEAD: headers without a body.
    let resp = app
        .clone()
        .oneshot(Request::head("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some());
    assert!(resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .is_empty());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_origins_and_api_base() {
    let dir = tempfile::tempdir().unwrap();
    let dist = fake_dist(dir.path());
    let settings = PageSettings {
        allowed_origins: vec![
            "https://a.bitrix24.ru".into(),
            "https://shop.example".into(),
        ],
        api_base: "https://pay.example.com/api/v1".into(),
        preview_sample: None,
        acquirer_sources: Default::default(),
    };
    let widget = Widget::load(&dist, &settings).unwrap();
    let html = String::from_utf8(widget.index_html().unwrap().to_vec()).unwrap();
    assert!(html.contains(r#"content="https://a.bitrix24.ru https://shop.example""#));
    assert!(html.contains(r#"<meta name="b24pay-api" content="https://pay.example.com/api/v1">"#));
    let app = axum::Router::new()
        .fallback(b24pay_companion::serve::serve)
        .with_state(std::sync::Arc::new(widget));
    let (_, headers, _) = get(&app, "/", &[]).await;
    let policy = h(&headers, "content-security-policy");
    assert!(
        policy.contains("frame-ancestors https://a.bitrix24.ru https://shop.example;"),
        "{policy}"
    );
    assert!(
        policy.contains("connect-src 'self' https://pay.example.com;"),
        "{policy}"
    );
    // No acquirer with its own script configured: nothing from elsewhere, no frames.
    assert!(
        !policy.contains("stripe") && !policy.contains("frame-src"),
        "{policy}"
    );

    // No origins configured: nobody may frame the page.
    let none = Widget::load(
        &dist,
        &PageSettings {
            allowed_origins: vec![],
            api_base: "/api/v1".into(),
            preview_sample: None,
            acquirer_sources: Default::default(),
        },
    )
    .unwrap();
    let app = axum::Router::new()
        .fallback(b24pay_companion::serve::serve)
        .with_state(std::sync::Arc::new(none));
    let (_, headers, _) = get(&app, "/", &[]).await;
    assert!(h(&headers, "content-security-policy").contains("frame-ancestors 'none'"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_dist_still_serves_the_api() {
    let mut env = Env::start(StoreKind::Sqlite).await;
    env.stop_server().await;
    env.file_config.dist_dir = Some(env.dir.path().join("no-such-dist"));
    env.start_server().await;
    let resp = reqwest::get(format!("{}/", env.base)).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(resp.text().await.unwrap().contains("trunk build --release"));
    let id = env.order("10", "USD");
    let (status, _) = env.pay_order(id, "10", "USD", APPROVED).await;
    assert_eq!(status, 200);
    env.stop().await;
}

/// The real widget build, when `trunk build --release` has produced `dist/`.
#[test]
fn real_dist_when_built() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    if !dist.join("index.html").is_file() {
        let _ = writeln_stderr(
            "SKIPPED: no dist/ (run `trunk build --release`) for the real-dist serving test",
        );
        return;
    }
    let settings = PageSettings {
        allowed_origins: vec!["http://127.0.0.1:8081".into()],
        api_base: "/api/v1".into(),
        preview_sample: None,
        acquirer_sources: Default::default(),
    };
    let widget = Widget::load(&dist, &settings).unwrap();
    let html = String::from_utf8(widget.index_html().unwrap().to_vec()).unwrap();
    assert!(
        html.contains(r#"<meta name="b24pay-allowed-origins" content="http://127.0.0.1:8081">"#),
        "the meta tag was rewritten"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = axum::Router::new()
            .fallback(b24pay_companion::serve::serve)
            .with_state(std::sync::Arc::new(widget));
        let (status, headers, _) = get(&app, "/", &[]).await;
        assert_eq!(status, 200);
        let policy = h(&headers, "content-security-policy").to_string();
        let scripts = inline_scripts(&html);
        assert!(!scripts.is_empty(), "trunk writes an inline module loader");
        for s in &scripts {
            assert!(
                policy.contains(&csp::sha256_source(s)),
                "inline script allowed by hash"
            );
        }
        // Every file the page references is served with a proper type.
        for attr in ["src=\"", "href=\""] {
            for part in html.split(attr).skip(1) {
                let target = part.split('"').next().unwrap();
                if !target.starts_with('/') || target.starts_with("//") {
                    continue;
                }
                let (status, headers, _) = get(&app, target, &[("accept-encoding", "br")]).await;
                assert_eq!(status, 200, "{target}");
                assert_ne!(
                    h(&headers, "content-type"),
                    "application/octet-stream",
                    "{target}"
                );
                assert_eq!(
                    h(&headers, "cache-control"),
                    "public, max-age=31536000, immutable",
                    "{target}"
                );
            }
        }
        for entry in std::fs::read_dir(&dist).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if name.ends_with(".wasm") {
                let (_, headers, _) =
                    get(&app, &format!("/{name}"), &[("accept-encoding", "br")]).await;
                assert_eq!(h(&headers, "content-type"), "application/wasm");
                assert_eq!(h(&headers, "content-encoding"), "br");
            }
        }
    });
}

fn writeln_stderr(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr(), "{line}")
}
