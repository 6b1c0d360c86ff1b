//! Paying on the store page: approved, declined, challenged, clicked twice, and the portal
//! down when the charge is made; what the portal shows afterwards and what was charged.

use super::support::*;
use b24pay_e2e::browser::BrowserKind;
use b24pay_e2e::cards;
use b24pay_sandbox::Fault;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;

pub async fn approved_card_pays(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("1250.50", "EUR");
    w.open_form(id, "light").await;
    let label = w
        .browser
        .eval(
            "return document.querySelector('label[for=b24-number]').innerText;",
            vec![],
        )
        .await;
    assert!(
        label
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("card"),
        "the number field is labelled: {label}"
    );
    fill_card(&w.browser, "4242 4242 4242 4242", "123").await;
    let pay = w
        .browser
        .eval(
            "return document.querySelector('form.b24-form button[type=submit]').innerText;",
            vec![],
        )
        .await;
    assert!(
        pay.as_str().unwrap_or_default().contains("1,250.50"),
        "the button shows the amount: {pay}"
    );
    click_pay(&w.browser).await;
    let text = wait_outcome(&w.browser, true).await;
    assert!(text.contains("4242"), "the card used is named: {text}");
    // Once the store knows, a visible countdown back to it, then the whole page goes there.
    w.browser
        .wait_js(
            "the countdown back to the store",
            UI,
            "const o = document.querySelector('.b24-outcome');
             return !!o && o.innerText.includes('The store has been notified.')
                 && o.innerText.includes('Returning to the store in');",
        )
        .await;
    w.browser.leave_widget().await;
    w.browser
        .wait_js(
            "the store's page again, showing the payment paid",
            UI,
            "return !!document.getElementById('payment-paid');",
        )
        .await;
    let paid = w.stack.wait_paid(id, UI).await;
    let ps = &paid.ps;
    assert_eq!(paid.pay_calls, 1);
    assert!(
        ps.invoice_id
            .as_deref()
            .is_some_and(|t| t.starts_with("tx_test_")),
        "{ps:?}"
    );
    assert_eq!(
        ps.sum.as_deref().map(|s| s.parse::<f64>().ok()),
        Some(Some(1250.5))
    );
    assert_eq!(ps.currency.as_deref(), Some("EUR"));
    assert!(
        ps.card_number
            .as_deref()
            .is_some_and(|c| c.ends_with("4242") && !c.contains("424242")),
        "masked card: {ps:?}"
    );
    assert!(ps.status_code.is_some(), "{ps:?}");
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}

pub async fn declined_card_shows_the_reason(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("3000", "RUB");
    w.open_form(id, "light").await;
    let before = wait_sized(&w.browser).await;
    fill_card(&w.browser, cards::INSUFFICIENT_FUNDS, "123").await;
    click_pay(&w.browser).await;
    let notice = w
        .browser
        .wait_js(
            "the decline notice",
            UI,
            "const n = document.querySelector('.b24-notice');
             return n && n.innerText.trim() ? n.innerText : null;",
        )
        .await;
    let notice = notice.as_str().unwrap().to_lowercase();
    assert!(
        notice.contains("fund"),
        "the reason in plain words: {notice}"
    );
    // The form stays, filled in, so the customer can use another card.
    let number = w
        .browser
        .eval(
            "return document.getElementById('b24-number').value;",
            vec![],
        )
        .await;
    assert!(
        number.as_str().unwrap().ends_with("9995"),
        "card kept: {number}"
    );
    // The notice made the content taller; the frame followed (once its height easing is over:
    // at its start the frame still has the old height).
    w.browser
        .wait_js(
            "the frame grown for the notice",
            UI,
            &format!("return innerHeight > {before} + 8;"),
        )
        .await;
    let after = wait_sized(&w.browser).await;
    assert!(after > before, "{before} -> {after}");
    let p = w.stack.payment(id);
    assert!(!p.paid && p.pay_calls == 0, "{p:?}");
    assert_eq!(w.stack.charges(id).await, 0);
    w.quit().await;
}

