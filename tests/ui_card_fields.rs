#![cfg(target_arch = "wasm32")]
//! The card form's fields in a browser: brands, grouping, caret, paste, expiry and CVC rules,
//! when errors show, and the attributes assistive technology and autofill rely on.

mod ui_common;

use b24pay_widget::form::{edit, expiry};
use b24pay_widget::i18n::{Key, Locale, Text};
use ui_common::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn brand_is_detected_and_number_grouped_while_typing() {
    let ui = mount(checkout(), Locale::En);
    let number = ui.input("b24-number");
    let cases = [
        ("4242424242424242", "visa", "4242 4242 4242 4242", "Visa"),
        (
            "5555555555554444",
            "mastercard",
            "5555 5555 5555 4444",
            "Mastercard",
        ),
        ("2200000000000004", "mir", "2200 0000 0000 0004", "Mir"),
        (
            "378282246310005",
            "amex",
            "3782 822463 10005",
            "American Express",
        ),
        (
            "6200000000000005",
            "unionpay",
            "6200 0000 0000 0005",
            "UnionPay",
        ),
        ("3530111333300000", "jcb", "3530 1113 3330 0000", "JCB"),
        (
            "6759649826438453",
            "maestro",
            "6759 6498 2643 8453",
            "Maestro",
        ),
        (
            "6011111111111117",
            "discover",
            "6011 1111 1111 1117",
            "Discover",
        ),
        (
            "36227206271667",
            "diners",
            "3622 720627 1667",
            "Diners Club",
        ),
        (
            "4242424242424242424",
            "visa",
            "4242 4242 4242 4242 424",
            "Visa",
        ),
    ];
    for (digits, brand, shown, name) in cases {
        edit(&number, "", 0, "deleteContentBackward");
        type_text(&number, digits);
        settle().await;
        assert_eq!(number.value(), shown, "{digits}");
        assert_eq!(
            ui.el(".b24-brand").get_attribute("data-brand").unwrap(),
            brand
        );
        assert_eq!(ui.text("#b24-brand-name"), name);
        assert_eq!(number.selection_start().unwrap(), Some(shown.len() as u32));
    }
    // A 20th digit is not taken; Amex stops at 15.
    type_text(&number, "4");
    assert_eq!(number.value(), "4242 4242 4242 4242 424");
    edit(&number, "", 0, "deleteContentBackward");
    type_text(&number, "3782822463100059");
    assert_eq!(number.value(), "3782 822463 10005");
    // Ambiguous prefixes show no brand until they are not.
    edit(&number, "", 0, "deleteContentBackward");
    type_text(&number, "22");
    settle().await;
    assert_eq!(
        ui.el(".b24-brand").get_attribute("data-brand").unwrap(),
        "none"
    );
    type_text(&number, "0");
    settle().await;
    assert_eq!(
        ui.el(".b24-brand").get_attribute("data-brand").unwrap(),
        "mir"
    );
    // The number field points at the brand name for screen readers.
    assert!(number
        .get_attribute("aria-describedby")
        .unwrap()
        .contains("b24-brand-name"));
}

#[wasm_bindgen_test]
async fn pasted_numbers_with_spaces_or_dashes_are_cleaned() {
    let ui = mount(checkout(), Locale::En);
    let number = ui.input("b24-number");
    paste(&number, "4242-4242 4242-4242");
    assert_eq!(number.value(), "4242 4242 4242 4242");
    assert_eq!(number.selection_start().unwrap(), Some(19));
    edit(&number, "", 0, "deleteContentBackward");
    paste(&number, " 3782 822463 10005 ");
    assert_eq!(number.value(), "3782 822463 10005");
}

#[wasm_bindgen_test]
async fn caret_stays_put_when_editing_in_the_middle() {
    let ui = mount(checkout(), Locale::En);
    let number = ui.input("b24-number");
    paste(&number, "4242424242424242");
    // A digit typed right after the first space: it becomes the fifth digit and the caret
    // stays right after it, although every later group shifts.
    place_caret(&number, 5);
    type_text(&number, "9");
    assert_eq!(number.value(), "4242 9424 2424 2424 2");
    assert_eq!(number.selection_start().unwrap(), Some(6));
    // Backspace in the middle of a group.
    place_caret(&number, 8);
    backspace(&number);
    assert_eq!(number.value(), "4242 9442 4242 4242");
    assert_eq!(number.selection_start().unwrap(), Some(7));
    // Backspace right after a space deletes the digit before the space, not just the space.
    place_caret(&number, 5);
    backspace(&number);
    assert_eq!(number.value(), "4249 4424 2424 242");
    assert_eq!(number.selection_start().unwrap(), Some(3));
}

#[wasm_bindgen_test]
fn reformat_counts_digits_before_the_caret() {
    let format = edit::Format {
        normalize: edit::keep,
        max: &|_| 19,
        show: |d, _| b24pay_protocol::card::format_number(d),
    };
    // A paste in the middle: caret after "4242 42" + "1111".
    let e = edit::reformat("4242 4211114242", 11, false, false, "42424242", &format);
    assert_eq!(e.text, "4242 4211 1142 42");
    assert_eq!(e.caret, 12);
    // Non-ASCII before the caret counts in UTF-16 units, as the DOM does.
    let e = edit::reformat("№4242", 3, false, false, "", &format);
    assert_eq!((e.text.as_str(), e.caret), ("4242", 2));
}

