//! Shared by the `ui_*` browser tests: mounting the payment UI, typing into fields the way a
//! browser does, and a stubbed payment API (`window.fetch` replaced by a recorder).
#![allow(dead_code)]

// ui_app.rs also has it through portal_support: two copies of a few helpers, one state.
#[allow(clippy::duplicate_mod)]
#[path = "../catalogues/mod.rs"]
pub mod catalogues;

use b24pay_protocol::{Currency, Money};
use b24pay_widget::announce::{Announcer, LiveRegion};
use b24pay_widget::form::{Checkout, CheckoutView};
use b24pay_widget::i18n::Locale;
use js_sys::{Array, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, HtmlInputElement};

pub const RETURN_URL: &str = "https://shop.example/pay/247";

pub fn checkout() -> Checkout {
    let rub = Currency::parse("RUB").unwrap();
    Checkout {
        api_base: "/stub-api/v1".into(),
        payment_id: "247".into(),
        paysystem_id: "11".into(),
        amount: Money::parse("1250.50", rub).unwrap(),
        return_url: Some(RETURN_URL.into()),
        holder: false,
        invoice_id: None,
        payment_number: "A-247".into(),
        test_mode: false,
    }
}

/// The payment UI mounted in its own element, with the app shell's live region.
pub struct Mounted {
    pub host: HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.host.remove();
    }
}

pub fn mount(checkout: Checkout, locale: Locale) -> Mounted {
    catalogues::install_all();
    let document = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        provide_context(locale);
        let announcer = Announcer::provide();
        view! {
            <LiveRegion announcer />
            <CheckoutView checkout />
        }
    });
    Mounted {
        host,
        _handle: Box::new(handle),
    }
}

impl Mounted {
    pub fn find(&self, selector: &str) -> Option<Element> {
        self.host.query_selector(selector).unwrap()
    }

    pub fn el(&self, selector: &str) -> Element {
        self.find(selector)
            .unwrap_or_else(|| panic!("no {selector} in {}", self.host.inner_html()))
    }

    pub fn input(&self, id: &str) -> HtmlInputElement {
        self.el(&format!("#{id}")).unchecked_into()
    }

    pub fn text(&self, selector: &str) -> String {
        self.el(selector).text_content().unwrap_or_default()
    }

    pub fn live(&self) -> String {
        self.text("[aria-live]")
    }

    /// The Pay (or Confirm) button.
    pub fn button(&self) -> HtmlElement {
        self.el("button[type=submit]").unchecked_into()
    }

    /// Fills the card form with a card that passes every check.
    pub async fn fill(&self, number: &str) {
        paste(&self.input("b24-number"), number);
        paste(&self.input("b24-expiry"), &future_expiry());
        paste(
            &self.input("b24-cvc"),
            if number.starts_with("37") {
                "1234"
            } else {
                "123"
            },
        );
        settle().await;
    }

    /// Presses the Pay (or Confirm) button once and lets the page settle.
    pub async fn submit(&self) {
        self.button().click();
        settle().await;
    }

    /// Fills the card form with `number` (see [`Mounted::fill`]) and pays.
    pub async fn pay_with(&self, number: &str) {
        self.fill(number).await;
        self.submit().await;
    }
}

/// The checkout form in English, filled with `number` and paid (see [`Mounted::pay_with`]).
pub async fn mount_and_pay(number: &str) -> Mounted {
    let ui = mount(checkout(), Locale::En);
    ui.pay_with(number).await;
    ui
}

/// The notice after a lost connection: the customer may retry, nothing is charged twice.
pub const CONNECTION_PROBLEM: &str =
    "Connection problem. Try again — you will not be charged twice.";

/// A stubbed API that answers `first`, then a success.
pub fn then_succeeded(first: &str) -> String {
    format!("[{first},{}]", view("succeeded", ""))
}

/// "12/YY", three years ahead.
pub fn future_expiry() -> String {
    let yy = (js_sys::Date::new_0().get_full_year() + 3) % 100;
    format!("12/{yy:02}")
}

/// The element that has keyboard focus.
pub fn focused() -> Option<Element> {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
}

/// As the browser leaves it after an edit: `value`, the caret at `caret`, then an `input`
/// event of kind `kind` (`insertText`, `insertFromPaste`, `deleteContentBackward`).
pub fn edit(input: &HtmlInputElement, value: &str, caret: u32, kind: &str) {
    input.focus().unwrap();
    input.set_value(value);
    input.set_selection_range(caret, caret).unwrap();
    let init = web_sys::InputEventInit::new();
    init.set_bubbles(true);
    init.set_input_type(kind);
    let event = web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&event).unwrap();
}

fn caret(input: &HtmlInputElement) -> usize {
    input.selection_start().unwrap().unwrap_or(0) as usize
}

/// Types `text` one character at a time at the caret.
pub fn type_text(input: &HtmlInputElement, text: &str) {
    input.focus().unwrap();
    for c in text.chars() {
        let value = input.value();
        let at = caret(input).min(value.len());
        let new = format!("{}{c}{}", &value[..at], &value[at..]);
        edit(input, &new, at as u32 + 1, "insertText");
    }
}

/// Puts the caret at `at`.
pub fn place_caret(input: &HtmlInputElement, at: u32) {
    input.focus().unwrap();
    input.set_selection_range(at, at).unwrap();
}