pub async fn challenge_card_pays_after_the_code(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("49.99", "USD");
    w.open_form(id, "light").await;
    fill_card(&w.browser, cards::CHALLENGE, "123").await;
    click_pay(&w.browser).await;
    let code = b24pay_e2e::wait::until("the inline challenge code field", UI, || async {
        w.browser.client.find(Locator::Id("b24-code")).await
    })
    .await;
    assert!(!w.stack.payment(id).paid, "nothing is paid before the code");
    code.send_keys(cards::CHALLENGE_CODE)
        .await
        .expect("typing the code");
    w.browser
        .client
        .find(Locator::Css("form.b24-challenge button[type=submit]"))
        .await
        .expect("the challenge's submit button")
        .click()
        .await
        .expect("click");
    wait_outcome(&w.browser, true).await;
    let paid = w.stack.wait_paid(id, UI).await;
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}

pub async fn double_submit_charges_once(kind: BrowserKind) {
    let w = World::start(kind).await;
    // A real double click on Pay.
    let first = w.stack.order("3000", "RUB");
    w.open_form(first, "light").await;
    fill_card(&w.browser, cards::APPROVED, "123").await;
    let button = w
        .browser
        .client
        .find(Locator::Css("form.b24-form button[type=submit]"))
        .await
        .expect("the Pay button");
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: button,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    w.browser
        .client
        .perform_actions(mouse)
        .await
        .expect("double click");
    wait_outcome(&w.browser, true).await;
    w.stack.wait_paid(first, UI).await;

    // Click, click and Enter in the same task: no network round trip can finish in between.
    let second = w.stack.order("3000", "RUB");
    w.open_form(second, "light").await;
    fill_card(&w.browser, cards::APPROVED, "123").await;
    w.browser
        .eval(
            "const b = document.querySelector('form.b24-form button[type=submit]');
             b.click(); b.click(); b.form.requestSubmit();
             document.getElementById('b24-cvc').dispatchEvent(
               new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));",
            vec![],
        )
        .await;
    wait_outcome(&w.browser, true).await;
    w.stack.wait_paid(second, UI).await;

    for id in [first, second] {
        assert_eq!(w.stack.charges(id).await, 1, "payment {id} charged once");
        assert_eq!(w.stack.payment(id).pay_calls, 1, "payment {id} paid once");
    }
    let posts = w
        .stack
        .metric_sum(&[
            "b24pay_http_requests",
            "route=\"/api/v1/payments\"",
            "method=\"POST\"",
        ])
        .await;
    assert_eq!(posts, 2.0, "one confirm request per payment");
    w.quit().await;
}

pub async fn portal_outage_still_ends_paid(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("15000", "KZT");
    w.open_form(id, "dark").await;
    // The portal answers every pay.payment with 503 QUERY_LIMIT_EXCEEDED until it recovers;
    // reading the payment (verification) still works.
    w.stack.sandbox.inject_for(
        Fault::QueryLimitExceeded,
        1_000_000,
        ["sale.paysystem.pay.payment"],
    );
    fill_card(&w.browser, cards::APPROVED, "123").await;
    click_pay(&w.browser).await;
    wait_outcome(&w.browser, true).await;
    // Charged and shown as paid to the customer; the portal is still refusing.
    assert_eq!(w.stack.charges(id).await, 1);
    b24pay_e2e::wait::until("the portal refusing pay.payment", UI, || async {
        let refused = w
            .stack
            .metric_sum(&["b24pay_portal_errors", "QUERY_LIMIT_EXCEEDED"])
            .await;
        if refused >= 2.0 {
            Ok(refused)
        } else {
            Err(refused)
        }
    })
    .await;
    let p = w.stack.payment(id);
    assert!(!p.paid && p.pay_calls == 0, "{p:?}");
    assert!(
        w.stack.ledger().await.outbox_depth().await >= 1,
        "the portal call is owed"
    );
    w.stack.sandbox.clear_faults();
    let paid = w.stack.wait_paid(id, UI).await;
    assert_eq!(paid.pay_calls, 1, "{paid:?}");
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}
