//! Malformed, oversized and hostile HTTP requests for the payment API, one kind per function.

use super::super::new_key;
use b24pay_e2e::cards;
use b24pay_e2e::stack::Stack;
use b24pay_protocol::api::{path, API_PREFIX};
use rand::rngs::StdRng;
use serde_json::{json, Value};

/// One hostile HTTP request.
pub(super) struct Hostile {
    pub method: reqwest::Method,
    pub path: String,
    pub content_type: Option<&'static str>,
    pub key: Option<String>,
    pub body: Vec<u8>,
    pub what: String,
}

fn payments_path() -> String {
    [API_PREFIX, path::PAYMENTS].concat()
}

impl Hostile {
    fn post_json(what: &str, body: Value, key: Option<String>) -> Hostile {
        Hostile {
            method: reqwest::Method::POST,
            path: payments_path(),
            content_type: Some("application/json"),
            key,
            body: serde_json::to_vec(&body).expect("JSON"),
            what: what.into(),
        }
    }

    fn post_raw(what: &str, content_type: Option<&'static str>, body: Vec<u8>) -> Hostile {
        Hostile {
            method: reqwest::Method::POST,
            path: payments_path(),
            content_type,
            key: Some("0123456789abcdef0123456789abcdef".into()),
            body,
            what: what.into(),
        }
    }

    fn bodiless(method: reqwest::Method, path: String, what: String) -> Hostile {
        Hostile {
            method,
            path,
            content_type: None,
            key: None,
            body: Vec::new(),
            what,
        }
    }
}

/// A well-formed request for an approved card, to be spoiled one field at a time.
struct Good {
    paysystem_id: String,
}

