//! A portal (or OAuth server) that answers with absurd values must not panic the client, hold it
//! for an absurd time, or make it buffer an absurd body: a huge `Retry-After` or
//! `operating_reset_at`, an `expires_in` near `i64::MAX`, bodies of many megabytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bitrix24_client::{
    Auth, Client, Error, MemoryTokenStore, OAuthConfig, OAuthTokens, Retry, RetryConfig,
};
use serde_json::{json, Value};

/// A server that answers every request with `answer(n)` (n counts requests from 0).
async fn serve(
    answer: impl Fn(usize) -> Response + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let answer = Arc::new(answer);
    let app = Router::new().fallback(any(move || {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let answer = answer.clone();
        async move { answer(n) }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, count)
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 5,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_total: Duration::from_secs(10),
    }
}

fn webhook_client(base: &str) -> Client {
    Client::builder(Auth::webhook(&format!("{base}/rest/1/hostilecode0000/")).unwrap())
        .rate_limit(None)
        .retry(retry())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn json_response(status: u16, headers: &[(&'static str, &str)], body: Value) -> Response {
    let mut r = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
    for (k, v) in headers {
        r.headers_mut()
            .insert(*k, HeaderValue::from_str(v).unwrap());
    }
    r
}

async fn list(client: &Client) -> Result<Value, Error> {
    client
        .call::<_, Value>("sale.paysystem.list", &json!({}), Retry::Safe)
        .await
}

#[tokio::test]
async fn a_huge_retry_after_gives_up_at_once_instead_of_panicking_or_sleeping() {
    for retry_after in ["18446744073709551615", "9223372036854775808", "99999999999"] {
        let (base, count) = serve(move |_| {
            json_response(
                503,
                &[("retry-after", retry_after)],
                json!({"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}),
            )
        })
        .await;
        let started = Instant::now();
        let err = list(&webhook_client(&base)).await.unwrap_err();
        assert_eq!(err.code(), "QUERY_LIMIT_EXCEEDED", "{retry_after}");
        assert!(started.elapsed() < Duration::from_secs(5), "{retry_after}");
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "no retry it could not afford"
        );
    }
}

#[tokio::test]
async fn an_absurd_operating_reset_at_gives_up_at_once() {
    for reset_at in [
        json!(1e300),
        json!(i64::MAX),
        json!("9223372036854775807999"),
        json!(-5),
    ] {
        let body = json!({"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked",
            "time": {"operating_reset_at": reset_at}});
        let (base, _) = serve(move |n| {
            if n == 0 {
                json_response(429, &[], body.clone())
            } else {
                json_response(200, &[], json!({"result": []}))
            }
        })
        .await;
        let started = Instant::now();
        // A reset time in the past (or unreadable) is retried after the base delay; one in
        // the far future is beyond max_total and ends the call at once.
        match list(&webhook_client(&base)).await {
            Ok(v) => assert_eq!(v, json!([])),
            Err(e) => assert_eq!(e.code(), "OPERATION_TIME_LIMIT"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// A raw HTTP server whose replies have no length: `bytes` of JSON-ish filler until it closes.
async fn endless_body_server(bytes: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < bytes {
                    if socket.write_all(&chunk).await.is_err() {
                        return; // the client hung up: what it should do
                    }
                    sent += chunk.len();
                }
            });
        }
    });
    base
}

#[tokio::test]
async fn a_giant_body_is_refused_without_being_buffered() {
    // Announced: refused from the Content-Length alone.
    let (base, _) = serve(|_| {
        let mut r = Response::new(Body::from(vec![b' '; 12 * 1024 * 1024]));
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        r
    })
    .await;
    let err = list(&webhook_client(&base)).await.unwrap_err();
    assert!(err.to_string().contains("over 8388608 bytes"), "{err}");

    // Not announced (no length, 1 GiB until the connection closes): cut at the cap.
    let base = endless_body_server(1 << 30).await;
    let client =
        Client::builder(Auth::webhook(&format!("{base}/rest/1/hostilecode0000/")).unwrap())
            .rate_limit(None)
            .retry(RetryConfig::none())
            .max_response_bytes(256 * 1024)
            .build()
            .unwrap();
    let started = Instant::now();
    let err = list(&client).await.unwrap_err();
    assert!(err.to_string().contains("over 262144 bytes"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_giant_error_description_is_clipped() {
    let (base, _) = serve(|_| {
        json_response(
            400,
            &[],
            json!({"error": "E".repeat(10_000), "error_description": "x".repeat(1_000_000)}),
        )
    })
    .await;
    let err = list(&webhook_client(&base)).await.unwrap_err();
    assert!(err.code().chars().count() <= 65, "{}", err.code().len());
    assert!(err.description().unwrap().chars().count() <= 1025);
    assert!(err.to_string().len() < 2_000);
}

#[tokio::test]
async fn absurd_token_lifetimes_do_not_overflow() {
    // The token endpoint and the portal in one: refresh replies with absurd lifetimes, then
    // the retried call succeeds.
    let (base, _) = serve(move |n| match n {
        0 => json_response(
            401,
            &[],
            json!({"error": "expired_token", "error_description": "The access token provided has expired."}),
        ),
        1 => json_response(
            200,
            &[],
            json!({"access_token": "new-access", "refresh_token": "new-refresh",
                "expires_in": i64::MAX, "expires": i64::MIN}),
        ),
        _ => json_response(200, &[], json!({"result": []})),
    })
    .await;
    let config = OAuthConfig::new(&base, "app", "secret")
        .unwrap()
        .with_token_endpoint(&format!("{base}/oauth/token/"))
        .unwrap();
    let store = Arc::new(MemoryTokenStore::new());
    let client = Client::builder(Auth::oauth(
        config,
        OAuthTokens::new("old-access", "old-refresh"),
        store.clone(),
    ))
    .rate_limit(None)
    .retry(retry())
    .build()
    .unwrap();
    assert_eq!(list(&client).await.unwrap(), json!([]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expires_at = store.latest().unwrap().expires_at.unwrap();
    assert!(
        expires_at >= now && expires_at <= now + 2 * 24 * 3600,
        "{expires_at}"
    );
}
