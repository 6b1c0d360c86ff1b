#![cfg(target_arch = "wasm32")]
//! Every state of a payment against a stubbed payment API (`window.fetch` replaced):
//! success, decline, challenge, network failure and retry, API errors — with the requests the
//! widget sends, the idempotency keys they carry, what the customer reads and hears, and
//! where keyboard focus goes. What follows a success is in `ui_after_paying.rs`.

mod ui_common;

use b24pay_protocol::api::valid_idempotency_key;
use b24pay_widget::i18n::Locale;
use ui_common::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn is_hex_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()) && valid_idempotency_key(key)
}

#[wasm_bindgen_test]
async fn success_shows_a_confirmation_with_the_way_back() {
    let stub = stub_fetch(&view("succeeded", ""));
    let ui = mount(checkout(), Locale::En);
    assert_eq!(ui.button().text_content().unwrap(), "Pay RUB\u{a0}1,250.50");
    ui.pay_with("4242424242424242").await;
    assert_eq!(stub.count(), 1);
    let call = stub.call(0);
    assert_eq!(call.method(), "POST");
    assert_eq!(call.url(), "/stub-api/v1/payments");
    assert_eq!(call.content_type(), "application/json");
    assert!(is_hex_key(&call.key()), "{}", call.key());
    let yy = (js_sys::Date::new_0().get_full_year() + 3) % 100;
    // The page load's session: 128 random bits, the same for every request of this page.
    let session = call.body("session").as_string().unwrap();
    assert!(is_hex_key(&session), "{session}");
    assert_eq!(session, b24pay_widget::api::page_session());
    assert_eq!(
        call.body_json(),
        format!(
            r#"{{"payment_id":"247","paysystem_id":"11","amount":"1250.50","currency":"RUB","card":{{"number":"4242424242424242","exp_month":12,"exp_year":{},"cvc":"123"}},"session":"{session}"}}"#,
            2000 + yy
        )
    );
    assert_eq!(ui.text("h2"), "Payment successful");
    assert_eq!(
        ui.text(".b24-outcome p"),
        "RUB\u{a0}1,250.50 paid with Visa •••• 4242."
    );
    let back = ui.el("a.b24-button");
    assert_eq!(back.get_attribute("href").as_deref(), Some(RETURN_URL));
    assert_eq!(back.get_attribute("target").as_deref(), Some("_top"));
    assert_eq!(back.text_content().unwrap(), "Return to the store");
    assert_eq!(
        focused().unwrap().tag_name(),
        "H2",
        "focus moves to the outcome"
    );
    assert!(
        ui.live().starts_with("Payment successful."),
        "{}",
        ui.live()
    );
    let form = ui.el("form").parent_element().unwrap();
    assert!(form.has_attribute("hidden"), "the form is gone");
}

#[wasm_bindgen_test]
async fn double_clicks_and_enter_send_one_request() {
    let stub = stub_fetch(&format!(
        r#"[{{"hold":true,{}]"#,
        &view("succeeded", "")[1..]
    ));
    let ui = mount(checkout(), Locale::En);
    ui.fill("4242424242424242").await;
    let button = ui.button();
    button.click();
    button.click();
    let form: web_sys::HtmlFormElement = wasm_bindgen::JsCast::unchecked_into(ui.el("form"));
    form.request_submit().unwrap();
    settle().await;
    button.click();
    assert_eq!(stub.count(), 1);
    // Submitting: the button says so and is disabled for assistive technology (the
    // stylesheet shows its spinner then).
    assert_eq!(button.text_content().unwrap(), "Processing…");
    assert_eq!(
        button.get_attribute("aria-disabled").as_deref(),
        Some("true")
    );
    assert_eq!(ui.live(), "Processing…");
    stub.release();
    settle().await;
    assert_eq!(stub.count(), 1);
    assert_eq!(ui.text("h2"), "Payment successful");
}