#[wasm_bindgen_test]
async fn expiry_separator_comes_and_goes() {
    let ui = mount(checkout(), Locale::En);
    let expiry = ui.input("b24-expiry");
    type_text(&expiry, "12");
    assert_eq!(expiry.value(), "12 / ");
    assert_eq!(expiry.selection_start().unwrap(), Some(5));
    type_text(&expiry, "30");
    assert_eq!(expiry.value(), "12 / 30");
    backspace(&expiry);
    assert_eq!(expiry.value(), "12 / 3");
    backspace(&expiry);
    assert_eq!(expiry.value(), "12", "no separator put back while deleting");
    backspace(&expiry);
    assert_eq!(expiry.value(), "1");
    // Backspace on the separator itself removes the separator.
    backspace(&expiry);
    type_text(&expiry, "11");
    assert_eq!(expiry.value(), "11 / ");
    backspace(&expiry);
    assert_eq!(expiry.value(), "11");
    // "4" is April; "13" is January and a 3; a pasted full year loses its century.
    edit(&expiry, "", 0, "deleteContentBackward");
    type_text(&expiry, "4");
    assert_eq!(expiry.value(), "04 / ");
    edit(&expiry, "", 0, "deleteContentBackward");
    type_text(&expiry, "13");
    assert_eq!(expiry.value(), "01 / 3");
    edit(&expiry, "", 0, "deleteContentBackward");
    paste(&expiry, "12/2030");
    assert_eq!(expiry.value(), "12 / 30");
    assert_eq!(expiry.get_attribute("placeholder").unwrap(), "MM / YY");
}

#[wasm_bindgen_test]
fn expiry_rules() {
    let today = (2026, 11);
    let key = |digits: &str| expiry::problem(digits, today);
    assert_eq!(key("1126"), None, "valid through its month");
    assert_eq!(key("1026"), Some(Text::Plain(Key::ExpiryPast)));
    assert_eq!(key("1346"), Some(Text::Plain(Key::ExpiryMonth)));
    assert_eq!(key("0046"), Some(Text::Plain(Key::ExpiryMonth)));
    assert_eq!(key("1246"), None, "twenty years ahead");
    assert_eq!(key("0147"), Some(Text::Plain(Key::ExpiryFar)));
    assert_eq!(key("12"), Some(Text::Plain(Key::ExpiryIncomplete)));
    assert_eq!(key(""), Some(Text::Plain(Key::ExpiryEmpty)));
    assert_eq!(expiry::parts("0130"), Some((1, 2030)));
}

#[wasm_bindgen_test]
async fn expired_date_is_flagged_once_complete() {
    let ui = mount(checkout(), Locale::En);
    let expiry = ui.input("b24-expiry");
    type_text(&expiry, "012");
    settle().await;
    assert!(ui.find("#b24-expiry-error").is_none(), "still typing");
    type_text(&expiry, "0");
    settle().await;
    assert_eq!(ui.text("#b24-expiry-error"), "Your card has expired.");
}

#[wasm_bindgen_test]
async fn cvc_takes_three_digits_or_four_for_amex() {
    let ui = mount(checkout(), Locale::En);
    let (number, cvc) = (ui.input("b24-number"), ui.input("b24-cvc"));
    paste(&number, "4242424242424242");
    settle().await;
    type_text(&cvc, "1234");
    assert_eq!(cvc.value(), "123");
    assert_eq!(cvc.get_attribute("placeholder").unwrap(), "CVC");
    edit(&cvc, "", 0, "deleteContentBackward");
    type_text(&cvc, "12");
    leave(&cvc);
    settle().await;
    assert_eq!(ui.text("#b24-cvc-error"), "The security code has 3 digits.");
    edit(&number, "", 0, "deleteContentBackward");
    paste(&number, "378282246310005");
    settle().await;
    assert_eq!(ui.text("#b24-cvc-error"), "The security code has 4 digits.");
    type_text(&cvc, "34");
    settle().await;
    assert_eq!(cvc.value(), "1234");
    assert!(
        ui.find("#b24-cvc-error").is_none(),
        "valid: the error goes at once"
    );
}

