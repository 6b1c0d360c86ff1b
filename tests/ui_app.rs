#![cfg(target_arch = "wasm32")]
//! The payment UI inside the whole widget: the portal's message opens the card form in the
//! language and with the options its FIELDS ask for, the payment goes to the configured API
//! with the portal's ids, the page's static skeleton has the form's size, and one live region
//! is in the page from the start.

mod portal_support;
mod ui_common;

use b24pay_widget::i18n::{Key, Locale};
use portal_support::{config, dispatch, mount, portal_message, Mounted, FIREFOX_STYLE, PORTAL};
use ui_common::{future_expiry, paste, settle, stub_fetch, view};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn message(fields: &str) -> wasm_bindgen::JsValue {
    portal_message(r#""1250.50""#, "RUB", fields, FIREFOX_STYLE)
}

fn find(widget: &Mounted, selector: &str) -> Option<web_sys::Element> {
    widget.root().query_selector(selector).unwrap()
}

fn input(widget: &Mounted, id: &str) -> web_sys::HtmlInputElement {
    find(widget, &format!("#{id}"))
        .unwrap_or_else(|| panic!("no #{id}"))
        .unchecked_into()
}

fn count(widget: &Mounted, selector: &str) -> u32 {
    widget.root().query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn one_live_region_from_the_start() {
    let widget = mount(config(&[PORTAL]));
    leptos::task::tick().await;
    assert_eq!(widget.state(), "waiting");
    assert_eq!(
        count(&widget, "[aria-live]"),
        1,
        "present before any message"
    );
    let region = find(&widget, "[aria-live]").unwrap();
    assert_eq!(region.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(region.get_attribute("aria-live").as_deref(), Some("polite"));
    dispatch(PORTAL, &message(r#""lang":"en","#));
    settle().await;
    assert_eq!(count(&widget, "[aria-live]"), 1);
    assert_eq!(count(&widget, "[role=alert]"), 0);
    // The same element, not a new one: screen readers only watch regions they already know.
    assert!(find(&widget, "[aria-live]")
        .unwrap()
        .is_same_node(Some(&region)));
}

#[wasm_bindgen_test]
async fn the_form_speaks_the_language_the_portal_forces() {
    let widget = mount(config(&[PORTAL]));
    dispatch(
        PORTAL,
        &message(r#""lang":"ru","paymentNumber":"A-17","holder":"Y","#),
    );
    settle().await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(widget.attr("lang").as_deref(), Some("ru"));
    let label = find(&widget, "label[for=b24-number]").unwrap();
    assert_eq!(label.text_content().unwrap(), "Номер карты");
    let pay = find(&widget, "button[type=submit]").unwrap();
    assert_eq!(pay.text_content().unwrap(), "Оплатить 1\u{a0}250,50\u{a0}₽");
    let text = widget.text();
    assert!(text.contains(Locale::Ru.text(Key::AmountToPay)), "{text}");
    assert!(text.contains("Платёж №\u{a0}A-17"), "{text}");
    // The store asked for the cardholder's name.
    assert!(find(&widget, "#b24-holder").is_some());

    // Without the language field: the browser's languages decide.
    drop(widget);
    let widget = mount(config(&[PORTAL]));
    dispatch(PORTAL, &message(""));
    settle().await;
    let browser = Locale::from_browser(None);
    let label = find(&widget, "label[for=b24-number]").unwrap();
    assert_eq!(label.text_content().unwrap(), browser.text(Key::CardNumber));
    assert!(find(&widget, "#b24-holder").is_none());
}

#[wasm_bindgen_test]
async fn the_payment_goes_to_the_configured_api_with_the_portal_s_ids() {
    let stub = stub_fetch(&view("succeeded", ""));
    let mut cfg = config(&[PORTAL]);
    cfg.api_base = "https://pay.example/api/v1".into();
    let widget = mount(cfg);
    dispatch(
        PORTAL,
        &message(r#""lang":"en","invoiceId":"88","holder":"y","#),
    );
    settle().await;
    paste(&input(&widget, "b24-number"), "4242424242424242");
    paste(&input(&widget, "b24-expiry"), &future_expiry());
    paste(&input(&widget, "b24-cvc"), "123");
    paste(&input(&widget, "b24-holder"), "IVAN PETROV");
    settle().await;
    find(&widget, "button[type=submit]")
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    settle().await;
    assert_eq!(stub.count(), 1);
    let call = stub.call(0);
    assert_eq!(call.url(), "https://pay.example/api/v1/payments");
    assert_eq!(call.body("payment_id").as_string().unwrap(), "247");
    assert_eq!(call.body("paysystem_id").as_string().unwrap(), "12");
    assert_eq!(call.body("amount").as_string().unwrap(), "1250.50");
    assert_eq!(call.body("invoice_id").as_string().unwrap(), "88");
    assert_eq!(call.body("card.holder").as_string().unwrap(), "IVAN PETROV");
    // The way back is the portal's RETURN_URL, for the whole window.
    let back = find(&widget, "a[target=_top]").expect("the return link");
    assert_eq!(
        back.get_attribute("href").as_deref(),
        Some("https://shop.example/order/?id=5")
    );
    // Once paid, the summary ("Amount to pay") is hidden with the form.
    let summary = find(&widget, ".b24-summary").unwrap();
    let hidden = summary.closest("[hidden]").unwrap();
    assert!(hidden.is_some(), "the summary is hidden after the payment");
}

/// index.html's static skeleton (`#b24-boot`), as the page has it.
fn boot_markup() -> &'static str {
    let page = include_str!("../index.html");
    let start = page
        .find("<div id=\"b24-boot\"")
        .expect("the skeleton in index.html");
    let end = page
        .find("<!-- After the skeleton")
        .expect("the loader after it");
    page[start..end].trim()
}

/// The page as it loads: the skeleton, then loader.js (allowed origins from the meta tag), and
/// the app mounted next to the skeleton once the wasm runs.
fn page_with_skeleton(width: &str) -> web_sys::HtmlElement {
    portal_support::install_stylesheet();
    let document = portal_support::document();
    let meta = document.create_element("meta").unwrap();
    meta.set_attribute("name", "b24pay-allowed-origins")
        .unwrap();
    meta.set_attribute("content", PORTAL).unwrap();
    document.head().unwrap().append_child(&meta).unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    host.style().set_property("width", width).unwrap();
    host.set_inner_html(boot_markup());
    document.body().unwrap().append_child(&host).unwrap();
    js_sys::Function::new_no_args(include_str!("../loader.js"))
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap();
    meta.remove();
    host
}

#[wasm_bindgen_test]
async fn the_page_s_skeleton_has_the_form_s_size_at_every_width() {
    let chromium = portal_support::chromium_style("rgb(20, 20, 20)", "rgba(0, 0, 0, 0)")
        .replace("14px", "18px");
    let cases = [
        ("the default form", message(r#""lang":"en","#)),
        (
            "the store's font size and the cardholder field",
            portal_message(
                r#""1250.50""#,
                "RUB",
                r#""lang":"en","holder":"Y","#,
                &chromium,
            ),
        ),
        (
            "the test-mode note",
            message(r#""lang":"en","mode":"TEST","#),
        ),
    ];
    for width in ["320px", "360px", "600px", "1200px"] {
        for (what, data) in &cases {
            let host = page_with_skeleton(width);
            let boot = host
                .query_selector("#b24-boot")
                .unwrap()
                .expect("the skeleton");
            let handle = leptos::mount::mount_to(host.clone(), move || {
                let config = config(&[PORTAL]);
                leptos::view! { <b24pay_widget::Widget config/> }
            });
            settle().await;
            // The portal's message: loader.js fits the skeleton to it at once...
            dispatch(PORTAL, data);
            let waiting = boot.get_bounding_client_rect().height();
            settle().await;
            // ...and the app's form replaces it at the same height.
            let root = host.query_selector("main.b24-app").unwrap().unwrap();
            assert_eq!(root.get_attribute("data-state").as_deref(), Some("ready"));
            assert!(!boot.is_connected(), "the skeleton is gone");
            assert!(root.query_selector("#b24-number").unwrap().is_some());
            let ready = root.get_bounding_client_rect().height();
            assert_eq!(
                waiting, ready,
                "the iframe would jump at {width} with {what}"
            );
            drop(handle);
            host.remove();
        }
    }
}

#[wasm_bindgen_test]
fn reduced_motion_stops_every_animation_and_transition() {
    // Headless Chromium cannot switch the media feature from inside a test, so check the rule:
    // everything under the widget's root, stops moving.
    let css = include_str!("../style/widget.css");
    let at = css
        .find("@media (prefers-reduced-motion: reduce)")
        .expect("a reduced-motion rule");
    let rule = &css[at..];
    let rule = &rule[..rule.find("\n}").expect("the rule's end")];
    assert!(
        rule.contains(".b24-app *") && rule.contains("animation: none !important"),
        "{rule}"
    );
    assert!(rule.contains("transition: none !important"), "{rule}");
}

#[wasm_bindgen_test]
fn errors_and_notices_carry_an_icon_not_colour_alone() {
    portal_support::install_stylesheet();
    let document = portal_support::document();
    let root = document.create_element("main").unwrap();
    root.set_class_name("b24-app");
    root.set_inner_html(r#"<p class="b24-field-error">x</p><div class="b24-notice">y</div>"#);
    document.body().unwrap().append_child(&root).unwrap();
    let window = web_sys::window().unwrap();
    for selector in [".b24-field-error", ".b24-notice"] {
        let el = root.query_selector(selector).unwrap().unwrap();
        let style = window
            .get_computed_style_with_pseudo_elt(&el, "::before")
            .unwrap()
            .unwrap();
        let content = style.get_property_value("content").unwrap();
        assert!(content.contains('!'), "{selector}::before is {content:?}");
        // A drawn circle, not just a character (a flex item: blockified to `grid`).
        assert_eq!(style.get_property_value("width").unwrap(), "15px");
        assert_eq!(
            style.get_property_value("border-top-style").unwrap(),
            "solid"
        );
    }
    root.remove();
}
