#![cfg(target_arch = "wasm32")]

#[path = "portal_support/mod.rs"]
mod support;

use b24pay_protocol::money::AmountError;
use b24pay_protocol::{Currency, Money};
use b24pay_widget::i18n::{Key, Locale};
use b24pay_widget::money::format_money;
use b24pay_widget::portal::message::{ParamError, PaymentParams, PortalMessage};
use leptos::task::tick;
use support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn params(system_params: &str) -> Result<PaymentParams, ParamError> {
    let data = json(&format!(r#"{{"BX_SYSTEM_PARAMS":{system_params}}}"#));
    PortalMessage::parse(&data)
        .expect("a portal message")
        .params
}

fn rub(text: &str) -> Money {
    Money::parse(text, Currency::parse("RUB").unwrap()).unwrap()
}

#[wasm_bindgen_test]
fn system_params_as_the_portal_sends_them() {
    let p = params(
        r#"{"RETURN_URL":"https://shop.example/pay/?order=5#x","PAYSYSTEM_ID":"12","PAYMENT_ID":"247",
            "SUM":"1250.50","CURRENCY":"RUB"}"#,
    )
    .unwrap();
    assert_eq!(p.payment_id, 247);
    assert_eq!(p.paysystem_id, 12);
    assert_eq!(p.amount, rub("1250.50"));
    assert_eq!(
        p.return_url.as_deref(),
        Some("https://shop.example/pay/?order=5#x")
    );
}

#[wasm_bindgen_test]
fn numbers_are_accepted_as_well_as_strings() {
    for (sum, minor) in [
        (r#""3000""#, 300_000),
        ("3000", 300_000),
        (r#""1250.50""#, 125_050),
        ("1250.5", 125_050),
        (r#"" 99.9 ""#, 9_990),
    ] {
        let p = params(&format!(
            r#"{{"PAYSYSTEM_ID":12,"PAYMENT_ID":247,"SUM":{sum},"CURRENCY":"rub","EXTERNAL_PAYMENT_ID":77}}"#
        ))
        .unwrap();
        assert_eq!(p.amount.minor, minor, "SUM {sum}");
        assert_eq!(p.currency().code(), "RUB");
        assert_eq!((p.payment_id, p.paysystem_id), (247, 12));
    }
    let jpy =
        params(r#"{"PAYSYSTEM_ID":"1","PAYMENT_ID":"2","SUM":"500.00","CURRENCY":"JPY"}"#).unwrap();
    assert_eq!(jpy.amount.minor, 500);
}

#[wasm_bindgen_test]
fn return_url_must_be_http_or_https() {
    let with_url = |url: &str| {
        params(&format!(
            r#"{{"RETURN_URL":{url},"PAYSYSTEM_ID":"1","PAYMENT_ID":"2","SUM":"1","CURRENCY":"USD"}}"#
        ))
        .unwrap()
        .return_url
    };
    assert_eq!(
        with_url(r#""http://shop.example/a""#).as_deref(),
        Some("http://shop.example/a")
    );
    assert_eq!(
        with_url(r#""HTTPS://Shop.Example""#).as_deref(),
        Some("https://shop.example/")
    );
    for dropped in [
        r#""javascript:alert(1)""#,
        r#""JavaScript:alert(document.domain)""#,
        r#""data:text/html,<script>alert(1)</script>""#,
        r#""/relative/path""#,
        r#""//shop.example/x""#,
        r#""ftp://shop.example/""#,
        r#""""#,
        "null",
        "42",
        r#"{"href":"https://x"}"#,
    ] {
        assert_eq!(with_url(dropped), None, "{dropped}");
    }
}

#[wasm_bindgen_test]
fn the_widget_s_fields_are_read_as_text() {
    let data = json(
        r#"{"shopId":"shop-1","lang":"ru","paymentNumber":5,"holder":true,"invoiceId":null,
            "mode":{"a":1},"count":5,
            "BX_SYSTEM_PARAMS":{"PAYSYSTEM_ID":"1","PAYMENT_ID":"2","SUM":"1","CURRENCY":"USD"},
            "BX_COMPUTED_STYLE":{}}"#,
    );
    let message = PortalMessage::parse(&data).unwrap();
    let fields: Vec<(&str, &str)> = message.fields.iter().collect();
    // Numbers and booleans as JS writes them, PHP's null as ""; objects are not text. FIELDS
    // the widget does not read (shopId, count) are not kept.
    assert_eq!(
        fields,
        [
            ("lang", "ru"),
            ("paymentNumber", "5"),
            ("holder", "true"),
            ("invoiceId", ""),
        ]
    );
    assert_eq!(message.fields.non_empty("invoiceId"), None);
    assert_eq!(message.fields.get("mode"), None);
    assert_eq!(message.fields.get("shopId"), None);
    assert_eq!(message.fields.get("BX_SYSTEM_PARAMS"), None);
}

#[wasm_bindgen_test]
fn malformed_params_give_coded_errors() {
    let ok = r#""PAYSYSTEM_ID":"1","SUM":"10","CURRENCY":"USD""#;
    let cases: &[(&str, ParamError)] = &[
        (
            r#"{"PAYSYSTEM_ID":"1","SUM":"10","CURRENCY":"USD"}"#,
            ParamError::MissingPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":"",{ok}}}"#),
            ParamError::MissingPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":null,{ok}}}"#),
            ParamError::MissingPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":"-5",{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":"+5",{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":"12a",{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":"0",{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":0,{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":1.5,{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":"99999999999999999999",{ok}}}"#),
            ParamError::InvalidPaymentId,
        ),
        (
            &format!(r#"{{"PAYMENT_ID":{{}},{ok}}}"#),
            ParamError::MissingPaymentId,
        ),
        (
            r#"{"PAYMENT_ID":"2","SUM":"10","CURRENCY":"USD"}"#,
            ParamError::MissingPaySystemId,
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"x","SUM":"10","CURRENCY":"USD"}"#,
            ParamError::InvalidPaySystemId,
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","CURRENCY":"USD"}"#,
            ParamError::MissingSum,
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"","CURRENCY":"USD"}"#,
            ParamError::MissingSum,
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"ten","CURRENCY":"USD"}"#,
            ParamError::InvalidSum(AmountError::Malformed),
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"1e3","CURRENCY":"USD"}"#,
            ParamError::InvalidSum(AmountError::Malformed),
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"0","CURRENCY":"USD"}"#,
            ParamError::InvalidSum(AmountError::NotPositive),
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":-5,"CURRENCY":"USD"}"#,
            ParamError::InvalidSum(AmountError::Malformed),
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"10.005","CURRENCY":"USD"}"#,
            ParamError::InvalidSum(AmountError::TooPrecise),
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":1e21,"CURRENCY":"USD"}"#,
            ParamError::InvalidSum(AmountError::Malformed),
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"10"}"#,
            ParamError::MissingCurrency,
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"10","CURRENCY":"XYZ"}"#,
            ParamError::UnknownCurrency,
        ),
        (
            r#"{"PAYMENT_ID":"2","PAYSYSTEM_ID":"1","SUM":"10","CURRENCY":"<b>"}"#,
            ParamError::UnknownCurrency,
        ),
        (r#""""#, ParamError::SystemParams),
        ("[1,2]", ParamError::SystemParams),
    ];
    for (system_params, expected) in cases {
        assert_eq!(params(system_params), Err(*expected), "{system_params}");
    }
    assert_eq!(ParamError::MissingPaymentId.code(), "missing_payment_id");
    assert_eq!(
        ParamError::InvalidSum(AmountError::TooPrecise).code(),
        "sum_too_precise"
    );
}

#[wasm_bindgen_test]
fn other_messages_are_not_the_portal_s() {
    for data in [
        r#""hello""#,
        "42",
        "null",
        "[1]",
        r#"{"width":300,"height":200}"#,
        r#"{"type":"x"}"#,
    ] {
        assert!(PortalMessage::parse(&json(data)).is_none(), "{data}");
    }
}

#[wasm_bindgen_test]
fn money_is_formatted_by_the_browser() {
    let ru = format_money(rub("1250.50"), Locale::Ru);
    assert_eq!(ru, "1\u{a0}250,50\u{a0}₽");
    let usd = Money::parse("3000", Currency::parse("USD").unwrap()).unwrap();
    assert_eq!(format_money(usd, Locale::En), "$3,000.00");
    let jpy = Money::parse("1500", Currency::parse("JPY").unwrap()).unwrap();
    assert_eq!(format_money(jpy, Locale::De), "1.500\u{a0}¥");
    let kzt = Money::parse("99999999.99", Currency::parse("KZT").unwrap()).unwrap();
    assert_eq!(
        format_money(kzt, Locale::Kk),
        "99\u{a0}999\u{a0}999,99\u{a0}₸"
    );
    let uah = Money::parse("10", Currency::parse("UAH").unwrap()).unwrap();
    assert!(format_money(uah, Locale::Uk).starts_with("10,00"));
    let kwd = Money::parse("1.5", Currency::parse("KWD").unwrap()).unwrap();
    assert!(
        format_money(kwd, Locale::En).ends_with("1.500"),
        "three minor digits"
    );
}

#[wasm_bindgen_test]
async fn summary_shows_amount_and_payment_number() {
    let widget = mount(config(&[PORTAL]));
    tick().await;
    assert_eq!(widget.state(), "waiting");
    dispatch(
        PORTAL,
        &portal_message(
            r#""1250.50""#,
            "RUB",
            r#""lang":"ru","paymentNumber":"A-1001","#,
            FIREFOX_STYLE,
        ),
    );
    tick().await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(widget.attr("lang").as_deref(), Some("ru"));
    let text = widget.text();
    assert!(text.contains("К оплате"), "{text}");
    assert!(text.contains("1\u{a0}250,50\u{a0}₽"), "{text}");
    assert!(text.contains("Платёж №\u{a0}A-1001"), "{text}");

    // Without the number field, the portal's PAYMENT_ID.
    dispatch(
        PORTAL,
        &portal_message(r#""1250.50""#, "RUB", r#""lang":"en","#, FIREFOX_STYLE),
    );
    tick().await;
    assert!(
        widget.text().contains("Payment No. 247"),
        "{}",
        widget.text()
    );
}

#[wasm_bindgen_test]
async fn a_repeated_message_changes_nothing_and_a_different_one_updates() {
    let widget = mount(config(&[PORTAL]));
    dispatch(PORTAL, &valid_message());
    tick().await;
    let summary = widget
        .root()
        .query_selector(".b24-summary")
        .unwrap()
        .unwrap();

    // Count every DOM mutation under the root.
    let mutations = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let counter = mutations.clone();
    let callback = wasm_bindgen::closure::Closure::<dyn Fn(js_sys::Array)>::new(
        move |records: js_sys::Array| {
            counter.set(counter.get() + records.length());
        },
    );
    let observer = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
    let init = web_sys::MutationObserverInit::new();
    init.set_subtree(true);
    init.set_child_list(true);
    init.set_attributes(true);
    init.set_character_data(true);
    observer
        .observe_with_options(&widget.root(), &init)
        .unwrap();

    dispatch(PORTAL, &valid_message());
    tick().await;
    sleep(0).await;
    assert_eq!(mutations.get(), 0, "the same data re-rendered something");
    let again = widget
        .root()
        .query_selector(".b24-summary")
        .unwrap()
        .unwrap();
    assert!(again.is_same_node(Some(&summary)));

    dispatch(
        PORTAL,
        &portal_message(
            r#""99""#,
            "RUB",
            r#""shopId":"shop-1","lang":"en","#,
            FIREFOX_STYLE,
        ),
    );
    tick().await;
    sleep(0).await;
    assert!(mutations.get() > 0, "different data must update the view");
    observer.disconnect();
    assert!(widget.text().contains("99.00"), "{}", widget.text());
    assert!(!widget.text().contains("1,250.50"));
}

#[wasm_bindgen_test]
async fn malformed_params_show_a_localized_error_and_still_report_size() {
    let posts = SizePosts::listen();
    let own = own_origin();
    let widget = mount(config(&[&own]));
    dispatch(
        &own,
        &portal_message(r#""abc""#, "RUB", r#""lang":"de","#, FIREFOX_STYLE),
    );
    tick().await;
    assert_eq!(widget.state(), "error");
    let error = widget
        .root()
        .query_selector("[data-error-code]")
        .unwrap()
        .expect("the error");
    // Read out by the widget's one live region (no second, `role=alert` region).
    let live = widget
        .root()
        .query_selector("[aria-live]")
        .unwrap()
        .expect("the live region")
        .text_content()
        .unwrap_or_default();
    assert!(
        live.contains(Locale::De.text(Key::ErrorInvalidAmount)),
        "{live}"
    );
    assert_eq!(
        error.get_attribute("data-error-code").as_deref(),
        Some("invalid_sum")
    );
    let text = error.text_content().unwrap();
    assert!(text.contains(Locale::De.text(Key::ErrorTitle)), "{text}");
    assert!(
        text.contains(Locale::De.text(Key::ErrorInvalidAmount)),
        "{text}"
    );
    assert!(text.contains("Fehlercode: invalid_sum"), "{text}");
    assert!(text.contains("Neu laden"), "{text}");

    frames(3).await;
    let height = widget.root().get_bounding_client_rect().height().ceil() as u32;
    assert_eq!(
        posts.heights().last(),
        Some(&height),
        "the error state's size is posted"
    );

    // A currency problem has its own explanation.
    dispatch(
        &own,
        &portal_message(r#""10""#, "ZZZ", r#""lang":"uk","#, FIREFOX_STYLE),
    );
    tick().await;
    assert!(widget
        .text()
        .contains(Locale::Uk.text(Key::ErrorInvalidCurrency)));
    assert!(widget.text().contains("unknown_currency"));
}

#[wasm_bindgen_test]
async fn no_message_in_time_shows_an_error() {
    let mut cfg = config(&[PORTAL]);
    cfg.wait_for_portal = std::time::Duration::from_millis(30);
    let widget = mount(cfg);
    tick().await;
    assert_eq!(widget.state(), "waiting");
    sleep(80).await;
    tick().await;
    assert_eq!(widget.state(), "error");
    let code = widget
        .root()
        .query_selector("[data-error-code]")
        .unwrap()
        .unwrap();
    assert_eq!(
        code.get_attribute("data-error-code").as_deref(),
        Some("no_portal_message")
    );
    let browser = Locale::from_browser(None);
    assert!(widget.text().contains(browser.text(Key::WaitingTitle)));
    assert!(widget.text().contains(browser.text(Key::ErrorNoMessage)));

    // The portal's message still wins if it comes late.
    dispatch(PORTAL, &valid_message());
    tick().await;
    assert_eq!(widget.state(), "ready");
}

#[wasm_bindgen_test]
async fn a_page_opened_on_its_own_shows_the_configured_sample() {
    // The test page is not in a frame, like the widget's URL opened directly.
    let mut cfg = config(&[PORTAL]);
    cfg.preview = Some(
        r#"{"lang":"en","paymentNumber":"A-1","mode":"TEST",
            "BX_SYSTEM_PARAMS":{"PAYMENT_ID":"1","PAYSYSTEM_ID":"2","SUM":"49.99","CURRENCY":"USD",
            "RETURN_URL":"http://127.0.0.1:8081/pay/1"}}"#
            .into(),
    );
    let widget = mount(cfg);
    tick().await;
    assert_eq!(widget.state(), "ready");
    let text = widget.text();
    assert!(text.contains("$49.99"), "{text}");
    assert!(text.contains(Locale::En.text(Key::PreviewNotice)), "{text}");
    assert!(text.contains(Locale::En.text(Key::TestMode)), "{text}");
    drop(widget);
    // Without a configured sample (production), nothing is made up.
    let widget = mount(config(&[PORTAL]));
    tick().await;
    assert_eq!(widget.state(), "waiting");
    assert!(!widget.text().contains(Locale::En.text(Key::PreviewNotice)));
}
