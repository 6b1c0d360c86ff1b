//! Charges through the trait: approved, declined, 3-D Secure, cancel, status, keys.

use super::localstripe::LocalStripe;
use super::support::*;
use b24pay_companion::acquirer::*;
use b24pay_protocol::api::DeclineCode;

#[tokio::test]
async fn approved_card_opens_without_charging_then_confirms() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let card = card(APPROVED);
    let id = attempt("pa_ok");
    let request = first_round(money("12.50", "EUR"), &card, &id);
    let reference = acq.open(&request).await.unwrap();
    assert!(reference.starts_with("pi_"), "{reference}");
    // Opened, not charged: nothing moves before `confirm`.
    let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
    assert_eq!(pi["status"], "requires_confirmation");
    assert_eq!(pi["amount"], 1250);
    assert_eq!(pi["currency"], "eur");
    assert_eq!(pi["metadata"]["attempt_id"], id.as_str());
    assert_eq!(pi["metadata"]["round"], "1");
    assert_eq!(pi["metadata"]["payment_id"], "41");
    assert_eq!(pi["metadata"]["paysystem_id"], "3");
    assert_eq!(pi["metadata"]["portal"], "https://shop.example.bitrix24.ru");
    assert_eq!(acq.status(&reference).await.unwrap(), ChargeStatus::Pending);

    let outcome = acq.confirm(&reference, &request).await.unwrap();
    let approved = ChargeOutcome::Approved {
        transaction_id: reference.clone(),
    };
    assert_eq!(outcome, approved);
    let status = ChargeStatus::Approved {
        transaction_id: reference.clone(),
    };
    assert_eq!(acq.status(&reference).await.unwrap(), status);
    // Cancel after the money moved reports the approval and cancels nothing.
    assert_eq!(acq.cancel(&reference).await.unwrap(), status);

    let requests = ls.requests_until(|r| posts_to(r, "/confirm") == 1).await;
    let posts: Vec<(String, Option<String>)> = adapter_posts(&requests)
        .iter()
        .map(|r| (r.path.clone(), r.key.clone()))
        .collect();
    let confirm_path = format!("/v1/payment_intents/{reference}/confirm");
    assert_eq!(
        posts,
        [
            (
                "/v1/payment_methods".into(),
                Some(key("pa_ok", "payment_method-1"))
            ),
            ("/v1/payment_intents".into(), Some(key("pa_ok", "open-1"))),
            (confirm_path, Some(key("pa_ok", "confirm-1"))),
        ]
    );
}

#[tokio::test]
async fn amounts_use_the_currency_exponent() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    for (text, code, stripe_amount) in [("3000", "JPY", 3000), ("1.250", "KWD", 1250)] {
        let (reference, outcome) =
            pay(&acq, APPROVED, &format!("pa_{code}"), money(text, code)).await;
        assert!(
            matches!(outcome, ChargeOutcome::Approved { .. }),
            "{outcome:?}"
        );
        let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
        assert_eq!(pi["amount"], stripe_amount, "{code}");
        assert_eq!(pi["currency"], code.to_ascii_lowercase());
    }
}

