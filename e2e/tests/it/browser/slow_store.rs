//! A store page slow to finish parsing (the sandbox's `?dcl_delay_ms=N`: a parser-blocking
//! script after the payment block, answered N ms late). The portal's script attaches
//! `iframe.onload`, which posts the payment's message, only on its page's `DOMContentLoaded`:
//! a frame that has loaded before that never gets a message. `loader.js` then reloads the
//! frame, 1 s, 2 s and 4 s after its loads (three reloads at most): the first reload whose
//! `load` comes after the page's `DOMContentLoaded` gets the portal's message.

use super::support::*;
use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::cards;
use std::time::Duration;

/// Long enough for the frame to load first on a loaded machine (and its first reload, 1 s
/// later, too, most of the time), shorter than the 1 + 2 s of the first two waits (so a reload
/// always comes after `DOMContentLoaded`).
const LATE_MS: u64 = 2500;
/// Longer than the four loads and the 1 + 2 + 4 s of waits together: every reload is lost too.
const VERY_LATE_MS: u64 = 15_000;

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

pub async fn a_frame_loaded_before_the_store_page_reloads_and_pays(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("25.00", "EUR");
    let dcl = open_slow(&w, id, LATE_MS).await;
    let state = wait_state(&w.browser, "the widget ready", &["ready"]).await;
    assert_eq!(state, "ready");
    // It is the reloaded document that got the message, loaded after the page's
    // DOMContentLoaded (the first one, loaded before it, got nothing).
    let (how, loaded) = frame_load(&w.browser).await;
    assert_eq!(how, "reload");
    assert!(loaded > dcl, "reloaded at {loaded}, DOMContentLoaded {dcl}");
    assert_eq!(root(&w.browser).await["ignored"], 0);
    // And the customer pays, once.
    w.browser
        .wait_js(
            "the card form",
            UI,
            "return !!document.getElementById('b24-number');",
        )
        .await;
    fill_card(&w.browser, cards::APPROVED, "123").await;
    click_pay(&w.browser).await;
    wait_outcome(&w.browser, true).await;
    let paid = w.stack.wait_paid(id, UI).await;
    assert_eq!(paid.pay_calls, 1, "{paid:?}");
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}

pub async fn a_frame_never_given_a_message_gives_up_after_three_reloads(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("25.00", "EUR");
    // The page loads (goto returns) only after DOMContentLoaded: by then the frame has loaded,
    // waited and reloaded three times, each load before DOMContentLoaded, and given up.
    let dcl = open_slow(&w, id, VERY_LATE_MS).await;
    let (how, loaded) = frame_load(&w.browser).await;
    assert_eq!(how, "reload");
    assert!(loaded < dcl, "the reload lost too: {loaded} < {dcl}");
    let state = wait_state(&w.browser, "the waiting state", &["error", "ready"]).await;
    assert_eq!(state, "error", "{}", root(&w.browser).await);
    // Given up: the count is cleared (a later payment page gets its three reloads again), and
    // this document stays: no fourth reload.
    w.browser
        .wait_js(
            "the reload count cleared",
            UI,
            "window.b24stays = true;
             return sessionStorage.getItem('b24pay-reloads') === null;",
        )
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stays = w
        .browser
        .eval(
            "const r = document.querySelector('.b24-app');
             return [window.b24stays === true, r && r.dataset.state];",
            vec![],
        )
        .await;
    assert_eq!(stays, serde_json::json!([true, "error"]), "reloaded again");
    w.quit().await;
}
