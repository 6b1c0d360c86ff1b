#![cfg(target_arch = "wasm32")]
//! The portal posts exactly once, on the iframe's `load`, possibly before the wasm runs:
//! `loader.js` must keep that message for the app.

#[path = "portal_support/mod.rs"]
mod support;

use b24pay_widget::config::parse_allowed_origins;
use leptos::task::tick;
use std::cell::RefCell;
use std::rc::Rc;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const LOADER: &str = include_str!("../loader.js");

fn run_loader() {
    js_sys::Function::new_no_args(LOADER)
        .call0(&JsValue::NULL)
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_message_from_before_the_app_started_is_processed() {
    run_loader();
    // The page's `load`: the portal posts, the wasm is not running yet.
    dispatch(OTHER, &valid_message());
    dispatch(PORTAL, &valid_message());
    sleep(10).await;

    let widget = mount(config(&[PORTAL]));
    tick().await;
    assert_eq!(widget.state(), "ready", "the buffered message was lost");
    assert!(widget.text().contains("1,250.50"), "{}", widget.text());
    assert_eq!(
        widget.ignored(),
        1,
        "the buffered foreign message was counted"
    );

    // Later messages reach the app through the same handler.
    dispatch(
        PORTAL,
        &portal_message(r#""75""#, "EUR", r#""lang":"en","#, FIREFOX_STYLE),
    );
    tick().await;
    assert!(widget.text().contains("€75.00"), "{}", widget.text());

    // Unmounted, the loader buffers again, for the next app.
    drop(widget);
    dispatch(
        PORTAL,
        &portal_message(r#""5""#, "USD", r#""lang":"en","#, FIREFOX_STYLE),
    );
    let next = mount(config(&[PORTAL]));
    tick().await;
    assert!(next.text().contains("$5.00"), "{}", next.text());
}

#[wasm_bindgen_test]
async fn the_loader_keeps_a_message_posted_at_the_frame_s_load() {
    // A real frame loading the real file (the test server serves the crate root), and a
    // parent that posts exactly once, from the frame's `load` handler, as the portal does.
    let frame: web_sys::HtmlIFrameElement = document()
        .create_element("iframe")
        .unwrap()
        .unchecked_into();
    frame.set_srcdoc(r#"<!doctype html><html><head><script src="/loader.js"></script></head><body></body></html>"#);
    js_sys::Function::new_with_args(
        "frame",
        "frame.onload = function () { \
           frame.contentWindow.postMessage({ BX_SYSTEM_PARAMS: { PAYMENT_ID: '247' } }, '*'); \
           frame.dataset.posted = '1'; }",
    )
    .call1(&JsValue::NULL, &frame)
    .unwrap();
    document().body().unwrap().append_child(&frame).unwrap();
    for _ in 0..200 {
        if frame.get_attribute("data-posted").is_some() {
            break;
        }
        sleep(10).await;
    }
    assert!(
        frame.get_attribute("data-posted").is_some(),
        "the frame never loaded"
    );
    // The app starts well after the message was delivered.
    sleep(50).await;

    let received: Rc<RefCell<Vec<(String, String)>>> = Rc::default();
    let sink = received.clone();
    let handler =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let params = js_sys::Reflect::get(&event.data(), &"BX_SYSTEM_PARAMS".into()).unwrap();
            let id = js_sys::Reflect::get(&params, &"PAYMENT_ID".into()).unwrap();
            sink.borrow_mut()
                .push((event.origin(), id.as_string().unwrap()));
        });
    let inner = frame.content_window().unwrap();
    let take: js_sys::Function = js_sys::Reflect::get(&inner, &"b24payTakeMessages".into())
        .unwrap()
        .dyn_into()
        .expect("loader.js ran in the frame");
    take.call1(&inner, handler.as_ref()).unwrap();
    assert_eq!(*received.borrow(), [(own_origin(), "247".to_owned())]);

    // And the ones after go straight through.
    inner
        .post_message(&json(r#"{"BX_SYSTEM_PARAMS":{"PAYMENT_ID":"248"}}"#), "*")
        .unwrap();
    sleep(20).await;
    assert_eq!(received.borrow().len(), 2);
    assert_eq!(received.borrow()[1].1, "248");
    frame.remove();
}

#[wasm_bindgen_test]
async fn the_console_says_which_origins_were_refused_and_which_are_allowed() {
    let warnings = js_sys::Function::new_no_args(
        "const seen = []; const warn = console.warn;
         console.warn = (...a) => seen.push(a.join(' '));
         return {seen, restore() { console.warn = warn; }};",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let meta = document().create_element("meta").unwrap();
    meta.set_attribute("name", "b24pay-allowed-origins")
        .unwrap();
    meta.set_attribute("content", &format!("{PORTAL} https://b.example"))
        .unwrap();
    document().head().unwrap().append_child(&meta).unwrap();
    run_loader();
    meta.remove();
    // Before the wasm (there is none here at all): a foreign origin twice.
    dispatch(OTHER, &valid_message());
    dispatch(OTHER, &valid_message());
    sleep(4200).await;
    let restore: js_sys::Function = js_sys::Reflect::get(&warnings, &"restore".into())
        .unwrap()
        .unchecked_into();
    restore.call0(&warnings).unwrap();
    let seen: js_sys::Array = js_sys::Reflect::get(&warnings, &"seen".into())
        .unwrap()
        .unchecked_into();
    let said: Vec<String> = seen.iter().filter_map(|v| v.as_string()).collect();
    let diagnosis = said
        .iter()
        .find(|s| s.starts_with("b24pay: no usable portal message"))
        .unwrap_or_else(|| panic!("no diagnosis in {said:?}"));
    assert!(
        diagnosis.contains("refused origins: http://evil.test."),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains("Allowed origins: http://portal.test, https://b.example."),
        "{diagnosis}"
    );
    assert!(diagnosis.contains("2 message(s) ignored"), "{diagnosis}");
    // Nothing of the message's content (its amount, its return URL).
    assert!(
        !diagnosis.contains("1250") && !diagnosis.contains("shop.example"),
        "{diagnosis}"
    );
}

/// `loader.js` answers the portal with the skeleton's height before the wasm runs: it must
/// accept exactly the messages the app accepts, by the same allowed origins. One table of
/// hostile origins and messages, both asked.
#[wasm_bindgen_test]
async fn the_loader_and_the_app_accept_the_same_messages() {
    // Entries the app refuses (a path, a trailing slash, credentials, other schemes, "null")
    // next to one it accepts; the loader must not turn any of them into an allowed origin.
    let allowed = "http://portal.test https://slash.example/ http://path.example/pay \
                   https://u@cred.example javascript:alert(1) ftp://ftp.example null *";
    let meta = document().create_element("meta").unwrap();
    meta.set_attribute("name", "b24pay-allowed-origins")
        .unwrap();
    meta.set_attribute("content", allowed).unwrap();
    document().head().unwrap().append_child(&meta).unwrap();
    // The skeleton the loader fits to an accepted message (`data-test` for the FIELD mode).
    let boot = document().create_element("div").unwrap();
    boot.set_id("b24-boot");
    document().body().unwrap().append_child(&boot).unwrap();
    run_loader();
    meta.remove();
    let mut app_config = config(&[]);
    app_config.allowed_origins = parse_allowed_origins(allowed).0;
    let widget = mount(app_config);
    tick().await;

    let origins = [
        PORTAL,
        "https://slash.example",
        "http://path.example",
        "https://cred.example",
        "null",
        "",
        "ftp://ftp.example",
        OTHER,
    ];
    let valid = r#"{"mode":"test","BX_SYSTEM_PARAMS":{"PAYMENT_ID":"247","PAYSYSTEM_ID":"12",
                   "SUM":"10","CURRENCY":"EUR"}}"#;
    let messages = [
        valid,
        r#"{"mode":"test","BX_SYSTEM_PARAMS":""}"#,
        r#"{"mode":"test","BX_SYSTEM_PARAMS":null}"#,
        r#"{"mode":"test","BX_SYSTEM_PARAMS":[]}"#,
        r#"{"mode":"test","BX_SYSTEM_PARAMS":"<img src=x onerror=alert(1)>"}"#,
        r#"{"mode":"test"}"#,
        r#"[{"mode":"test","BX_SYSTEM_PARAMS":{}}]"#,
        r#""BX_SYSTEM_PARAMS""#,
        "null",
        "42",
    ];
    let mut accepted = 0;
    for origin in origins {
        for message in messages {
            boot.remove_attribute("data-test").unwrap();
            let ignored = widget.ignored();
            dispatch(origin, &json(message));
            // The loader hands an accepted message over from a task of its own.
            sleep(5).await;
            tick().await;
            let by_app = widget.ignored() == ignored;
            let by_loader = boot.has_attribute("data-test");
            assert_eq!(
                by_loader,
                by_app,
                "from {origin:?}: {message} (the loader {}, the app {})",
                if by_loader { "accepts" } else { "refuses" },
                if by_app { "accepts" } else { "refuses" },
            );
            accepted += usize::from(by_app);
        }
    }
    // The table holds both outcomes: only the configured origin, with the portal's shape.
    assert_eq!(
        accepted, 5,
        "from the portal: the valid message and the four broken payments"
    );
    boot.remove();
}

/// A framed page with the real `loader.js` (no allowed origins: its meta tag is absent), its
/// loads counted by the parent; `post` is what the parent posts on each load, if anything.
fn counted_frame(post: Option<&str>) -> web_sys::HtmlIFrameElement {
    let frame: web_sys::HtmlIFrameElement = document()
        .create_element("iframe")
        .unwrap()
        .unchecked_into();
    frame.set_srcdoc(r#"<!doctype html><html><head></head><body><script src="/loader.js"></script></body></html>"#);
    js_sys::Function::new_with_args(
        "frame, post",
        "frame.onload = function () { \
           frame.dataset.loads = String(Number(frame.dataset.loads || 0) + 1); \
           if (post) frame.contentWindow.postMessage(JSON.parse(post), '*'); };",
    )
    .call2(
        &JsValue::NULL,
        &frame,
        &post.map_or(JsValue::NULL, JsValue::from_str),
    )
    .unwrap();
    document().body().unwrap().append_child(&frame).unwrap();
    frame
}

fn loads(frame: &web_sys::HtmlIFrameElement) -> u32 {
    frame
        .get_attribute("data-loads")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The portal attaches its `onload` late on a slow store page: a frame that loaded first gets
/// nothing, and reloads itself 1 s, 2 s and 4 s after its loads. Never a fourth time (the last
/// page gives up, and clears its count), and never for a message refused for its origin: that
/// is the configuration to fix, which the console names.
#[wasm_bindgen_test]
async fn a_frame_without_any_message_reloads_three_times_a_refused_one_never() {
    let silent = counted_frame(None);
    let refused = counted_frame(Some(r#"{"BX_SYSTEM_PARAMS":{"PAYMENT_ID":"247"}}"#));
    // Load, 1 s, reload, 2 s, reload, 4 s, reload and give up (about 7.5 s); then 3 s in which
    // a fourth reload must not come.
    sleep(10_500).await;
    assert_eq!(
        loads(&silent),
        4,
        "the silent frame reloads exactly three times"
    );
    assert_eq!(
        loads(&refused),
        1,
        "a refused message is no reason to reload"
    );
    let guard = js_sys::Function::new_no_args("return sessionStorage.getItem('b24pay-reloads');")
        .call0(&JsValue::NULL)
        .unwrap();
    assert!(guard.is_null(), "the count is left: {guard:?}");
    silent.remove();
    refused.remove();
}