#[tokio::test]
async fn card_declined_at_charge_time() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(&acq, DECLINED_ON_CHARGE, "pa_dec", money("10.00", "EUR")).await;
    // localstripe answers the confirm with HTTP 402 `card_declined` (no issuer decline code).
    assert_eq!(
        outcome,
        ChargeOutcome::Declined(DeclineCode::GenericDecline)
    );
    // The declined intent was cancelled, so the decline is final.
    let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
    assert_eq!(pi["status"], "canceled");
    let declined = ChargeStatus::Declined(DeclineCode::GenericDecline);
    assert_eq!(acq.status(&reference).await.unwrap(), declined);
    assert_eq!(acq.cancel(&reference).await.unwrap(), declined);
    let refund = RefundRequest {
        idempotency_key: "rf_dec",
        reference: &reference,
        transaction_id: &reference,
        amount: money("10.00", "EUR"),
    };
    assert!(matches!(
        acq.refund(&refund).await.unwrap(),
        RefundOutcome::Refused(_)
    ));

    let requests = ls.requests_until(|r| posts_to(r, "/cancel") == 1).await;
    let confirm = adapter_posts(&requests)
        .into_iter()
        .find(|r| r.path.ends_with("/confirm"))
        .unwrap()
        .clone();
    assert_eq!(confirm.status, 402);
    let cancels: Vec<_> = adapter_posts(&requests)
        .into_iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .map(|r| r.key.clone())
        .collect();
    assert_eq!(
        cancels,
        [Some(key("pa_dec", "cancel-1:requires_payment_method"))]
    );
}

#[tokio::test]
async fn three_d_secure_completed_then_approved() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(&acq, THREE_DS, "pa_3ds", money("10.00", "EUR")).await;
    let secret = client_secret(&outcome, &ls);
    assert!(secret.starts_with(&format!("{reference}_secret_")));
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::ActionRequired
    );
    // The widget says "done" before the customer finished: still waiting, nothing decided.
    let early = resume(&acq, &reference, "pa_3ds").await;
    assert_eq!(client_secret(&early, &ls), secret);

    assert_eq!(authenticate(&ls, &secret, true).await, 200);
    let approved = ChargeOutcome::Approved {
        transaction_id: reference.clone(),
    };
    assert_eq!(resume(&acq, &reference, "pa_3ds").await, approved);
    assert!(matches!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::Approved { .. }
    ));
    // An inline code is not how Stripe authenticates.
    let id = attempt("pa_3ds");
    let code = ResumeRequest {
        reference: &reference,
        result: ActionResult::Code("123"),
        amount: money("10.00", "EUR"),
        last4: "3184",
        metadata: metadata(&id),
        round: 2,
    };
    assert!(matches!(
        acq.resume(&code).await,
        Err(AcquirerError::Refused(_))
    ));
}

#[tokio::test]
async fn three_d_secure_failed_is_declined_for_good() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(&acq, THREE_DS, "pa_3dsf", money("10.00", "EUR")).await;
    let secret = client_secret(&outcome, &ls);
    assert_eq!(authenticate(&ls, &secret, false).await, 200);
    let declined = ChargeOutcome::Declined(DeclineCode::ChallengeFailed);
    assert_eq!(resume(&acq, &reference, "pa_3dsf").await, declined);
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::Declined(DeclineCode::ChallengeFailed)
    );
    // The browser still holds the client secret; the cancelled intent cannot be completed.
    assert_eq!(authenticate(&ls, &secret, true).await, 400);
    let pi = stripe_get(&ls, &format!("payment_intents/{reference}")).await;
    assert_eq!(pi["status"], "canceled");
    assert!(pi["latest_charge"].is_null(), "no charge was made: {pi}");
}

#[tokio::test]
async fn three_d_secure_then_declined() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (reference, outcome) = pay(
        &acq,
        THREE_DS_THEN_DECLINED,
        "pa_3dsd",
        money("10.00", "EUR"),
    )
    .await;
    let secret = client_secret(&outcome, &ls);
    // localstripe charges on authentication and answers the stand-in's call with the decline.
    assert_eq!(authenticate(&ls, &secret, true).await, 402);
    // Stripe reports `insufficient_funds` for this card; localstripe only `card_declined`, so
    // the generic decline here (the insufficient-funds mapping is in the unit tests).
    let outcome = resume(&acq, &reference, "pa_3dsd").await;
    assert_eq!(
        outcome,
        ChargeOutcome::Declined(DeclineCode::GenericDecline)
    );
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::Declined(DeclineCode::GenericDecline)
    );
}