#[wasm_bindgen_test]
async fn errors_wait_until_the_field_is_left() {
    let ui = mount(checkout(), Locale::En);
    let number = ui.input("b24-number");
    type_text(&number, "4242");
    settle().await;
    assert!(
        ui.find(".b24-field-error").is_none(),
        "no error while typing"
    );
    assert_eq!(number.get_attribute("aria-invalid"), None);
    leave(&number);
    settle().await;
    assert_eq!(
        ui.text("#b24-number-error"),
        "Your card number is incomplete."
    );
    assert_eq!(
        number.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    let described = number.get_attribute("aria-describedby").unwrap();
    assert!(
        described.split(' ').any(|id| id == "b24-number-error"),
        "{described}"
    );
    // Still invalid while typing on: the shown error stays…
    type_text(&number, "4242");
    settle().await;
    assert!(ui.find("#b24-number-error").is_some());
    // …and goes the moment the number is valid.
    type_text(&number, "42424242");
    settle().await;
    assert!(ui.find("#b24-number-error").is_none());
    assert_eq!(number.get_attribute("aria-invalid"), None);
    assert_eq!(
        number.get_attribute("aria-describedby").unwrap(),
        "b24-brand-name"
    );
    // Made invalid again while typing: no error until the field is left again.
    backspace(&number);
    settle().await;
    assert!(ui.find("#b24-number-error").is_none());
}

#[wasm_bindgen_test]
async fn luhn_failures_are_caught() {
    let ui = mount(checkout(), Locale::En);
    let number = ui.input("b24-number");
    // 16 digits: a Visa may have 19, so the customer may still be typing.
    type_text(&number, "4242424242424241");
    settle().await;
    assert!(ui.find("#b24-number-error").is_none());
    leave(&number);
    settle().await;
    assert_eq!(ui.text("#b24-number-error"), "Your card number is invalid.");
    // 15 digits is all an Amex has: a wrong one is flagged without leaving the field.
    edit(&number, "", 0, "deleteContentBackward");
    leave(&number);
    edit(&number, "", 0, "deleteContentBackward");
    settle().await;
    type_text(&number, "378282246310001");
    settle().await;
    assert_eq!(ui.text("#b24-number-error"), "Your card number is invalid.");
}

#[wasm_bindgen_test]
async fn submit_shows_every_error_and_focuses_the_first() {
    let stub = stub_fetch(&view("succeeded", ""));
    let ui = mount(checkout(), Locale::En);
    paste(&ui.input("b24-number"), "4242424242424242");
    settle().await;
    ui.submit().await;
    assert_eq!(stub.count(), 0, "nothing is sent while a field is wrong");
    assert_eq!(ui.text("#b24-expiry-error"), "Enter the expiry date.");
    assert_eq!(ui.text("#b24-cvc-error"), "Enter the security code.");
    assert!(ui.find("#b24-number-error").is_none());
    assert_eq!(focused().unwrap().id(), "b24-expiry");
    assert_eq!(ui.live(), "Enter the expiry date. Enter the security code.");
}

#[wasm_bindgen_test]
async fn fields_are_labelled_and_autofillable() {
    let mut with_holder = checkout();
    with_holder.holder = true;
    let ui = mount(with_holder, Locale::En);
    let fields = [
        ("b24-number", "cc-number", "Card number", Some("numeric")),
        ("b24-expiry", "cc-exp", "Expiry date", Some("numeric")),
        ("b24-cvc", "cc-csc", "Security code", Some("numeric")),
        ("b24-holder", "cc-name", "Name on card", None),
    ];
    for (id, autocomplete, label, inputmode) in fields {
        let input = ui.input(id);
        assert_eq!(
            input.get_attribute("autocomplete").as_deref(),
            Some(autocomplete)
        );
        assert_eq!(input.get_attribute("inputmode").as_deref(), inputmode);
        assert_eq!(ui.text(&format!("label[for={id}]")), label);
        // The label really names the input (what assistive technology reads).
        assert_eq!(input.labels().unwrap().length(), 1);
    }
    // The tab order is the reading order.
    let order: Vec<String> = (0..ui.host.query_selector_all("input").unwrap().length())
        .map(|i| {
            let node = ui.host.query_selector_all("input").unwrap().get(i).unwrap();
            wasm_bindgen::JsCast::unchecked_into::<web_sys::Element>(node).id()
        })
        .collect();
    assert_eq!(order, ["b24-number", "b24-expiry", "b24-cvc", "b24-holder"]);
    // Without the holder setting there is no name field.
    drop(ui);
    let ui = mount(checkout(), Locale::En);
    assert!(ui.find("#b24-holder").is_none());
}

#[wasm_bindgen_test]
async fn holder_is_required_when_asked_for() {
    let stub = stub_fetch(&view("succeeded", ""));
    let mut with_holder = checkout();
    with_holder.holder = true;
    let ui = mount(with_holder, Locale::En);
    ui.pay_with("4242424242424242").await;
    assert_eq!(stub.count(), 0);
    assert_eq!(ui.text("#b24-holder-error"), "Enter the name on the card.");
    assert_eq!(focused().unwrap().id(), "b24-holder");
    type_text(&ui.input("b24-holder"), "  Ivan Petrov ");
    ui.submit().await;
    assert_eq!(stub.count(), 1);
    assert_eq!(
        stub.call(0).body("card.holder").as_string().unwrap(),
        "Ivan Petrov"
    );
}

#[wasm_bindgen_test]
async fn one_live_region_from_the_start() {
    let ui = mount(checkout(), Locale::En);
    let regions = ui.host.query_selector_all("[aria-live]").unwrap();
    assert_eq!(regions.length(), 1);
    let region = ui.el("[aria-live]");
    assert_eq!(region.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(region.get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(ui.live(), "");
}
