//! 3-D Secure through Stripe.js inside the frame: the companion configured for Stripe against
//! localstripe (its stand-in for Stripe.js draws the bank's window in the page and asks
//! "Complete authentication" or "Fail authentication"), a LIVE pay system in the sandbox, and
//! the test acquirer's TEST pay system beside it.

use super::support::*;
use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::cards;
use b24pay_e2e::localstripe::{LocalStripe, PUBLISHABLE_KEY, SECRET_KEY};
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use fantoccini::Locator;
use serde_json::Value;

/// Stripe's 3-D Secure test card (localstripe: `requires_action` until authenticated).
const THREE_DS: &str = "4000 0027 6000 3184";

async fn stripe_world(kind: BrowserKind) -> (LocalStripe, World) {
    let ls = tokio::task::spawn_blocking(LocalStripe::start)
        .await
        .expect("localstripe starts");
    let options = StackOptions::new(StoreKind::Sqlite)
        .with_widget()
        .with_live()
        .env("B24PAY_STRIPE_SECRET_KEY", SECRET_KEY)
        .env("B24PAY_STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
        .env("B24PAY_STRIPE_WEBHOOK_SECRET", "whsec_b24pay_localstripe")
        .env("B24PAY_STRIPE_API_BASE", &ls.base)
        .env(
            "B24PAY_STRIPE_JS_URL",
            &format!("{}/js.stripe.com/v3/", ls.base),
        );
    let (stack, browser) = tokio::join!(Stack::start(options), Browser::start(kind));
    (ls, World { stack, browser })
}

/// How many times this page (the widget's frame) fetched Stripe.js, and whether it has it.
async fn stripe_js_in_page(b: &Browser) -> (u64, bool) {
    let v = b
        .eval(
            "return [performance.getEntriesByType('resource')
                        .filter(e => e.name.includes('/js.stripe.com/')).length,
                     typeof window.Stripe === 'function'];",
            vec![],
        )
        .await;
    (v[0].as_u64().unwrap(), v[1].as_bool().unwrap())
}

/// Times localstripe served its Stripe.js (its own readiness check is one).
async fn stripe_js_served(ls: &LocalStripe) -> usize {
    ls.requests_until(|_| true)
        .await
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/js.stripe.com/v3/")
        .count()
}

/// Waits for localstripe's bank window in the frame, then answers it.
async fn answer_the_bank(b: &Browser, complete: bool) {
    let label = if complete {
        "Complete authentication"
    } else {
        "Fail authentication"
    };
    b.wait_js(
        "the bank's 3-D Secure window (localstripe's Stripe.js)",
        UI,
        &format!(
            "return [...document.querySelectorAll('body > div > button')]
                 .some(x => x.innerText.trim() === '{label}');"
        ),
    )
    .await;
    b.client
        .find(Locator::XPath(&format!(
            "//body/div/button[normalize-space()='{label}']"
        )))
        .await
        .expect("the bank's button")
        .click()
        .await
        .expect("click the bank's button");
}

/// While the bank's step runs: its explanation in place of the card fields, and the frame
/// grown (by the portal, from the widget's size messages) to hold the bank's window.
async fn shows_the_bank_step(b: &Browser, before: f64) {
    let text = b
        .wait_js(
            "the bank step in the form",
            UI,
            "const f = document.querySelector('form.b24-bank-step');
             return f && !document.getElementById('b24-number') ? f.innerText : null;",
        )
        .await;
    assert!(
        text.as_str().unwrap().contains("bank"),
        "the bank step explains itself: {text}"
    );
    let grown = b
        .wait_js(
            "the frame grown for the bank's window",
            UI,
            &format!("return innerHeight > {before} + 100 ? innerHeight : null;"),
        )
        .await;
    assert!(grown.as_f64().unwrap() >= 600.0, "{grown}");
}

pub async fn three_d_secure_completes_in_the_frame(kind: BrowserKind) {
    let (ls, w) = stripe_world(kind).await;
    let served = stripe_js_served(&ls).await;
    // The test acquirer's customers download no Stripe.js, Stripe configured or not.
    let test = w.stack.order("12.00", "EUR");
    w.open_form(test, "light").await;
    fill_card(&w.browser, cards::APPROVED, "123").await;
    click_pay(&w.browser).await;
    wait_outcome(&w.browser, true).await;
    assert_eq!(stripe_js_in_page(&w.browser).await, (0, false));
    w.browser.leave_widget().await;

    let id = w.stack.live_order("49.99", "EUR");
    w.open_form(id, "light").await;
    let before = wait_sized(&w.browser).await;
    fill_card(&w.browser, THREE_DS, "123").await;
    assert_eq!(
        stripe_js_in_page(&w.browser).await,
        (0, false),
        "not before"
    );
    click_pay(&w.browser).await;
    shows_the_bank_step(&w.browser, before).await;
    answer_the_bank(&w.browser, true).await;
    let text = wait_outcome(&w.browser, true).await;
    assert!(text.contains("3184"), "the card used is named: {text}");
    assert_eq!(stripe_js_in_page(&w.browser).await, (1, true));
    assert_eq!(stripe_js_served(&ls).await, served + 1);

    let paid = w.stack.wait_paid(id, UI).await;
    let pi = paid.ps.invoice_id.clone().unwrap_or_default();
    assert!(
        pi.starts_with("pi_"),
        "PS_INVOICE_ID is the PaymentIntent: {paid:?}"
    );
    let intent = stripe_get(&ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "succeeded", "{intent}");
    // Told once; nothing more arrives (the resume and any event settle the same attempt).
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(w.stack.payment(id).pay_calls, 1);
    w.quit().await;
}

pub async fn failed_authentication_leaves_it_payable(kind: BrowserKind) {
    let (ls, w) = stripe_world(kind).await;
    let id = w.stack.live_order("15.00", "EUR");
    w.open_form(id, "light").await;
    let before = wait_sized(&w.browser).await;
    fill_card(&w.browser, THREE_DS, "123").await;
    click_pay(&w.browser).await;
    shows_the_bank_step(&w.browser, before).await;
    answer_the_bank(&w.browser, false).await;
    let notice = w
        .browser
        .wait_js(
            "the decline notice",
            UI,
            "const n = document.querySelector('.b24-notice');
             return n && n.innerText.trim() && document.getElementById('b24-number')
                 ? n.innerText : null;",
        )
        .await;
    assert!(
        notice.as_str().unwrap().contains("not confirmed"),
        "the localized decline: {notice}"
    );
    let p = w.stack.payment(id);
    assert!(!p.paid && p.pay_calls == 0, "{p:?}");
    // The frame gave the bank's room back.
    w.browser
        .wait_js(
            "the frame shrunk after the bank's step",
            UI,
            &format!("return innerHeight < {before} + 100;"),
        )
        .await;

    // Payable again: another card pays it, once.
    let number = w
        .browser
        .client
        .find(Locator::Id("b24-number"))
        .await
        .expect("the number field");
    number.clear().await.expect("clear the number");
    number
        .send_keys(cards::APPROVED)
        .await
        .expect("type the number");
    click_pay(&w.browser).await;
    wait_outcome(&w.browser, true).await;
    let paid = w.stack.wait_paid(id, UI).await;
    assert_eq!(paid.pay_calls, 1, "{paid:?}");
    let pi = paid.ps.invoice_id.clone().unwrap_or_default();
    let intent = stripe_get(&ls, &format!("payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "succeeded", "{intent}");
    w.quit().await;
}

async fn stripe_get(ls: &LocalStripe, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/v1/{path}", ls.base))
        .bearer_auth(SECRET_KEY)
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("a JSON object")
}