#[tokio::test]
async fn cancel_before_confirm_and_during_action_moves_no_money() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    // Opened, never confirmed (the process died between): cancelled, then a stalled confirm.
    let card = card(APPROVED);
    let id = attempt("pa_open");
    let request = first_round(money("10.00", "EUR"), &card, &id);
    let reference = acq.open(&request).await.unwrap();
    assert_eq!(
        acq.cancel(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );
    let late = acq.confirm(&reference, &request).await.unwrap();
    assert_eq!(late, ChargeOutcome::Failed);
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );

    // Waiting for 3-D Secure: cancelled, and the customer's late authentication is refused.
    let (reference, outcome) = pay(&acq, THREE_DS, "pa_wait", money("10.00", "EUR")).await;
    let secret = client_secret(&outcome, &ls);
    assert_eq!(
        acq.cancel(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );
    assert_eq!(authenticate(&ls, &secret, true).await, 400);
    assert_eq!(
        acq.status(&reference).await.unwrap(),
        ChargeStatus::NotCharged
    );

    let requests = ls.requests_until(|r| posts_to(r, "/cancel") == 2).await;
    let keys: Vec<_> = adapter_posts(&requests)
        .into_iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        keys,
        [
            key("pa_open", "cancel-1:requires_confirmation"),
            key("pa_wait", "cancel-1:requires_action"),
        ]
    );
}

#[tokio::test]
async fn unknown_references_are_not_found_never_not_charged() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    for reference in ["pi_doesnotexist", "not-a-stripe-id", "pi_../../v1/charges"] {
        assert_eq!(acq.status(reference).await.unwrap(), ChargeStatus::NotFound);
        assert_eq!(acq.cancel(reference).await.unwrap(), ChargeStatus::NotFound);
    }
    // `status` and `cancel` of unknown ids created nothing.
    let requests = ls.requests_until(|r| r.len() >= 2).await;
    assert!(adapter_posts(&requests).is_empty(), "{requests:?}");
}

#[tokio::test]
async fn every_mutating_call_carries_its_own_key() {
    let ls = LocalStripe::start();
    let acq = acquirer(&ls);
    let (_, outcome) = pay(&acq, APPROVED, "pa_k1", money("1.00", "EUR")).await;
    assert!(matches!(outcome, ChargeOutcome::Approved { .. }));
    let _ = pay(&acq, DECLINED_ON_CHARGE, "pa_k2", money("1.00", "EUR")).await;
    let (pi, outcome) = pay(&acq, THREE_DS, "pa_k3", money("1.00", "EUR")).await;
    assert_eq!(
        authenticate(&ls, &client_secret(&outcome, &ls), false).await,
        200
    );
    let _ = resume(&acq, &pi, "pa_k3").await;
    let requests = ls.requests_until(|r| adapter_posts(r).len() >= 11).await;
    let keys: Vec<String> = adapter_posts(&requests)
        .iter()
        .map(|r| r.key.clone().unwrap_or_else(|| panic!("no key on {r:?}")))
        .collect();
    let want: Vec<String> = [
        ("pa_k1", "payment_method-1"),
        ("pa_k1", "open-1"),
        ("pa_k1", "confirm-1"),
        ("pa_k2", "payment_method-1"),
        ("pa_k2", "open-1"),
        ("pa_k2", "confirm-1"),
        ("pa_k2", "cancel-1:requires_payment_method"),
        ("pa_k3", "payment_method-1"),
        ("pa_k3", "open-1"),
        ("pa_k3", "confirm-1"),
        ("pa_k3", "cancel-1:requires_payment_method"),
    ]
    .iter()
    .map(|(name, step)| key(name, step))
    .collect();
    assert_eq!(keys, want);
}

#[tokio::test]
async fn stripe_js_stand_in_is_served_at_js_url() {
    let ls = LocalStripe::start();
    let js = reqwest::get(ls.settings().js_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("confirmCardPayment") && js.contains("_authenticate"));
}
