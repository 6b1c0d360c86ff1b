//! Fault drills against the real `b24pay` process, through the HTTP API (no browser):
//!
//! * **SIGKILL drill** — a stream of payments (approved and declined cards, each payment with its
//!   own idempotency key, clients retrying the same key after connection errors) while the
//!   companion is killed with SIGKILL at random moments (seeded; the seed is printed, and
//!   `B24PAY_DRILL_SEED` replays it) and restarted on the same port and data. Every approved
//!   charge ends up paid in the sandbox exactly once (`pay_calls == 1`: the outbox re-reads the
//!   PAID flag after any try that may have reached the portal), no payment is charged twice (the
//!   acquirer's ledger), no declined payment is marked paid.
//! * **Flood drill** — malformed, oversized and hostile requests (HTTP and raw TCP) while real
//!   payments go on: never a 500, every API error is the documented JSON, the process never
//!   dies, and the real payments complete.
//!
//! * **Nobody-retries drill** — the same kills, but every customer sends its request once and
//!   never comes back (a closed tab). After the last restart, with no client action, every
//!   approved charge is paid in the sandbox exactly once within a bounded time, nothing is
//!   charged twice, and no attempt is left unsettled: the reconciler and the outbox do it alone.
//!   `B24PAY_DRILL_KILLS` kills per store (10 in the test command; `scripts/drill.sh` runs 50
//!   per store).
//!
//! All run against SQLite, and against PostgreSQL when `B24PAY_TEST_DATABASE_URL` is set.

