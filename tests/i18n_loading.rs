//! Languages other than English arrive as catalogues (`locales/*.json`) through `loader.js`'s
//! `window.b24payCatalogue(tag)`: the form waits for the customer's language rather than
//! flash English, and shows itself in English when the catalogue cannot be had.
#![cfg(target_arch = "wasm32")]

#[path = "portal_support/mod.rs"]
mod support;

use b24pay_widget::i18n::Locale;
use js_sys::{Function, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Replaces `window.b24payCatalogue` with one that records the tags asked for and answers
/// with `answer(tag)`.
fn stub_catalogues(answer: impl Fn(&str) -> Promise + 'static) -> Rc<RefCell<Vec<String>>> {
    let asked = Rc::new(RefCell::new(Vec::new()));
    let record = asked.clone();
    let f = Closure::<dyn Fn(String) -> Promise>::new(move |tag: String| {
        record.borrow_mut().push(tag.clone());
        answer(&tag)
    });
    Reflect::set(&window(), &"b24payCatalogue".into(), f.as_ref()).unwrap();
    f.forget();
    asked
}

fn label(widget: &Mounted) -> String {
    widget
        .root()
        .query_selector("label[for=b24-number]")
        .unwrap()
        .map(|l| l.text_content().unwrap_or_default())
        .unwrap_or_default()
}

/// A bare widget for the portal that gets the portal's message for an amount (a JSON string),
/// a currency and a language, a few frames after it arrived.
async fn mounted_in(amount: &str, currency: &str, lang: &str) -> Mounted {
    let widget = mount_bare(config(&[PORTAL]));
    let lang = format!(r#""lang":"{lang}","#);
    dispatch(
        PORTAL,
        &portal_message(amount, currency, &lang, FIREFOX_STYLE),
    );
    frames(3).await;
    widget
}

#[wasm_bindgen_test]
async fn the_form_waits_for_the_forced_language_then_speaks_it() {
    let resolve: Rc<RefCell<Option<Function>>> = Rc::default();
    let keep = resolve.clone();
    let asked = stub_catalogues(move |_| {
        let keep = keep.clone();
        Promise::new(&mut move |res, _| *keep.borrow_mut() = Some(res))
    });
    let widget = mounted_in(r#""1250.50""#, "RUB", "de").await;
    assert!(asked.borrow().contains(&"de".to_string()), "{asked:?}");
    // No English form in the meantime: the skeleton stays.
    assert_eq!(widget.state(), "waiting");
    assert_eq!(label(&widget), "");

    let catalogue = support::catalogues::served(Locale::De);
    let res = resolve.borrow_mut().take().expect("a pending catalogue");
    res.call1(&JsValue::NULL, &catalogue).unwrap();
    frames(3).await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(widget.attr("lang").as_deref(), Some("de"));
    assert_eq!(label(&widget), "Kartennummer");
    assert_eq!(
        Locale::De.text(b24pay_widget::i18n::Key::Reload),
        "Neu laden"
    );
}

#[wasm_bindgen_test]
async fn an_unavailable_language_gives_the_english_form() {
    // `loader.js` answers null when the file is missing or the network fails.
    let _asked = stub_catalogues(|_| Promise::resolve(&JsValue::NULL));
    let widget = mounted_in(r#""10""#, "EUR", "fr").await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(widget.attr("lang").as_deref(), Some("en"));
    assert_eq!(label(&widget), "Card number");
}

#[wasm_bindgen_test]
async fn a_catalogue_that_is_not_one_gives_the_english_form() {
    // A proxy's HTML error page, parsed as whatever it is: not a catalogue.
    let _asked = stub_catalogues(|_| Promise::resolve(&JsValue::from_str("<html>")));
    let widget = mounted_in(r#""10""#, "PLN", "pl").await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(label(&widget), "Card number");
}

#[wasm_bindgen_test]
async fn a_language_that_never_arrives_gives_the_english_form_after_the_timeout() {
    let _asked = stub_catalogues(|_| Promise::new(&mut |_, _| {}));
    let widget = mounted_in(r#""10""#, "TRY", "tr").await;
    assert_eq!(widget.state(), "waiting");
    sleep(b24pay_widget::i18n::catalogue::LOAD_TIMEOUT_MS as i32 + 200).await;
    frames(2).await;
    assert_eq!(widget.state(), "ready");
    assert_eq!(label(&widget), "Card number");
}
