//! The world every scenario runs in, and the widget's helpers: open the store page, wait for
//! the widget, type a card, pay, wait for the outcome.

use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use fantoccini::Locator;
use serde_json::Value;
use std::time::Duration;

/// Generous for a loaded 2-core machine; the waits return as soon as the condition holds.
pub const UI: Duration = Duration::from_secs(20);

pub struct World {
    pub stack: Stack,
    pub browser: Browser,
}

impl World {
    pub async fn start(kind: BrowserKind) -> World {
        let (stack, browser) = tokio::join!(
            Stack::start(StackOptions::new(StoreKind::Sqlite).with_widget()),
            Browser::start(kind)
        );
        World { stack, browser }
    }

    /// Opens a payment's store page and waits, inside the widget's frame, until the widget has
    /// taken the portal's message. Leaves the driver in the widget's frame.
    pub async fn open(&self, payment_id: u64, theme: &str) {
        self.browser
            .goto(&self.stack.pay_page(payment_id, theme))
            .await;
        self.browser.enter_widget().await;
        // On a timeout, the message names the state the widget was left in (`waiting`: no
        // portal message was accepted).
        b24pay_e2e::wait::until("the widget ready", UI, || async {
            let state = self
                .browser
                .client
                .execute(
                    "const r = document.querySelector('.b24-app');
                     return r ? String(r.dataset.state) : 'no .b24-app (the wasm has not mounted)';",
                    vec![],
                )
                .await
                .map_err(|e| e.to_string())?;
            match state.as_str() {
                Some("ready") => Ok(()),
                _ => Err(state.to_string()),
            }
        })
        .await;
        // Said, not failed: the widget recovers a message lost to the portal's late `onload`
        // by reloading (loader.js); how often that happens is worth seeing in the output.
        let how = self
            .browser
            .eval(
                "return performance.getEntriesByType('navigation')[0].type;",
                vec![],
            )
            .await;
        let how = how.as_str().unwrap_or_default();
        if how != "navigate" {
            eprintln!("the widget's frame got its portal message only after a {how}");
        }
    }

    /// [`open`](Self::open), then waits for the card form.
    pub async fn open_form(&self, payment_id: u64, theme: &str) {
        self.open(payment_id, theme).await;
        self.browser
            .wait_js(
                "the card form",
                UI,
                "return !!document.getElementById('b24-number');",
            )
            .await;
    }

    pub async fn quit(self) {
        self.browser.quit().await;
    }
}

/// The widget root's state as the frame's script sees it.
pub async fn root(b: &Browser) -> Value {
    b.eval(
        "const r = document.querySelector('.b24-app');
         const cs = getComputedStyle(r);
         return {state: r.dataset.state, scheme: r.dataset.scheme,
                 ignored: Number(r.dataset.ignoredMessages || 0),
                 color: cs.color, background: cs.backgroundColor, font: cs.fontFamily,
                 text: r.innerText};",
        vec![],
    )
    .await
}

/// Waits (in the widget's frame) until the portal has sized the iframe to the content: the
/// frame's viewport is no longer the portal's default 350 px, equals the content's height, and
/// nothing overflows (no scrollbars). Returns the height.
pub async fn wait_sized(b: &Browser) -> f64 {
    let v = b
        .wait_js(
            "the iframe sized to the widget's content, without scrollbars",
            UI,
            "const d = document.documentElement;
             const h = document.querySelector('.b24-app').getBoundingClientRect().height;
             const fits = innerHeight !== 350 && Math.abs(innerHeight - h) <= 1
                 && d.scrollHeight <= innerHeight && d.scrollWidth <= innerWidth
                 && innerWidth === d.clientWidth;
             return fits ? innerHeight : null;",
        )
        .await;
    v.as_f64().expect("a height")
}

/// Types the card into the form (in the widget's frame).
pub async fn fill_card(b: &Browser, number: &str, cvc: &str) {
    for (id, text) in [
        ("b24-number", number),
        ("b24-expiry", "1234"),
        ("b24-cvc", cvc),
    ] {
        let field = b
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("field #{id}: {e}"));
        field.send_keys(text).await.expect("typing");
    }
}

pub async fn click_pay(b: &Browser) {
    b.client
        .find(Locator::Css("form.b24-form button[type=submit]"))
        .await
        .expect("the Pay button")
        .click()
        .await
        .expect("click Pay");
}

/// Waits for the final screen; its text.
pub async fn wait_outcome(b: &Browser, success: bool) -> String {
    let script = format!(
        "const o = document.querySelector('.b24-outcome');
         return o && (!!o.querySelector('.b24-ok') === {success}) ? o.innerText : null;"
    );
    b.wait_js(
        if success {
            "the success screen"
        } else {
            "the failure screen"
        },
        UI,
        &script,
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}