use b24pay_e2e::cards;
use b24pay_e2e::say;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::{pg_url, StoreKind};
use b24pay_protocol::api::ErrorCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn new_key(rng: &mut impl Rng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

/// What the customer's client finally heard for one payment.
#[derive(Clone, Debug)]
struct Final {
    state: String,
    decline_code: Option<String>,
}

/// Confirms one payment like a careful client: the same key and body until a final answer,
/// through connection errors (the companion is dead), `payment_in_progress` (a crashed
/// attempt's lease has not run out) and transient errors. Returns the final answer and how
/// many requests it took.
async fn confirm_until_final(
    stack: &Stack,
    key: &str,
    body: &Value,
    deadline: Instant,
) -> (Final, usize) {
    let mut tries = 0;
    loop {
        assert!(
            Instant::now() < deadline,
            "no final answer for {body} (key {key}) after {tries} tries"
        );
        tries += 1;
        match stack.confirm(key, body).await {
            Err(_) => {}
            Ok((200, view)) => match view["state"].as_str() {
                Some(state @ ("succeeded" | "declined")) => {
                    return (
                        Final {
                            state: state.to_string(),
                            decline_code: view["decline_code"].as_str().map(str::to_string),
                        },
                        tries,
                    )
                }
                // `failed` (a transient acquirer error) and `processing` are retried with the
                // same key, which can never charge twice.
                Some("failed" | "processing") => {}
                other => panic!("unexpected state {other:?}: {view}"),
            },
            Ok((status, error)) => {
                let code = error["error"]["code"].as_str().unwrap_or_default();
                assert!(
                    matches!(status, 409 | 429 | 502 | 503 | 504)
                        && matches!(
                            code,
                            "payment_in_progress"
                                | "rate_limited"
                                | "portal_unavailable"
                                | "timeout"
                                | "overloaded"
                        ),
                    "not a transient refusal: {status} {error} for {body}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sigkill_drill(kind: StoreKind) {
    let seed = std::env::var("B24PAY_DRILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    say(format!(
        "SIGKILL drill ({}): seed {seed} (replay with B24PAY_DRILL_SEED={seed})",
        kind.name()
    ));
    let mut rng = StdRng::seed_from_u64(seed);
    let stack = Stack::start(StackOptions::new(kind)).await;

    const PAYMENTS: usize = 120;
    const CLIENTS: usize = 6;
    const KILLS: usize = 8;
    // (payment id, key, body, approved?)
    let mut plan = Vec::new();
    for _ in 0..PAYMENTS {
        let sum = format!(
            "{}.{:02}",
            rng.random_range(1..5000),
            rng.random_range(0..100)
        );
        let payment_id = stack.order(&sum, "RUB");
        let number = match rng.random_range(0..10) {
            0..=5 => cards::APPROVED,
            6 => cards::APPROVED_MASTERCARD,
            7 => cards::DECLINED,
            8 => cards::INSUFFICIENT_FUNDS,
            _ => cards::INCORRECT_CVC,
        };
        let approved = matches!(number, cards::APPROVED | cards::APPROVED_MASTERCARD);
        let body = stack.confirm_body(payment_id, &sum, "RUB", number);
        plan.push((payment_id, new_key(&mut rng), body, approved));
    }
    let kill_gaps: Vec<u64> = (0..KILLS).map(|_| rng.random_range(10..300)).collect();

    let stack = Arc::new(stack);
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let finals = Arc::new(Mutex::new(BTreeMap::new()));
    let deadline = Instant::now() + Duration::from_secs(150);
    let started = Instant::now();

    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        // Customers arrive at their own pace, so the kills land all along the stream.
        let mut pace = StdRng::seed_from_u64(seed ^ client as u64);
        let (stack, plan, next, completed, finals) = (
            stack.clone(),
            plan.clone(),
            next.clone(),
            completed.clone(),
            finals.clone(),
        );
        clients.spawn(async move {
            loop {
                let pause = pace.random_range(0..40);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((payment_id, key, body, _)) = plan.get(i) else {
                    break;
                };
                let answer = confirm_until_final(&stack, key, body, deadline).await;
                finals.lock().unwrap().insert(*payment_id, answer);
                completed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let mut kills = 0;
    for gap in &kill_gaps {
        tokio::time::sleep(Duration::from_millis(*gap)).await;
        if completed.load(Ordering::Relaxed) == PAYMENTS {
            break;
        }
        let at = completed.load(Ordering::Relaxed);
        tokio::task::block_in_place(|| stack.kill_and_restart());
        kills += 1;
        say(format!(
            "  kill {kills} after {gap} ms, {at}/{PAYMENTS} payments answered"
        ));
    }
    while let Some(result) = clients.join_next().await {
        result.expect("client task");
    }
    say(format!(
        "SIGKILL drill ({}): {PAYMENTS} payments by {CLIENTS} clients, {kills} kills, {:.1} s",
        kind.name(),
        started.elapsed().as_secs_f64()
    ));

    let finals = finals.lock().unwrap().clone();
    let ledger = stack.ledger().await;
    let mut approved_count = 0;
    for (payment_id, _, body, approved) in plan.iter() {
        let (fin, tries) = &finals[payment_id];
        if *approved {
            approved_count += 1;
            assert_eq!(fin.state, "succeeded", "payment {payment_id}: {fin:?}");
            let paid = stack.wait_paid(*payment_id, Duration::from_secs(30)).await;
            assert_eq!(
                paid.pay_calls, 1,
                "payment {payment_id} marked paid exactly once ({tries} requests): {paid:?}"
            );
            assert_eq!(
                paid.ps
                    .invoice_id
                    .as_deref()
                    .map(|t| t.starts_with("tx_test_")),
                Some(true),
                "PS_INVOICE_ID is the acquirer's transaction: {paid:?}"
            );
            assert_eq!(
                ledger.charges(stack.paysystem_id, *payment_id).await,
                1,
                "payment {payment_id} charged exactly once"
            );
        } else {
            assert_eq!(
                fin.state, "declined",
                "payment {payment_id}: {fin:?} {body}"
            );
            assert!(fin.decline_code.is_some(), "a reason: {fin:?}");
            let p = stack.payment(*payment_id);
            assert!(!p.paid, "declined payment {payment_id} marked paid: {p:?}");
            assert_eq!(p.pay_calls, 0);
            assert_eq!(ledger.charges(stack.paysystem_id, *payment_id).await, 0);
        }
    }
    assert_eq!(
        ledger.all_charges().await,
        approved_count,
        "no charge outside the plan"
    );
    let tries: usize = finals.values().map(|(_, t)| t).sum();
    say(format!(
        "SIGKILL drill ({}): {approved_count} approved paid once each, {} declined unpaid, {tries} requests in all, companion started {} times",
        kind.name(),
        PAYMENTS as i64 - approved_count,
        stack.companion.lock().unwrap().starts()
    ));
}

/// How one customer's single request ended, as far as the drill cares.
fn once_outcome(answer: &Result<(u16, Value), reqwest::Error>) -> String {
    match answer {
        Err(_) => "no answer".into(),
        Ok((200, v)) => v["state"].as_str().unwrap_or("?").to_string(),
        Ok((status, v)) => format!("{status} {}", v["error"]["code"].as_str().unwrap_or("?")),
    }
}

async fn nobody_retries_drill(kind: StoreKind) {
    let kills: usize = std::env::var("B24PAY_DRILL_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed = std::env::var("B24PAY_DRILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    say(format!(
        "nobody-retries drill ({}): {kills} kills, seed {seed} (replay with B24PAY_DRILL_SEED={seed})",
        kind.name()
    ));
    let mut rng = StdRng::seed_from_u64(seed);
    let stack = Stack::start(StackOptions::new(kind)).await;
    let payments = kills * 6;
    let mut plan = Vec::new();
    for _ in 0..payments {
        let sum = format!(
            "{}.{:02}",
            rng.random_range(1..5000),
            rng.random_range(0..100)
        );
        let payment_id = stack.order(&sum, "RUB");
        let number = match rng.random_range(0..10) {
            0..=6 => cards::APPROVED,
            7 => cards::PROCESSING_ERROR,
            _ => cards::DECLINED,
        };
        let body = stack.confirm_body(payment_id, &sum, "RUB", number);
        plan.push((
            payment_id,
            new_key(&mut rng),
            body,
            number == cards::APPROVED,
        ));
    }
    let stack = Arc::new(stack);
    let plan = Arc::new(plan);
    let outcomes = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..6usize {
        let (stack, plan, outcomes) = (stack.clone(), plan.clone(), outcomes.clone());
        let mut pace = StdRng::seed_from_u64(seed ^ (client as u64 + 1));
        clients.spawn(async move {
            for (payment_id, key, body, _) in plan.iter().skip(client).step_by(6) {
                // Paced so that the stream lasts about as long as the kills.
                tokio::time::sleep(Duration::from_millis(pace.random_range(0..600))).await;
                let answer = stack.confirm(key, body).await;
                let _ = payment_id;
                *outcomes
                    .lock()
                    .unwrap()
                    .entry(once_outcome(&answer))
                    .or_default() += 1;
            }
        });
    }
    for kill in 1..=kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..400))).await;
        tokio::task::block_in_place(|| stack.kill_and_restart());
        if kill % 10 == 0 {
            say(format!("  {kill} kills"));
        }
    }
    while let Some(result) = clients.join_next().await {
        result.expect("client task");
    }
    let streamed = started.elapsed();
    // From here on no customer does anything: the companion must finish on its own.
    let ledger = stack.ledger().await;
    let settle_deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let unsettled = ledger.unsettled().await;
        if unsettled.is_empty() && ledger.outbox_depth().await == 0 {
            break;
        }
        assert!(
            Instant::now() < settle_deadline,
            "not settled 90 s after the last kill: {unsettled:?}, outbox {}",
            ledger.outbox_depth().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settled_in = started.elapsed() - streamed;
    let (mut paid_once, mut not_charged) = (0, 0);
    for (payment_id, _, body, approvable) in plan.iter() {
        let charges = ledger.charges(stack.paysystem_id, *payment_id).await;
        let p = stack.payment(*payment_id);
        match charges {
            1 => {
                assert!(
                    approvable,
                    "a card that cannot be approved was charged: {body}"
                );
                assert!(p.paid && p.pay_calls == 1, "charged, paid once: {p:?}");
                paid_once += 1;
            }
            0 => {
                assert!(!p.paid && p.pay_calls == 0, "not charged, not paid: {p:?}");
                not_charged += 1;
            }
            n => panic!("payment {payment_id} charged {n} times"),
        }
    }
    assert_eq!(
        ledger.all_charges().await,
        paid_once as i64,
        "no charge outside the plan"
    );
    say(format!(
        "nobody-retries drill ({}): {payments} payments sent once each, {kills} kills in {:.1} s; \
         settled alone {:.1} s after the last kill: {paid_once} charged and paid exactly once, \
         {not_charged} not charged and unpaid, nothing charged twice, nothing left unsettled; \
         first answers {:?}; companion started {} times",
        kind.name(),
        streamed.as_secs_f64(),
        settled_in.as_secs_f64(),
        outcomes.lock().unwrap(),
        stack.companion.lock().unwrap().starts()
    ));
}

/// One hostile HTTP request.
struct Hostile {
    method: reqwest::Method,
    path: String,
    content_type: Option<&'static str>,
    key: Option<String>,
    body: Vec<u8>,
    what: String,
}

impl Hostile {
    fn post_json(what: &str, body: Value, key: Option<String>) -> Hostile {
        Hostile {
            method: reqwest::Method::POST,
            path: "/api/v1/payments".into(),
            content_type: Some("application/json"),
            key,
            body: serde_json::to_vec(&body).expect("JSON"),
            what: what.into(),
        }
    }

    fn post_raw(what: &str, content_type: Option<&'static str>, body: Vec<u8>) -> Hostile {
        Hostile {
            method: reqwest::Method::POST,
            path: "/api/v1/payments".into(),
            content_type,
            key: Some("0123456789abcdef0123456789abcdef".into()),
            body,
            what: what.into(),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Sends a request; when the connection it went out on turns out to be closed (a pooled
/// keep-alive connection the server had just closed, e.g. after refusing an oversized body
/// without reading it), sends it once more on a fresh connection, as any HTTP client would.
async fn send_once_more_on_reset(
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, reqwest::Error> {
    let retry = req.try_clone();
    match req.send().await {
        Ok(r) => Ok(r),
        Err(e) if e.is_request() && retry.is_some() => {
            let fresh = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client");
            let retry = retry.expect("checked").build().expect("request");
            fresh.execute(retry).await
        }
        Err(e) => Err(e),
    }
}

/// Malformed, oversized and hostile requests for the payment API. `victims` are real payments
/// being paid at the same time (tampering with their amount or currency must not disturb them).
fn hostile_requests(stack: &Stack, victims: &[(u64, String)], rng: &mut StdRng) -> Vec<Hostile> {
    let mut out = Vec::new();
    let key = |rng: &mut StdRng| Some(new_key(rng));
    let ps = stack.paysystem_id.to_string();
    let good = |payment_id: &str, amount: &str| {
        json!({
            "payment_id": payment_id, "paysystem_id": ps, "amount": amount, "currency": "RUB",
            "card": {"number": cards::APPROVED, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
        })
    };
    // Not JSON, or not the expected JSON.
    for body in [
        &b"{"[..],
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
    ] {
        out.push(Hostile::post_raw(
            &format!("not JSON: {:?}", String::from_utf8_lossy(body)),
            Some("application/json"),
            body.to_vec(),
        ));
    }
    // Nesting deep enough to hurt a recursive parser, still under the body limit.
    out.push(Hostile::post_raw(
        "deeply nested arrays",
        Some("application/json"),
        format!("{}{}", "[".repeat(7000), "]".repeat(7000)).into_bytes(),
    ));
    out.push(Hostile::post_raw(
        "deeply nested objects",
        Some("application/json"),
        format!("{}1{}", "{\"a\":".repeat(2500), "}".repeat(2500)).into_bytes(),
    ));
    // Wrong media types.
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json-patch+json"),
    ] {
        out.push(Hostile::post_raw(
            &format!("content type {ct:?}"),
            ct,
            serde_json::to_vec(&good("1", "3000")).unwrap(),
        ));
    }
    // Oversized bodies (the limit is 16 KiB).
    for size in [17 * 1024, 256 * 1024, 1024 * 1024, 8 * 1024 * 1024] {
        let mut body = good("1", "3000");
        body["card"]["holder"] = json!("A".repeat(size));
        out.push(Hostile::post_json(
            &format!("{size}-byte body"),
            body,
            key(rng),
        ));
    }
    // Idempotency keys.
    for k in [
        None,
        Some(String::new()),
        Some("short".into()),
        Some("x".repeat(65)),
        Some("../../../../etc/passwd0000".into()),
        Some("key with spaces 0123456789".into()),
        Some("ключключключключключключ".into()),
        Some("k".repeat(8 * 1024)),
    ] {
        out.push(Hostile::post_json(
            &format!(
                "idempotency key {:?}",
                k.as_deref().map(|k| &k[..k.len().min(30)])
            ),
            good("1", "3000"),
            k,
        ));
    }
    // Hostile values, one field at a time.
    let fields: Vec<(&str, Vec<Value>)> = vec![
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
    ];
    for (field, values) in fields {
        for v in values {
            let mut body = good("1", "3000");
            body[field] = v.clone();
            out.push(Hostile::post_json(
                &format!("{field} = {v}"),
                body,
                key(rng),
            ));
        }
    }
    let card_fields: Vec<(&str, Vec<Value>)> = vec![
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
    ];
    for (field, values) in card_fields {
        for v in values {
            let mut body = good("1", "3000");
            body["card"][field] = v.clone();
            out.push(Hostile::post_json(
                &format!("card.{field} = {v}"),
                body,
                key(rng),
            ));
        }
    }
    let mut extra = good("1", "3000");
    extra["admin"] = json!(true);
    out.push(Hostile::post_json(
        "unknown top-level field",
        extra,
        key(rng),
    ));
    // Tampering with the real payments being paid right now.
    for (payment_id, sum) in victims {
        out.push(Hostile::post_json(
            "tampered amount of a live payment",
            good(&payment_id.to_string(), "0.01"),
            key(rng),
        ));
        let mut body = good(&payment_id.to_string(), sum);
        body["currency"] = json!("USD");
        out.push(Hostile::post_json(
            "tampered currency of a live payment",
            body,
            key(rng),
        ));
    }
    // Other endpoints and methods.
    for path in [
        "/api/v1/payments/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/payments/%00",
        "/api/v1/payments/pa_doesnotexist",
        "/api/v1/payments/' OR 1=1 --",
        "/api/v1/nowhere",
        "/api/v2/payments",
    ] {
        out.push(Hostile {
            method: reqwest::Method::GET,
            path: path.into(),
            content_type: None,
            key: None,
            body: Vec::new(),
            what: format!("GET {path}"),
        });
    }
    out.push(Hostile {
        method: reqwest::Method::GET,
        path: format!("/api/v1/payments/{}", "a".repeat(6000)),
        content_type: None,
        key: None,
        body: Vec::new(),
        what: "GET a 6000-character id".into(),
    });
    for id in ["pa_doesnotexist", "..", &"z".repeat(3000)] {
        out.push(Hostile {
            method: reqwest::Method::POST,
            path: format!("/api/v1/payments/{id}/challenge"),
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
            path: "/api/v1/payments".into(),
            content_type: Some("application/json"),
            key: key(rng),
            body: b"{}".to_vec(),
            what: format!("{method} /api/v1/payments"),
        });
    }
    out
}

/// Raw bytes on a fresh TCP connection: broken HTTP that never reaches a handler.
fn raw_attacks(rng: &mut StdRng) -> Vec<(String, Vec<u8>)> {
    let post = "POST /api/v1/payments HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nIdempotency-Key: 0123456789abcdef0123456789abcdef\r\n";
    let mut noise = vec![0u8; 4096];
    rng.fill(&mut noise[..]);
    vec![
        ("garbage line".into(), b"GARBAGE\r\n\r\n".to_vec()),
        ("random bytes".into(), noise),
        (
            "truncated body".into(),
            format!("{post}Content-Length: 100\r\n\r\n{{").into_bytes(),
        ),
        (
            "absurd Content-Length".into(),
            format!("{post}Content-Length: 99999999999999999999\r\n\r\n").into_bytes(),
        ),
        (
            "bad chunk".into(),
            format!("{post}Transfer-Encoding: chunked\r\n\r\nZZZ\r\n").into_bytes(),
        ),
        (
            "Content-Length and chunked".into(),
            format!("{post}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n")
                .into_bytes(),
        ),
        (
            "100 KiB header".into(),
            format!("{post}X-Big: {}\r\n\r\n", "a".repeat(100 * 1024)).into_bytes(),
        ),
        (
            "HTTP/1.0 without Host".into(),
            b"GET /api/v1/payments/x HTTP/1.0\r\n\r\n".to_vec(),
        ),
        (
            "50 pipelined requests".into(),
            "GET /api/v1/payments/pa_x HTTP/1.1\r\nHost: localhost\r\n\r\n"
                .repeat(50)
                .into_bytes(),
        ),
    ]
}

/// Sends raw bytes and reads whatever comes back within a few seconds; the status codes of the
/// HTTP responses in it.
async fn send_raw(addr: &str, bytes: &[u8]) -> Vec<u16> {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        panic!("the companion no longer accepts connections");
    };
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply)
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|r| r.get(..3)?.parse().ok())
        .collect()
}

/// Holds a connection open sending one header byte at a time (a slow client).
async fn slow_client(addr: &str) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    for b in b"POST /api/v1/payments HTTP/1.1\r\nHost: localhost\r\nX-Slow: yes" {
        if stream.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

async fn flood_drill(kind: StoreKind) {
    let seed = rand::random::<u64>();
    say(format!("flood drill ({}): seed {seed}", kind.name()));
    let mut rng = StdRng::seed_from_u64(seed);
    let stack = Arc::new(Stack::start(StackOptions::new(kind)).await);

    const REAL: usize = 24;
    let real: Vec<(u64, String)> = (0..REAL)
        .map(|i| {
            let sum = format!("{}.50", 100 + i);
            (stack.order(&sum, "RUB"), sum)
        })
        .collect();
    let hostile = Arc::new(hostile_requests(&stack, &real, &mut rng));
    let raw = Arc::new(raw_attacks(&mut rng));
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let violations = Arc::new(Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let started = Instant::now();

    // Attackers: every hostile request, three times over, from four clients at once.
    let mut attackers = tokio::task::JoinSet::new();
    for attacker in 0..4usize {
        let (stack, hostile, statuses, violations) = (
            stack.clone(),
            hostile.clone(),
            statuses.clone(),
            violations.clone(),
        );
        attackers.spawn(async move {
            let n = hostile.len();
            for round in 0..3 {
                for i in 0..n {
                    let h = &hostile[(i * 7 + attacker * 13 + round * 5) % n];
                    let mut req = stack
                        .http
                        .request(h.method.clone(), format!("{}{}", stack.base, h.path))
                        .body(h.body.clone());
                    if let Some(ct) = h.content_type {
                        req = req.header("Content-Type", ct);
                    }
                    if let Some(k) = &h.key {
                        req = req.header("Idempotency-Key", k);
                    }
                    let (status, text) = match send_once_more_on_reset(req).await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            (status, r.text().await.unwrap_or_default())
                        }
                        // The server may close a connection on an oversized body before
                        // reading it; that is a refusal, not a crash (liveness is checked).
                        Err(e) if h.body.len() > 16 * 1024 => {
                            let _ = e;
                            *statuses.lock().unwrap().entry(0).or_default() += 1;
                            continue;
                        }
                        Err(e) => {
                            violations.lock().unwrap().push(format!(
                                "{}: no answer: {}",
                                h.what,
                                error_chain(&e)
                            ));
                            continue;
                        }
                    };
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                    let problem = if status == 500 || (status >= 500 && status != 503) {
                        Some(format!("status {status}"))
                    } else if status >= 400 && !matches!(status, 414 | 431) {
                        let code = serde_json::from_str::<Value>(&text)
                            .ok()
                            .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
                        match code.as_deref().and_then(ErrorCode::from_code) {
                            Some(_) => None,
                            None => Some(format!("status {status} without a JSON error code")),
                        }
                    } else if status == 200 {
                        Some("accepted".to_string())
                    } else {
                        None
                    };
                    if let Some(problem) = problem {
                        violations.lock().unwrap().push(format!(
                            "{}: {problem}: {}",
                            h.what,
                            &text[..text.len().min(300)]
                        ));
                    }
                }
            }
        });
    }
    // Broken HTTP on raw connections, and a few slow clients.
    {
        let (stack, raw, violations, statuses) = (
            stack.clone(),
            raw.clone(),
            violations.clone(),
            statuses.clone(),
        );
        attackers.spawn(async move {
            let addr = stack.base.trim_start_matches("http://").to_string();
            let slow: Vec<_> = (0..8)
                .map(|_| {
                    let addr = addr.clone();
                    tokio::spawn(async move { slow_client(&addr).await })
                })
                .collect();
            for _ in 0..3 {
                for (what, bytes) in raw.iter() {
                    for status in send_raw(&addr, bytes).await {
                        *statuses.lock().unwrap().entry(status).or_default() += 1;
                        if status >= 500 {
                            violations
                                .lock()
                                .unwrap()
                                .push(format!("raw {what}: status {status}"));
                        }
                    }
                }
            }
            for s in slow {
                let _ = s.await;
            }
        });
    }
    // Real customers, at the same time.
    let mut customers = tokio::task::JoinSet::new();
    for chunk in real.chunks(REAL / 4) {
        let (stack, chunk) = (stack.clone(), chunk.to_vec());
        let mut keys = StdRng::seed_from_u64(rng.random());
        customers.spawn(async move {
            let mut answers = Vec::new();
            for (payment_id, sum) in chunk {
                let body = stack.confirm_body(payment_id, &sum, "RUB", cards::APPROVED);
                let key = new_key(&mut keys);
                let (fin, _) = confirm_until_final(&stack, &key, &body, deadline).await;
                answers.push((payment_id, fin));
            }
            answers
        });
    }
    let mut answers = Vec::new();
    while let Some(r) = customers.join_next().await {
        answers.extend(r.expect("customer task"));
    }
    while let Some(r) = attackers.join_next().await {
        r.expect("attacker task");
    }
    let statuses = statuses.lock().unwrap().clone();
    say(format!(
        "flood drill ({}): {} hostile requests x 12 and {} raw attacks x 3 in {:.1} s; statuses {statuses:?} (0 = connection closed on an oversized body)",
        kind.name(),
        hostile.len(),
        raw.len(),
        started.elapsed().as_secs_f64()
    ));

    {
        let mut companion = stack.companion.lock().unwrap();
        assert!(
            companion.is_running(),
            "the companion died: {}",
            companion.log_tail()
        );
        assert_eq!(companion.starts(), 1);
    }
    let health = stack
        .http
        .get(format!("{}/healthz", stack.base))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(health.status().as_u16(), 200);
    let violations = violations.lock().unwrap().clone();
    assert!(
        violations.is_empty(),
        "{} bad answers:\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert!(!statuses.contains_key(&500));
    assert_eq!(answers.len(), REAL);
    for (payment_id, fin) in answers {
        assert_eq!(fin.state, "succeeded", "real payment {payment_id}: {fin:?}");
        let paid = stack.wait_paid(payment_id, Duration::from_secs(30)).await;
        assert_eq!(paid.pay_calls, 1, "{paid:?}");
        assert_eq!(stack.charges(payment_id).await, 1);
    }
    assert_eq!(
        stack.ledger().await.all_charges().await,
        REAL as i64,
        "nothing hostile was charged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flood_drill_sqlite() {
    flood_drill(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flood_drill_postgres() {
    if pg_url().is_some() {
        flood_drill(StoreKind::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_retries_drill_sqlite() {
    nobody_retries_drill(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_retries_drill_postgres() {
    if pg_url().is_some() {
        nobody_retries_drill(StoreKind::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_drill_sqlite() {
    sigkill_drill(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_drill_postgres() {
    if pg_url().is_some() {
        sigkill_drill(StoreKind::Postgres).await;
    }
}
