//! Hostile and malformed requests: each field's problem answers its own error code (400/422),
//! oversized bodies 413, wrong content types 415, unknown endpoints and methods JSON errors —
//! never a 500, never axum's plain-text rejections, nothing charged.

use crate::common::*;
use serde_json::{json, Value};

fn valid(env: &Env, id: u64) -> Value {
    env.body(id, env.ps_order, "3000", "RUB", APPROVED)
}

/// Sets `path` ("card.number") in a JSON object to `value`, or removes it for `None`.
fn with(mut body: Value, path: &str, value: Option<Value>) -> Value {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut target = &mut body;
    for p in parts {
        target = target.get_mut(p).unwrap();
    }
    let obj = target.as_object_mut().unwrap();
    match value {
        Some(v) => {
            obj.insert(last.to_string(), v);
        }
        None => {
            obj.remove(last);
        }
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_field_has_its_code() {
    let env = Env::start(StoreKind::Sqlite).await;
    let id = env.order("3000", "RUB");
    // Each field, the answer for it (status and code), and the values that must get that answer
    // (`None`: the field left out).
    let some = |values: Vec<Value>| values.into_iter().map(Some).collect::<Vec<_>>();
    let cases: Vec<(&str, u16, &str, Vec<Option<Value>>)> = vec![
        ("payment_id", 422, "invalid_payment_id", {
            let mut v = some(vec![
                json!("abc"),
                json!("-1"),
                json!("0"),
                json!(""),
                json!("99999999999999999999999"),
                json!(247),
            ]);
            v.push(None);
            v
        }),
        (
            "paysystem_id",
            422,
            "invalid_paysystem_id",
            some(vec![json!("1; DROP TABLE attempts"), json!(null)]),
        ),
        (
            "invoice_id",
            422,
            "invalid_payment_id",
            some(vec![json!("x")]),
        ),
        (
            "amount",
            422,
            "invalid_amount",
            some(vec![
                json!("-5"),
                json!("0"),
                json!("1e3"),
                json!("3000.001"),
                json!("100000000000000000000"),
                json!("NaN"),
                json!(3000),
            ]),
        ),
        (
            "currency",
            422,
            "unknown_currency",
            some(vec![json!("XXX"), json!("rubles"), json!(643)]),
        ),
        (
            "card.number",
            422,
            "invalid_card_number",
            some(vec![
                json!("4242424242424241"),
                json!("4242"),
                json!("4242 4242 4242 4242"),
                json!(""),
                json!(4242424242424242u64),
            ]),
        ),
        (
            "card.exp_month",
            422,
            "invalid_expiry",
            some(vec![json!(13), json!(0), json!(-1), json!("12")]),
        ),
        (
            "card.exp_year",
            422,
            "card_expired",
            some(vec![json!(2020)]),
        ),
        (
            "card.exp_year",
            422,
            "invalid_expiry",
            some(vec![json!(2099), json!(99999)]),
        ),
        (
            "card.cvc",
            422,
            "invalid_cvc",
            some(vec![json!("12"), json!("12a"), json!(123)]),
        ),
        (
            "card.holder",
            422,
            "invalid_holder",
            some(vec![json!("x".repeat(65)), json!("IVAN\u{7}PETROV")]),
        ),
        ("card.pin", 400, "invalid_json", some(vec![json!("1234")])),
        ("sneaky", 400, "invalid_json", some(vec![json!(true)])),
        (
            "card",
            400,
            "invalid_json",
            some(vec![json!("4242424242424242")]),
        ),
    ];
    for (field, status, code, values) in cases {
        for value in values {
            let body = with(valid(&env, id), field, value.clone());
            let (got, err) = env.confirm(&key(), &body).await;
            assert_eq!(got, status, "{field}={value:?}: {err}");
            assert_eq!(err["error"]["code"], code, "{field}={value:?}: {err}");
            if status == 422 {
                let at = err["error"]["field"].as_str().unwrap_or_default();
                let field_root = field.split('.').next().unwrap();
                assert!(at.starts_with(field_root), "{field}: field {at:?}");
            }
        }
    }
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    assert_eq!(
        env.sandbox
            .method_calls("sale.paysystem.settings.payment.get"),
        0,
        "refused before asking the portal"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_level_errors() {
    let env = Env::start(StoreKind::Sqlite).await;
    let id = env.order("3000", "RUB");
    let url = format!("{}/api/v1/payments", env.base);
    let body = serde_json::to_vec(&valid(&env, id)).unwrap();
    let send = |req: reqwest::RequestBuilder| async move {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let v: Value = resp.json().await.expect("a JSON error body");
        assert_eq!(ct.as_deref(), Some("application/json"));
        (status, v["error"]["code"].as_str().unwrap().to_string())
    };
    let c = &env.http;
    let k = key();
    // No key, a bad key.
    for (key, code) in [
        (None, "missing_idempotency_key"),
        (Some("short"), "invalid_idempotency_key"),
        (Some("bad key with spaces!!"), "invalid_idempotency_key"),
    ] {
        let mut req = c
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        assert_eq!(send(req).await, (400, code.into()), "key {key:?}");
    }
    // Content types.
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
    ] {
        let mut req = c
            .post(&url)
            .header("Idempotency-Key", &k)
            .body(body.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        assert_eq!(
            send(req).await,
            (415, "unsupported_media_type".into()),
            "{ct:?}"
        );
    }
    assert_eq!(
        send(
            c.post(&url)
                .header("Idempotency-Key", &k)
                .header("content-type", "application/json; charset=utf-8")
                .body("{\"payment_id\":")
        )
        .await,
        (400, "invalid_json".into())
    );
    for junk in [
        "",
        "null",
        "[]",
        "\"x\"",
        "{} {}",
        "\u{feff}{}",
        "{\"payment_id\":\"1\",\"payment_id\":\"2\"}",
    ] {
        let (status, code) = send(
            c.post(&url)
                .header("Idempotency-Key", &k)
                .header("content-type", "application/json")
                .body(junk),
        )
        .await;
        assert!(status == 400 || status == 422, "{junk:?}: {status} {code}");
    }
    // Oversized bodies, declared and streamed.
    let mut big = valid(&env, id);
    big["card"]["holder"] = json!("A".repeat(20_000));
    assert_eq!(
        send(c.post(&url).header("Idempotency-Key", &k).json(&big)).await,
        (413, "body_too_large".into())
    );
    let (status, body) = chunked_post(&env.base, &k, 40_000).await;
    assert!(status.contains(" 413 "), "{status}");
    assert!(body.contains("body_too_large"), "{body}");
    // Unknown endpoints and methods under /api answer JSON too.
    for path in ["/api/v1/nothing", "/api/v2/payments"] {
        let got = send(c.get(format!("{}{path}", env.base))).await;
        assert_eq!(got, (404, "not_found".into()), "GET {path}");
    }
    assert_eq!(send(c.put(&url)).await.0, 405);
    let attempt = format!(
        "{}/api/v1/payments/pa_00000000000000000000000000000000",
        env.base
    );
    assert_eq!(send(c.delete(&attempt)).await.0, 405);
    // Challenge input.
    let ch = format!("{attempt}/challenge");
    let bad_id = format!("{}/api/v1/payments/..%2F..%2Fetc/challenge", env.base);
    for (at, code, answer) in [
        (&ch, json!(""), (422, "invalid_challenge_code")),
        (&ch, json!(123), (422, "invalid_challenge_code")),
        (&ch, json!("<script>"), (422, "invalid_challenge_code")),
        (&ch, json!("123"), (404, "not_found")),
        (&bad_id, json!("123"), (404, "not_found")),
    ] {
        let req = c
            .post(at)
            .header("Idempotency-Key", &k)
            .json(&json!({ "code": code }));
        assert_eq!(
            send(req).await,
            (answer.0, answer.1.into()),
            "{at} code {code}"
        );
    }
    assert_eq!(env.charges(env.ps_order, id).await, 0);
    env.stop().await;
}

/// Sends a chunked body (no Content-Length) of `total` bytes over a raw connection; returns
/// the response's status line and body.
async fn chunked_post(base: &str, key: &str, total: usize) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/payments HTTP/1.1\r\nHost: {addr}\r\nIdempotency-Key: {key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut sent = 0;
    while sent < total {
        let n = (total - sent).min(4096);
        // The server may answer and close before everything is sent.
        if s.write_all(format!("{n:x}\r\n{}\r\n", " ".repeat(n)).as_bytes())
            .await
            .is_err()
        {
            break;
        }
        sent += n;
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.lines().next().unwrap_or_default().to_string();
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_garbage_never_500() {
    let env = Env::start(StoreKind::Sqlite).await;
    let id = env.order("3000", "RUB");
    let base = serde_json::to_string(&valid(&env, id)).unwrap();
    let url = format!("{}/api/v1/payments", env.base);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..300u32 {
        // Deterministic mutations: flip, drop, duplicate and insert bytes of a valid body.
        let mut bytes = base.clone().into_bytes();
        let mut seed = i.wrapping_mul(2654435761);
        for _ in 0..(1 + i % 6) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let at = (seed as usize) % bytes.len();
            match seed % 4 {
                0 => bytes[at] = (seed >> 8) as u8,
                1 => {
                    bytes.remove(at);
                }
                2 => {
                    let specials = b"{}[]\",:0\\\x00\xff";
                    bytes.insert(at, specials[(seed as usize >> 3) % specials.len()])
                }
                _ => {
                    let end = (at + 8).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
        }
        let resp = env
            .http
            .post(&url)
            .header("Idempotency-Key", key())
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("always JSON");
        assert!(status < 500, "{status}: {body}");
        assert!(
            body.get("error").is_some() || body.get("state").is_some(),
            "{body}"
        );
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(env.charges(env.ps_order, id).await <= 1);
    eprintln!("garbage statuses: {statuses:?}");
    env.stop().await;
}
