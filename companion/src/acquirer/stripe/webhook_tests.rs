use super::*;

const SECRET: &str = "whsec_test_secret";
const NOW: i64 = 1_750_000_000;

fn at(t: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t as u64)
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(Secret::new(SECRET))
}

fn succeeded_body() -> Vec<u8> {
    serde_json::json!({
        "id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
        "created": NOW, "livemode": false, "api_version": "2024-06-20",
        "data": {"object": {
            "id": "pi_123", "object": "payment_intent", "status": "succeeded",
            "amount": 1250, "currency": "eur", "client_secret": "pi_123_secret_abc",
            "metadata": {"attempt_id": "pa_1", "payment_id": "7"},
            "latest_charge": "ch_1"
        }}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn valid_signature_and_event() {
    let body = succeeded_body();
    let header = signature_header(SECRET, NOW, &body);
    verifier()
        .verify_at(Some(&header), &body, at(NOW + 5))
        .unwrap();
    let event = parse_event(&body).unwrap();
    assert_eq!(event.id, "evt_1");
    assert_eq!(event.payment_intent(), Some("pi_123"));
    match event.kind {
        EventKind::PaymentSucceeded(pi) => assert_eq!(pi.attempt_id(), Some("pa_1")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn wrong_secret() {
    let body = succeeded_body();
    let header = signature_header("whsec_other", NOW, &body);
    assert_eq!(
        verifier().verify_at(Some(&header), &body, at(NOW)),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn stale_and_future_timestamps() {
    let body = succeeded_body();
    let header = signature_header(SECRET, NOW, &body);
    assert_eq!(
        verifier().verify_at(Some(&header), &body, at(NOW + 301)),
        Err(WebhookError::OutsideTolerance { age_s: 301 })
    );
    assert_eq!(
        verifier().verify_at(Some(&header), &body, at(NOW - 400)),
        Err(WebhookError::OutsideTolerance { age_s: 400 })
    );
    let strict = verifier().with_tolerance(Duration::from_secs(10));
    assert!(strict
        .verify_at(Some(&header), &body, at(NOW + 11))
        .is_err());
    assert!(strict.verify_at(Some(&header), &body, at(NOW + 10)).is_ok());
}

#[test]
fn tampered_body_or_timestamp() {
    let body = succeeded_body();
    let header = signature_header(SECRET, NOW, &body);
    let mut tampered = body.clone();
    let i = tampered.iter().position(|&b| b == b'1').unwrap();
    tampered[i] = b'9';
    assert_eq!(
        verifier().verify_at(Some(&header), &tampered, at(NOW)),
        Err(WebhookError::BadSignature)
    );
    // The same signature moved to another (fresh) timestamp does not verify either.
    let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 60));
    assert_eq!(
        verifier().verify_at(Some(&moved), &body, at(NOW + 60)),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn several_signatures_one_matches() {
    let body = succeeded_body();
    let good = signature_header(SECRET, NOW, &body);
    let good_v1 = good.split_once("v1=").unwrap().1;
    let old = signature_header("whsec_old", NOW, &body);
    let old_v1 = old.split_once("v1=").unwrap().1;
    let header = format!("t={NOW},v1={old_v1},v1={good_v1},v0=deadbeef");
    verifier().verify_at(Some(&header), &body, at(NOW)).unwrap();
    let none = format!("t={NOW},v1={old_v1},v0={good_v1}");
    assert_eq!(
        verifier().verify_at(Some(&none), &body, at(NOW)),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn malformed_headers() {
    let body = succeeded_body();
    let v = verifier();
    assert_eq!(
        v.verify_at(None, &body, at(NOW)),
        Err(WebhookError::MissingSignature)
    );
    for header in [
        "",
        "t=abc,v1=00",
        "v1=00",
        &format!("t={NOW}"),
        &format!("t={NOW},v1=zz"),
    ] {
        assert_eq!(
            v.verify_at(Some(header), &body, at(NOW)),
            Err(WebhookError::MalformedSignature),
            "{header}"
        );
    }
}

#[test]
fn events_parsed_or_ignored() {
    let failed = serde_json::json!({
        "id": "evt_2", "type": "payment_intent.payment_failed", "created": NOW,
        "data": {"object": {"id": "pi_9", "status": "requires_payment_method", "amount": 5,
            "currency": "usd", "last_payment_error": {"type": "card_error",
            "code": "card_declined", "decline_code": "insufficient_funds"}}}
    });
    match parse_event(failed.to_string().as_bytes()).unwrap().kind {
        EventKind::PaymentFailed(pi) => {
            let e = pi.last_payment_error.unwrap();
            assert_eq!(e.decline_code.as_deref(), Some("insufficient_funds"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let refunded = serde_json::json!({
        "id": "evt_3", "type": "charge.refunded", "created": NOW,
        "data": {"object": {"id": "ch_1", "amount": 1000, "amount_refunded": 400,
            "currency": "eur", "refunded": false, "payment_intent": "pi_9"}}
    });
    let event = parse_event(refunded.to_string().as_bytes()).unwrap();
    assert_eq!(event.payment_intent(), Some("pi_9"));
    assert!(matches!(event.kind, EventKind::ChargeRefunded(ref c) if c.amount_refunded == 400));
    let other = serde_json::json!({
        "id": "evt_4", "type": "customer.created", "created": NOW, "data": {"object": {"id": "cus_1"}}
    });
    let event = parse_event(other.to_string().as_bytes()).unwrap();
    assert!(matches!(event.kind, EventKind::Ignored(ref t) if t == "customer.created"));
    assert!(matches!(
        parse_event(b"{\"id\":1}"),
        Err(WebhookError::InvalidPayload(_))
    ));
}

#[test]
fn debug_hides_the_client_secret() {
    let event = parse_event(&succeeded_body()).unwrap();
    assert!(!format!("{event:?}").contains("secret_abc"));
}