impl Good {
    fn body(&self, payment_id: &str, amount: &str) -> Value {
        json!({
            "payment_id": payment_id, "paysystem_id": self.paysystem_id, "amount": amount,
            "currency": "RUB",
            "card": {"number": cards::APPROVED, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
        })
    }
}

/// Every hostile request of the flood. `victims` are real payments being paid at the same time
/// (tampering with their amount or currency must not disturb them).
pub(super) fn hostile_requests(
    stack: &Stack,
    victims: &[(u64, String)],
    rng: &mut StdRng,
) -> Vec<Hostile> {
    let good = Good {
        paysystem_id: stack.paysystem_id.to_string(),
    };
    let mut out = not_json();
    out.extend(wrong_media_types(&good));
    out.extend(oversized(&good, rng));
    out.extend(idempotency_keys(&good));
    out.extend(hostile_fields(&good, rng, None, top_level_values()));
    out.extend(hostile_fields(&good, rng, Some("card"), card_values()));
    out.extend(tampering(&good, victims, rng));
    out.extend(other_endpoints(rng));
    out
}

/// Not JSON, or not the expected JSON; nesting deep enough to hurt a recursive parser.
fn not_json() -> Vec<Hostile> {
    let bodies: [&[u8]; 11] = [
        b"{",
        b"",
        b"null",
        b"[]",
        b"\"payment\"",
        b"{\"payment_id\":",
        b"\xff\xfe\x00{\x00}",
        b"\xef\xbb\xbf{}",
        b"{\"payment_id\":\"1\",\"payment_id\":\"2\"}",
        b"{\"a\":1e999999}",
        b"{\"payment_id\":\"\\ud800\"}",
    ];
    let mut out: Vec<Hostile> = bodies
        .iter()
        .map(|body| {
            let what = format!("not JSON: {:?}", String::from_utf8_lossy(body));
            Hostile::post_raw(&what, Some("application/json"), body.to_vec())
        })
        .collect();
    // Still under the body limit.
    let arrays = format!("{}{}", "[".repeat(7000), "]".repeat(7000));
    let objects = format!("{}1{}", "{\"a\":".repeat(2500), "}".repeat(2500));
    for (what, body) in [
        ("deeply nested arrays", arrays),
        ("deeply nested objects", objects),
    ] {
        out.push(Hostile::post_raw(
            what,
            Some("application/json"),
            body.into_bytes(),
        ));
    }
    out
}

fn wrong_media_types(good: &Good) -> Vec<Hostile> {
    [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json-patch+json"),
    ]
    .into_iter()
    .map(|ct| {
        let body = serde_json::to_vec(&good.body("1", "3000")).unwrap();
        Hostile::post_raw(&format!("content type {ct:?}"), ct, body)
    })
    .collect()
}

/// Bodies over the 16 KiB limit.
fn oversized(good: &Good, rng: &mut StdRng) -> Vec<Hostile> {
    [17 * 1024, 256 * 1024, 1024 * 1024, 8 * 1024 * 1024]
        .into_iter()
        .map(|size| {
            let mut body = good.body("1", "3000");
            body["card"]["holder"] = json!("A".repeat(size));
            Hostile::post_json(&format!("{size}-byte body"), body, Some(new_key(rng)))
        })
        .collect()
}

fn idempotency_keys(good: &Good) -> Vec<Hostile> {
    [
        None,
        Some(String::new()),
        Some("short".into()),
        Some("x".repeat(65)),
        Some("../../../../etc/passwd0000".into()),
        Some("key with spaces 0123456789".into()),
        Some("ключключключключключключ".into()),
        Some("k".repeat(8 * 1024)),
    ]
    .into_iter()
    .map(|k| {
        let shown = k.as_deref().map(|k| &k[..k.len().min(30)]);
        let what = format!("idempotency key {shown:?}");
        Hostile::post_json(&what, good.body("1", "3000"), k)
    })
    .collect()
}

type FieldValues = Vec<(&'static str, Vec<Value>)>;

/// One request per hostile value, each in an otherwise good body (inside `within` when set).
fn hostile_fields(
    good: &Good,
    rng: &mut StdRng,
    within: Option<&str>,
    fields: FieldValues,
) -> Vec<Hostile> {
    let mut out = Vec::new();
    for (field, values) in fields {
        for v in values {
            let mut body = good.body("1", "3000");
            let target = match within {
                Some(outer) => &mut body[outer],
                None => &mut body,
            };
            target[field] = v.clone();
            let path = within.map_or(field.to_string(), |outer| format!("{outer}.{field}"));
            out.push(Hostile::post_json(
                &format!("{path} = {v}"),
                body,
                Some(new_key(rng)),
            ));
        }
    }
    out
}

fn top_level_values() -> FieldValues {
    vec![
        (
            "payment_id",
            vec![
                json!("-1"),
                json!("0"),
                json!("1e9"),
                json!("99999999999999999999999999"),
                json!("1 OR 1=1"),
                json!("1'; DROP TABLE attempts; --"),
                json!("１２"),
                json!("1\u{0}"),
                json!(1),
                json!(null),
                json!([]),
                json!("9".repeat(5000)),
                json!("424242"),
            ],
        ),
        (
            "paysystem_id",
            vec![
                json!("999"),
                json!("-3"),
                json!(""),
                json!("1/../2"),
                json!({}),
            ],
        ),
        (
            "amount",
            vec![
                json!("-5"),
                json!("0"),
                json!("1e309"),
                json!("NaN"),
                json!("Infinity"),
                json!("0x10"),
                json!("1,000.00"),
                json!("3000.000000001"),
                json!("9".repeat(500)),
                json!(3000),
                json!(""),
                json!(" 3000"),
            ],
        ),
        (
            "currency",
            vec![
                json!("XXX"),
                json!("rub"),
                json!("R$B"),
                json!(""),
                json!("€"),
                json!("USD"),
                json!("R".repeat(1000)),
            ],
        ),
        ("admin", vec![json!(true)]),
    ]
}

fn card_values() -> FieldValues {
    vec![
        (
            "number",
            vec![
                json!(""),
                json!("abcd"),
                json!("4242424242424241"),
                json!("4".repeat(10_000)),
                json!("4242 4242 4242 4242 🙂"),
                json!(4242424242424242u64),
            ],
        ),
        (
            "exp_month",
            vec![
                json!(0),
                json!(13),
                json!(255),
                json!(-1),
                json!(256),
                json!("12"),
                json!(1e10),
            ],
        ),
        (
            "exp_year",
            vec![
                json!(0),
                json!(1999),
                json!(2020),
                json!(65535),
                json!(70000),
                json!(2999),
            ],
        ),
        (
            "cvc",
            vec![json!(""), json!("12345"), json!("abc"), json!(123)],
        ),
        (
            "holder",
            vec![
                json!("x".repeat(10_000)),
                json!("\u{0}\u{1}\u{7f}"),
                json!("<script>alert(1)</script>"),
                json!("\u{202e}evil"),
            ],
        ),
        ("unexpected", vec![json!(true)]),
    ]
}

/// Tampering with the real payments being paid right now.
fn tampering(good: &Good, victims: &[(u64, String)], rng: &mut StdRng) -> Vec<Hostile> {
    let mut out = Vec::new();
    for (payment_id, sum) in victims {
        let id = payment_id.to_string();
        let cheap = good.body(&id, "0.01");
        out.push(Hostile::post_json(
            "tampered amount of a live payment",
            cheap,
            Some(new_key(rng)),
        ));
        let mut foreign = good.body(&id, sum);
        foreign["currency"] = json!("USD");
        out.push(Hostile::post_json(
            "tampered currency of a live payment",
            foreign,
            Some(new_key(rng)),
        ));
    }
    out
}

/// Other endpoints and methods.
fn other_endpoints(rng: &mut StdRng) -> Vec<Hostile> {
    let get = reqwest::Method::GET;
    let mut out: Vec<Hostile> = [
        "/payments/..%2F..%2Fetc%2Fpasswd",
        "/payments/%00",
        "/payments/pa_doesnotexist",
        "/payments/' OR 1=1 --",
        "/nowhere",
    ]
    .into_iter()
    .map(|rest| {
        let path = format!("{API_PREFIX}{rest}");
        Hostile::bodiless(get.clone(), path.clone(), format!("GET {path}"))
    })
    .collect();
    // Another version of the API, which does not exist.
    let v2 = "/api/v2/payments".to_string();
    out.push(Hostile::bodiless(
        get.clone(),
        v2.clone(),
        format!("GET {v2}"),
    ));
    let long = format!("{}/{}", payments_path(), "a".repeat(6000));
    out.push(Hostile::bodiless(
        get,
        long,
        "GET a 6000-character id".into(),
    ));
    for id in ["pa_doesnotexist", "..", &"z".repeat(3000)] {
        out.push(Hostile {
            method: reqwest::Method::POST,
            path: format!("{}/{id}/challenge", payments_path()),
            content_type: Some("application/json"),
            key: Some(new_key(rng)),
            body: br#"{"code":"123"}"#.to_vec(),
            what: format!("challenge for {:?}", &id[..id.len().min(20)]),
        });
    }
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        out.push(Hostile {
            method: method.clone(),
            path: payments_path(),
            content_type: Some("application/json"),
            key: Some(new_key(rng)),
            body: b"{}".to_vec(),
            what: format!("{method} {}", payments_path()),
        });
    }
    out
}