/// Pays with a card the stubbed API declines for insufficient funds (its next answer is a
/// success).
async fn paid_into_insufficient_funds() -> (Stub, Mounted) {
    let declined = view("declined", r#","decline_code":"insufficient_funds""#);
    let stub = stub_fetch(&then_succeeded(&declined));
    (stub, mount_and_pay("4242424242424242").await)
}

#[wasm_bindgen_test]
async fn a_decline_keeps_the_form_and_a_new_card_gets_a_new_key() {
    let (stub, ui) = paid_into_insufficient_funds().await;
    let notice = ui.el(".b24-notice");
    assert_eq!(
        notice.text_content().unwrap(),
        "Your card has insufficient funds. Try another card."
    );
    assert_eq!(focused().unwrap(), notice, "focus moves to the reason");
    assert_eq!(
        ui.live(),
        "Your card has insufficient funds. Try another card."
    );
    // The form is kept as typed.
    assert_eq!(ui.input("b24-number").value(), "4242 4242 4242 4242");
    assert_eq!(ui.button().text_content().unwrap(), "Pay RUB\u{a0}1,250.50");
    let number = ui.input("b24-number");
    edit(&number, "", 0, "deleteContentBackward");
    paste(&number, "5555555555554444");
    settle().await;
    ui.submit().await;
    assert_eq!(stub.count(), 2);
    assert_ne!(stub.call(0).key(), stub.call(1).key());
    assert_eq!(
        stub.call(1).body("card.number").as_string().unwrap(),
        "5555555555554444"
    );
    assert_eq!(ui.text("h2"), "Payment successful");
}

#[wasm_bindgen_test]
async fn after_a_decline_even_the_same_card_is_a_new_attempt() {
    // The customer may have topped the card up: the server must not replay the decline.
    let (stub, ui) = paid_into_insufficient_funds().await;
    ui.submit().await;
    assert_eq!(stub.count(), 2);
    assert_ne!(stub.call(0).key(), stub.call(1).key());
    assert_eq!(stub.call(0).body_json(), stub.call(1).body_json());
}

#[wasm_bindgen_test]
async fn a_network_failure_is_retried_with_the_same_key() {
    let stub = stub_fetch(&format!(r#"["network",{}]"#, view("succeeded", "")));
    let ui = mount_and_pay("4242424242424242").await;
    assert_eq!(ui.text(".b24-notice"), CONNECTION_PROBLEM);
    assert_eq!(focused().unwrap(), ui.el(".b24-notice"));
    ui.submit().await;
    assert_eq!(stub.count(), 2);
    assert_eq!(
        stub.call(0).key(),
        stub.call(1).key(),
        "a retry can never charge twice"
    );
    assert_eq!(stub.call(0).body_json(), stub.call(1).body_json());
    assert_eq!(ui.text("h2"), "Payment successful");
}

#[wasm_bindgen_test]
async fn transient_failures_keep_the_key_too() {
    let failed = view("failed", r#","decline_code":"processing_error""#);
    let busy = error(503, "portal_unavailable");
    let garbage = r#"{"status":502,"body":"<html>Bad gateway</html>"}"#;
    let stub = stub_fetch(&format!(
        "[{failed},{busy},{garbage},{}]",
        view("succeeded", "")
    ));
    let ui = mount_and_pay("4242424242424242").await;
    assert_eq!(
        ui.text(".b24-notice"),
        "Your card could not be processed. Nothing was charged — please try again."
    );
    ui.submit().await;
    assert_eq!(
        ui.text(".b24-notice"),
        "The payment service is busy. Try again in a moment — you will not be charged twice."
    );
    ui.submit().await;
    assert_eq!(ui.text(".b24-notice"), CONNECTION_PROBLEM);
    ui.submit().await;
    assert_eq!(stub.count(), 4);
    let first = stub.call(0).key();
    assert!((1..4).all(|i| stub.call(i).key() == first));
    assert_eq!(ui.text("h2"), "Payment successful");
}

#[wasm_bindgen_test]
async fn a_challenge_is_answered_inline() {
    let challenge = view(
        "requires_action",
        r#","action":{"type":"challenge","code_length":3}"#,
    );
    let stub = stub_fetch(&then_succeeded(&challenge));
    let ui = mount_and_pay("4000002760003184").await;
    assert_eq!(ui.text("h2"), "Confirm the payment");
    assert_eq!(
        ui.text(".b24-lead"),
        "Enter the 3-digit code sent by your bank."
    );
    assert_eq!(
        ui.live(),
        "Confirm the payment. Enter the 3-digit code sent by your bank."
    );
    let code = ui.input("b24-code");
    assert_eq!(focused().unwrap().id(), "b24-code");
    assert_eq!(
        code.get_attribute("autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(ui.text("label[for=b24-code]"), "Confirmation code");
    // An empty code is not sent.
    ui.submit().await;
    assert_eq!(stub.count(), 1);
    assert_eq!(ui.text("#b24-code-error"), "Enter the code from your bank.");
    assert_eq!(code.get_attribute("aria-invalid").as_deref(), Some("true"));
    type_text(&code, "123");
    ui.button().click();
    ui.submit().await;
    assert_eq!(stub.count(), 2);
    let call = stub.call(1);
    assert_eq!(call.url(), "/stub-api/v1/payments/pa_1/challenge");
    assert_eq!(call.body_json(), r#"{"code":"123"}"#);
    assert!(is_hex_key(&call.key()));
    assert_ne!(call.key(), stub.call(0).key());
    assert_eq!(ui.text("h2"), "Payment successful");
}

#[wasm_bindgen_test]
async fn a_failed_challenge_returns_to_the_filled_form() {
    let challenge = view(
        "requires_action",
        r#","action":{"type":"challenge","code_length":3}"#,
    );
    let declined = view("declined", r#","decline_code":"challenge_failed""#);
    let stub = stub_fetch(&format!(r#"[{challenge},"network",{declined}]"#));
    let ui = mount_and_pay("4000002760003184").await;
    type_text(&ui.input("b24-code"), "999");
    ui.submit().await;
    // Lost connection while checking the code: stay, retry with the same key.
    assert_eq!(ui.text(".b24-notice"), CONNECTION_PROBLEM);
    ui.submit().await;
    assert_eq!(stub.count(), 3);
    assert_eq!(stub.call(1).key(), stub.call(2).key());
    // Declined: back to the form as it was typed, with the reason.
    assert_eq!(
        ui.text(".b24-notice"),
        "The payment was not confirmed. Try again or use another card."
    );
    assert_eq!(ui.input("b24-number").value(), "4000 0027 6000 3184");
    assert_eq!(ui.input("b24-cvc").value(), "123");
}

#[wasm_bindgen_test]
async fn api_errors_in_plain_words() {
    let closing = [
        ("payment_unavailable", "This payment can’t be made here"),
        ("already_paid", "This payment has already been made"),
        ("live_mode_unavailable", "Card payments are unavailable"),
        ("test_mode_not_allowed", "Card payments are unavailable"),
        ("not_found", "Payment not found"),
    ];
    for (code, title) in closing {
        let _stub = stub_fetch(&error(409, code));
        let ui = mount_and_pay("4242424242424242").await;
        assert_eq!(ui.text("h2"), title);
        assert_eq!(ui.text(".b24-code"), format!("Error code: {code}"));
        assert_eq!(focused().unwrap().tag_name(), "H2");
        assert!(ui.live().starts_with(title));
        assert!(ui.find("a[target=_top]").is_some());
    }
    let notices = [
        (
            "payment_in_progress",
            "This payment is already being processed. Wait a moment, then try again.",
        ),
        ("invalid_card_number", "Your card number is invalid."),
        (
            "too_many_attempts",
            "Too many attempts. Wait a few minutes, then try again.",
        ),
        (
            "idempotency_key_reused",
            "Something went wrong. Please try again.",
        ),
    ];
    for (code, text) in notices {
        let _stub = stub_fetch(&error(409, code));
        let ui = mount_and_pay("4242424242424242").await;
        assert_eq!(ui.text(".b24-notice"), text);
        assert!(ui.find("form").is_some());
    }
}

#[wasm_bindgen_test]
async fn pay_button_amount_follows_the_language() {
    let _stub = stub_fetch(&view("succeeded", ""));
    let ui = mount(checkout(), Locale::Ru);
    assert_eq!(
        ui.button().text_content().unwrap(),
        "Оплатить 1\u{a0}250,50\u{a0}₽"
    );
    assert_eq!(ui.text("label[for=b24-number]"), "Номер карты");
    drop(ui);
    let mut eur = checkout();
    eur.amount =
        b24pay_protocol::Money::parse("1250.5", b24pay_protocol::Currency::parse("EUR").unwrap())
            .unwrap();
    let ui = mount(eur, Locale::De);
    assert_eq!(
        ui.button().text_content().unwrap(),
        "1.250,50\u{a0}€ bezahlen"
    );
    assert_eq!(
        ui.input("b24-expiry")
            .get_attribute("placeholder")
            .as_deref(),
        Some("MM / JJ")
    );
}

#[wasm_bindgen_test]
async fn errors_and_outcomes_are_spoken_in_the_language() {
    let declined = view("declined", r#","decline_code":"generic_decline""#);
    let _stub = stub_fetch(&declined);
    let ui = mount(checkout(), Locale::Ru);
    paste(&ui.input("b24-number"), "4242424242424242");
    paste(&ui.input("b24-expiry"), &future_expiry());
    paste(&ui.input("b24-cvc"), "12");
    settle().await;
    ui.submit().await;
    assert_eq!(ui.live(), "Код безопасности должен содержать 3 цифры.");
    type_text(&ui.input("b24-cvc"), "3");
    ui.submit().await;
    assert_eq!(
        ui.live(),
        "Карта отклонена. Попробуйте другую карту или обратитесь в свой банк."
    );
}
