//! A store page slow to finish parsing (the sandbox's `?dcl_delay_ms=N`: a parser-blocking
//! script after the payment block, answered N ms late). The portal's script attaches
//! `iframe.onload`, which posts the payment's message, only on its page's `DOMContentLoaded`:
//! a frame that has loaded before that never gets a message.

use super::support::*;
use b24pay_e2e::browser::{Browser, BrowserKind};

/// Long enough for the frame to load first on a loaded machine.
const LATE_MS: u64 = 1500;

/// Opens the payment's store page with its `DOMContentLoaded` held `dcl_delay_ms`; returns
/// when the page has loaded (after that), with the driver in the widget's frame, and the time
/// (ms since the epoch) of the store page's `DOMContentLoaded`.
async fn open_slow(w: &World, payment_id: u64, dcl_delay_ms: u64) -> f64 {
    let url = format!(
        "{}&dcl_delay_ms={dcl_delay_ms}",
        w.stack.pay_page(payment_id, "light")
    );
    w.browser.goto(&url).await;
    let dcl = w
        .browser
        .eval(
            "const n = performance.getEntriesByType('navigation')[0];
             return performance.timeOrigin + n.domContentLoadedEventStart;",
            vec![],
        )
        .await;
    w.browser.enter_widget().await;
    dcl.as_f64().expect("a time")
}

/// The frame's document: how it was navigated to (`navigate`, `reload`) and when it finished
/// loading (ms since the epoch).
async fn frame_load(b: &Browser) -> (String, f64) {
    let v = b
        .wait_js(
            "the frame's document loaded",
            UI,
            "const n = performance.getEntriesByType('navigation')[0];
             return n && n.loadEventStart > 0
                 ? [n.type, performance.timeOrigin + n.loadEventStart] : null;",
        )
        .await;
    (v[0].as_str().unwrap().to_string(), v[1].as_f64().unwrap())
}

/// The widget's root state, once it is one of `states`.
async fn wait_state(b: &Browser, what: &str, states: &[&str]) -> String {
    let script = format!(
        "const r = document.querySelector('.b24-app');
         return r && {states:?}.includes(r.dataset.state) ? r.dataset.state : null;"
    );
    let v = b.wait_js(what, UI, &script).await;
    v.as_str().unwrap().to_string()
}

pub async fn a_frame_loaded_before_the_store_page_gets_no_message(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("25.00", "EUR");
    let dcl = open_slow(&w, id, LATE_MS).await;
    let (how, loaded) = frame_load(&w.browser).await;
    assert!(
        loaded < dcl,
        "the frame loaded ({loaded}) before the store page's DOMContentLoaded ({dcl})"
    );
    assert_eq!(how, "navigate");
    // Nothing came at all: not refused (nothing was ignored), just never posted.
    let state = wait_state(&w.browser, "the waiting state", &["error", "ready"]).await;
    let r = root(&w.browser).await;
    assert_eq!((state.as_str(), &r["ignored"]), ("error", &0.into()), "{r}");
    w.quit().await;
}
