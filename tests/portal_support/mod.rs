//! Shared helpers for the widget's browser tests: mounting, synthetic portal messages,
//! waiting for frames, and catching the widget's own size messages.
#![allow(dead_code)]

#[path = "../catalogues/mod.rs"]
pub mod catalogues;

use b24pay_widget::config::{Origin, WidgetConfig};
use leptos::mount::mount_to;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub const PORTAL: &str = "http://portal.test";
pub const OTHER: &str = "http://evil.test";

pub fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

pub fn document() -> web_sys::Document {
    window().document().unwrap()
}

/// The test page's own origin (where `parent.postMessage` lands: the runner is not framed).
pub fn own_origin() -> String {
    window().location().origin().unwrap()
}

pub fn config(origins: &[&str]) -> WidgetConfig {
    WidgetConfig {
        allowed_origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
        api_base: "/api/v1".into(),
        wait_for_portal: Duration::from_secs(60),
        preview: None,
    }
}

/// Adds the real stylesheet once, so sizes are the deployed ones.
pub fn install_stylesheet() {
    if document().get_element_by_id("b24pay-test-css").is_some() {
        return;
    }
    let style = document().create_element("style").unwrap();
    style.set_id("b24pay-test-css");
    style.set_text_content(Some(include_str!("../../style/widget.css")));
    document().head().unwrap().append_child(&style).unwrap();
}

pub struct Mounted {
    pub host: web_sys::HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

impl Mounted {
    /// The widget's root element (`.b24-app`).
    pub fn root(&self) -> web_sys::Element {
        self.host
            .query_selector(".b24-app")
            .unwrap()
            .expect("root rendered")
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.root().get_attribute(name)
    }

    pub fn text(&self) -> String {
        self.root().text_content().unwrap_or_default()
    }

    pub fn state(&self) -> String {
        self.attr("data-state").unwrap_or_default()
    }

    pub fn ignored(&self) -> u32 {
        self.attr("data-ignored-messages").unwrap().parse().unwrap()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.host.remove();
    }
}

/// Mounts the widget into a fresh 360 px wide host, every language's catalogue installed.
pub fn mount(config: WidgetConfig) -> Mounted {
    catalogues::install_all();
    mount_bare(config)
}

/// [`mount`] without installing catalogues: languages load as on the page.
pub fn mount_bare(config: WidgetConfig) -> Mounted {
    install_stylesheet();
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    host.style().set_property("width", "360px").unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let handle = mount_to(host.clone(), move || {
        view! { <b24pay_widget::Widget config/> }
    });
    Mounted {
        host,
        _handle: Box::new(handle),
    }
}

pub fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

/// Dispatches a `message` event as if posted from `origin` (its `source` is null, as for a
/// window we have no reference to).
pub fn dispatch(origin: &str, data: &JsValue) {
    let init = web_sys::MessageEventInit::new();
    init.set_origin(origin);
    init.set_data(data);
    let event = web_sys::MessageEvent::new_with_event_init_dict("message", &init).unwrap();
    window().dispatch_event(&event).unwrap();
}

/// A Chromium-like `BX_COMPUTED_STYLE`: index keys plus camelCase values.
pub fn chromium_style(color: &str, background: &str) -> String {
    format!(
        r#"{{"0":"accent-color","1":"align-content","2":"background-color","3":"color",
        "accentColor":"auto","backgroundColor":"{background}","background":"{background} none repeat scroll 0% 0% / auto padding-box border-box",
        "color":"{color}","colorScheme":"normal","fontFamily":"\"Open Sans\", Helvetica, Arial, sans-serif",
        "fontSize":"14px","fontWeight":"400","lineHeight":"20px","width":"728px"}}"#
    )
}

/// A Firefox-like `BX_COMPUTED_STYLE`: property names under index keys, no values.
pub const FIREFOX_STYLE: &str = r#"{"0":"align-content","1":"align-items","2":"background-color","3":"color","4":"font-family"}"#;

/// The portal's message as the portal builds it (PHP values as strings).
pub fn portal_message(sum: &str, currency: &str, extra_fields: &str, style: &str) -> JsValue {
    json(&format!(
        r#"{{{extra_fields}
        "BX_SYSTEM_PARAMS":{{"RETURN_URL":"https://shop.example/order/?id=5","PAYSYSTEM_ID":"12",
        "PAYMENT_ID":"247","SUM":{sum},"CURRENCY":"{currency}"}},
        "BX_COMPUTED_STYLE":{style}}}"#
    ))
}

pub fn valid_message() -> JsValue {
    portal_message(
        r#""1250.50""#,
        "RUB",
        r#""shopId":"shop-1","lang":"en","#,
        FIREFOX_STYLE,
    )
}

/// Completes when `register` calls the function it is given.
pub fn callback_future(register: impl FnOnce(&js_sys::Function)) -> impl Future<Output = ()> {
    let done = Rc::new(Cell::new(false));
    let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
    let (d, w) = (done.clone(), waker.clone());
    let callback = Closure::once_into_js(move || {
        d.set(true);
        if let Some(waker) = w.borrow_mut().take() {
            waker.wake();
        }
    });
    register(callback.unchecked_ref());
    std::future::poll_fn(move |cx| {
        if done.get() {
            Poll::Ready(())
        } else {
            *waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    })
}

pub async fn frames(n: u32) {
    for _ in 0..n {
        callback_future(|f| {
            window().request_animation_frame(f).unwrap();
        })
        .await;
    }
    // Messages posted in the last frame are delivered as a task after it.
    sleep(0).await;
}

pub async fn sleep(ms: i32) {
    callback_future(|f| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(f, ms)
            .unwrap();
    })
    .await;
}

/// Records the `{height}` messages this window posts to itself (its `parent`).
pub struct SizePosts {
    posts: Rc<RefCell<Vec<u32>>>,
    listener: Closure<dyn Fn(web_sys::MessageEvent)>,
}

impl SizePosts {
    pub fn listen() -> SizePosts {
        let posts: Rc<RefCell<Vec<u32>>> = Rc::default();
        let sink = posts.clone();
        let listener =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let own: JsValue = window().into();
                if event.source().map(JsValue::from) != Some(own) {
                    return;
                }
                let data = event.data();
                let number = |key: &str| {
                    js_sys::Reflect::get(&data, &key.into())
                        .ok()
                        .and_then(|v| v.as_f64())
                };
                if let Some(h) = number("height") {
                    assert_eq!(h.fract(), 0.0, "height is an integer");
                    assert_eq!(number("width"), None, "a width pins the portal's frame");
                    sink.borrow_mut().push(h as u32);
                }
            });
        window()
            .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref())
            .unwrap();
        SizePosts { posts, listener }
    }

    pub fn take(&self) -> Vec<u32> {
        std::mem::take(&mut self.posts.borrow_mut())
    }

    pub fn heights(&self) -> Vec<u32> {
        self.take()
    }
}

impl Drop for SizePosts {
    fn drop(&mut self) {
        let _ = window()
            .remove_event_listener_with_callback("message", self.listener.as_ref().unchecked_ref());
    }
}
