#![cfg(target_arch = "wasm32")]
//! After a payment succeeded, against a stubbed payment API (`window.fetch` replaced): the
//! widget asks (a bounded number of times) until the store has been told, then counts down back
//! to it unless the customer stays; and test mode says no money is taken.

mod ui_common;

use b24pay_widget::i18n::Locale;
use ui_common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn after_paying_the_store_is_told_then_the_page_counts_down_back_to_it() {
    // Not notified at first; the widget asks again and learns that the store knows.
    let notified =
        view("succeeded", "").replace(r#""portal_notified":false"#, r#""portal_notified":true"#);
    let stub = stub_fetch(&format!("[{},{notified}]", view("succeeded", "")));
    let ui = mount_and_pay("4242424242424242").await;
    assert_eq!(ui.text("h2"), "Payment successful");
    assert!(ui.text(".b24-outcome").contains("Letting the store know…"));
    assert!(
        ui.find(".b24-link").is_none(),
        "no countdown before the store knows"
    );
    sleep(1300).await;
    settle().await;
    assert_eq!(stub.count(), 2, "asked once more");
    let status = stub.call(1);
    assert_eq!(status.method(), "");
    assert_eq!(status.url(), "/stub-api/v1/payments/pa_1");
    assert_eq!(status.key(), "", "a GET carries no idempotency key");
    let outcome = ui.text(".b24-outcome");
    assert!(
        outcome.contains("The store has been notified."),
        "{outcome}"
    );
    assert!(
        outcome.contains("Returning to the store in 5 seconds."),
        "{outcome}"
    );
    assert!(
        ui.live().contains("Returning to the store in 5 seconds."),
        "{}",
        ui.live()
    );
    sleep(1100).await;
    settle().await;
    assert!(ui.text(".b24-outcome").contains("in 4 seconds."));
    // Cancelled: no countdown, focus on the way back, which stays.
    let stay: web_sys::HtmlElement = ui.el(".b24-link").unchecked_into();
    assert_eq!(stay.text_content().unwrap(), "Stay on this page");
    stay.click();
    settle().await;
    assert!(ui.find(".b24-link").is_none());
    assert!(!ui.text(".b24-outcome").contains("Returning"));
    assert_eq!(focused().unwrap().id(), "b24-return");
    sleep(1100).await;
    assert_eq!(stub.count(), 2, "no more questions once the store knows");
}

#[wasm_bindgen_test]
async fn the_store_is_asked_a_bounded_number_of_times() {
    let stub = stub_fetch(&view("succeeded", ""));
    let ui = mount(checkout(), Locale::En);
    ui.fill("4242424242424242").await;
    ui.button().click();
    sleep(2500).await;
    settle().await;
    // 1 s, then 1 s more: two questions in 2.5 s, never a tight loop.
    assert_eq!(stub.count(), 3);
    assert!(ui.text(".b24-outcome").contains("Letting the store know…"));
    assert!(ui.find(".b24-link").is_none());
}

#[wasm_bindgen_test]
async fn test_mode_says_no_money_is_taken() {
    // The portal's FIELD `mode` says TEST: the note is there before paying.
    let _stub = stub_fetch(&view("succeeded", ""));
    let mut test = checkout();
    test.test_mode = true;
    let ui = mount(test, Locale::Ru);
    assert_eq!(
        ui.text(".b24-test"),
        "Тестовый режим: деньги не списываются"
    );
    drop(ui);
    // An answer with `test_mode` shows it too, after paying.
    let _stub = stub_fetch(&view("succeeded", r#","test_mode":true"#));
    let ui = mount(checkout(), Locale::En);
    assert!(ui.find(".b24-test").is_none());
    ui.pay_with("4242424242424242").await;
    assert_eq!(ui.text("h2"), "Payment successful");
    assert_eq!(ui.text(".b24-test"), "Test mode: no money is taken");
}