/// One backspace at the caret.
pub fn backspace(input: &HtmlInputElement) {
    let value = input.value();
    let at = caret(input).min(value.len());
    if at == 0 {
        return;
    }
    let new = format!("{}{}", &value[..at - 1], &value[at..]);
    edit(input, &new, at as u32 - 1, "deleteContentBackward");
}

/// Pastes `text` at the caret.
pub fn paste(input: &HtmlInputElement, text: &str) {
    input.focus().unwrap();
    let value = input.value();
    let at = caret(input).min(value.len());
    let new = format!("{}{text}{}", &value[..at], &value[at..]);
    edit(input, &new, (at + text.len()) as u32, "insertFromPaste");
}

/// Leaves the field (a real blur: focus moves to the page).
pub fn leave(input: &HtmlInputElement) {
    input.blur().unwrap();
}

/// Lets pending promises, timers and reactive effects run.
pub async fn settle() {
    // Four rounds for the effects after the last stubbed answer on its way has been read
    // (bounded: ~5 s).
    let mut quiet = 0;
    for _ in 0..500 {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
                .unwrap();
        });
        JsFuture::from(promise).await.unwrap();
        leptos::task::tick().await;
        let pending = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__b24pending".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        if pending > 0.0 {
            quiet = 0;
            sleep(10).await;
        } else {
            quiet += 1;
            if quiet == 4 {
                break;
            }
        }
    }
}

#[wasm_bindgen(inline_js = r#"
export function stubFetch(answers) {
  if (!Array.isArray(answers)) answers = [answers];
  const calls = [];
  let held = [];
  window.__b24pending = 0;
  window.fetch = (url, init) => {
    const headers = (init && init.headers) || {};
    calls.push({
      url: String(url),
      method: init && init.method,
      key: headers["Idempotency-Key"],
      contentType: headers["Content-Type"],
      body: init && init.body ? JSON.parse(init.body) : null,
    });
    const next = answers.length > 1 ? answers.shift() : answers[0];
    // settle() waits while an answer is on its way: from the call until its body is read (slow
    // in a loaded Firefox), or until the task after it arrives when the widget reads no body.
    let reading = false;
    const done = () => { window.__b24pending -= 1; };
    const arrived = () => setTimeout(() => { if (!reading) done(); }, 0);
    const answer = () => {
      window.__b24pending += 1;
      if (next === "network") {
        arrived();
        return Promise.reject(new TypeError("Failed to fetch"));
      }
      const response = new Response(
        typeof next.body === "string" ? next.body : JSON.stringify(next.body),
        { status: next.status, headers: { "Content-Type": "application/json" } });
      const json = response.json.bind(response);
      response.json = () => { reading = true; return json().finally(done); };
      arrived();
      return Promise.resolve(response);
    };
    if (next.hold) {
      return new Promise((resolve, reject) => held.push(() => answer().then(resolve, reject)));
    }
    return answer();
  };
  return {
    calls,
    release() { const h = held; held = []; h.forEach((f) => f()); },
  };
}
"#)]
extern "C" {
    pub type Stub;
    #[wasm_bindgen(js_name = stubFetch)]
    fn stub_fetch_js(answers: JsValue) -> Stub;
    #[wasm_bindgen(method, getter)]
    fn calls(this: &Stub) -> Array;
    /// Answers every held request.
    #[wasm_bindgen(method)]
    pub fn release(this: &Stub);
}

/// Replaces `window.fetch` with a recorder answering `answers` (a JSON array) in order, the
/// last one forever. Each answer: `{"status":200,"body":{...}}`, `"network"` (fetch rejects),
/// or with `"hold":true` (answered on [`Stub::release`]).
pub fn stub_fetch(answers: &str) -> Stub {
    stub_fetch_js(js_sys::JSON::parse(answers).unwrap())
}

/// One recorded request.
pub struct Call(JsValue);

impl Call {
    fn get(&self, path: &str) -> JsValue {
        path.split('.').fold(self.0.clone(), |v, k| {
            Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED)
        })
    }
    pub fn url(&self) -> String {
        self.get("url").as_string().unwrap()
    }
    pub fn key(&self) -> String {
        self.get("key").as_string().unwrap_or_default()
    }
    pub fn content_type(&self) -> String {
        self.get("contentType").as_string().unwrap_or_default()
    }
    pub fn method(&self) -> String {
        self.get("method").as_string().unwrap_or_default()
    }
    /// A field of the JSON body, by dotted path ("card.number").
    pub fn body(&self, path: &str) -> JsValue {
        self.get(&format!("body.{path}"))
    }
    pub fn body_json(&self) -> String {
        js_sys::JSON::stringify(&self.get("body")).unwrap().into()
    }
}

impl Stub {
    pub fn count(&self) -> u32 {
        self.calls().length()
    }
    pub fn call(&self, i: u32) -> Call {
        Call(self.calls().get(i))
    }
}

/// A `PaymentView` answer.
pub fn view(state: &str, extra: &str) -> String {
    format!(
        r#"{{"status":200,"body":{{"id":"pa_1","state":"{state}","portal_notified":false,"amount":"1250.50","currency":"RUB","card":{{"brand":"visa","last4":"4242"}}{extra}}}}}"#
    )
}

/// An `ErrorBody` answer.
pub fn error(status: u16, code: &str) -> String {
    format!(r#"{{"status":{status},"body":{{"error":{{"code":"{code}","message":"m"}}}}}}"#)
}

/// Waits `ms` of real time (timers of the widget run meanwhile).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}
