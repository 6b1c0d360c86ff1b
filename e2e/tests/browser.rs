//! The whole product in real browsers: the sandbox's store page (`127.0.0.1`) hosts the widget
//! served by the real `b24pay` process (`localhost`, another origin) exactly as a Bitrix24
//! portal does; the customer pays with the test cards; the sandbox is asked what the portal
//! would show. Every scenario runs in headless Chromium and in headless Firefox ESR. They differ
//! only in theming: Firefox's portal message carries no computed style values, so the widget
//! shows its default theme there.

use b24pay_e2e::browser::{contrast, luminance, parse_rgb, Browser, BrowserKind, Image};
use b24pay_e2e::cards;
use b24pay_e2e::stack::{Stack, StackOptions};
use b24pay_e2e::store::StoreKind;
use b24pay_e2e::widget::FRAME_ID;
use b24pay_sandbox::Fault;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use serde_json::{json, Value};
use std::time::Duration;

/// Generous for a loaded 2-core machine; the waits return as soon as the condition holds.
const UI: Duration = Duration::from_secs(20);

/// One test per browser for each scenario `async fn name(kind: BrowserKind)`.
macro_rules! in_both_browsers {
    ($($name:ident),* $(,)?) => {
        mod chromium {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(b24pay_e2e::browser::BrowserKind::Chromium).await
                }
            )*
        }
        mod firefox {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(b24pay_e2e::browser::BrowserKind::Firefox).await
                }
            )*
        }
    };
}

in_both_browsers!(
    sizes_itself_to_its_content,
    follows_the_store_theme,
    ignores_messages_from_a_foreign_origin,
    approved_card_pays,
    declined_card_shows_the_reason,
    challenge_card_pays_after_the_code,
    double_submit_charges_once,
    portal_outage_still_ends_paid,
    speaks_the_language_the_store_forces,
);

struct World {
    stack: Stack,
    browser: Browser,
}

impl World {
    async fn start(kind: BrowserKind) -> World {
        let (stack, browser) = tokio::join!(
            Stack::start(StackOptions::new(StoreKind::Sqlite).with_widget()),
            Browser::start(kind)
        );
        World { stack, browser }
    }

    /// Opens a payment's store page and waits, inside the widget's frame, until the widget has
    /// taken the portal's message. Leaves the driver in the widget's frame.
    async fn open(&self, payment_id: u64, theme: &str) {
        self.browser
            .goto(&self.stack.pay_page(payment_id, theme))
            .await;
        self.browser.enter_widget().await;
        self.browser
            .wait_js(
                "the widget ready",
                UI,
                "const r = document.querySelector('.b24-app');
                 return !!(r && r.dataset.state === 'ready');",
            )
            .await;
    }

    /// [`open`](Self::open), then waits for the card form.
    async fn open_form(&self, payment_id: u64, theme: &str) {
        self.open(payment_id, theme).await;
        self.browser
            .wait_js(
                "the card form",
                UI,
                "return !!document.getElementById('b24-number');",
            )
            .await;
    }

    async fn quit(self) {
        self.browser.quit().await;
    }
}

/// The widget root's state as the frame's script sees it.
async fn root(b: &Browser) -> Value {
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
async fn wait_sized(b: &Browser) -> f64 {
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
async fn fill_card(b: &Browser, number: &str, cvc: &str) {
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

async fn click_pay(b: &Browser) {
    b.client
        .find(Locator::Css("form.b24-form button[type=submit]"))
        .await
        .expect("the Pay button")
        .click()
        .await
        .expect("click Pay");
}

/// Waits for the final screen; its text.
async fn wait_outcome(b: &Browser, success: bool) -> String {
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

async fn sizes_itself_to_its_content(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("1250.50", "EUR");
    w.open_form(id, "light").await;
    let height = wait_sized(&w.browser).await;
    w.browser.leave_widget().await;
    let style = w
        .browser
        .eval(
            &format!("return document.getElementById('{FRAME_ID}').style.height;"),
            vec![],
        )
        .await;
    assert_eq!(
        style,
        json!(format!("{height}px")),
        "the portal set the height the widget posted"
    );
    // The form is taller than the placeholder summary: it really measured its content.
    assert!(height > 150.0, "{height}");
    w.quit().await;
}

async fn follows_the_store_theme(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("1250.50", "EUR");
    let mut seen = Vec::new();
    for theme in ["light", "dark"] {
        w.open(id, theme).await;
        wait_sized(&w.browser).await;
        let r = root(&w.browser).await;
        w.browser.leave_widget().await;
        let rect = w
            .browser
            .eval(
                &format!(
                    "const f = document.getElementById('{FRAME_ID}').getBoundingClientRect();
                     const s = getComputedStyle(document.getElementById('rest-paysystem-wrapper'));
                     return {{x: f.x, y: f.y, w: f.width, h: f.height, dpr: devicePixelRatio,
                             storeColor: s.color, storeFont: s.fontFamily}};"
                ),
                vec![],
            )
            .await;
        let shot = Image::decode(&w.browser.screenshot().await);
        let px = |k: &str| (rect[k].as_f64().unwrap() * rect["dpr"].as_f64().unwrap()) as u32;
        let (x, y, fw, fh) = (px("x"), px("y"), px("w"), px("h"));
        // What the customer sees behind the widget's text, and beside the frame on the store.
        let behind = shot.dominant(x, y, fw, fh);
        let beside = shot.dominant(x.saturating_sub(16), y, 12, fh);
        let text = parse_rgb(r["color"].as_str().unwrap()).expect("an opaque text colour");
        std::fs::write(
            std::env::temp_dir().join(format!("b24pay-e2e-{}-{theme}.png", kind.name())),
            w.browser.screenshot().await,
        )
        .ok();
        assert!(
            contrast(text, behind) >= 4.5,
            "{} {theme}: text {text:?} on {behind:?} is not readable ({:.2}:1)",
            kind.name(),
            contrast(text, behind)
        );
        if kind.sends_computed_style() {
            assert_eq!(r["scheme"], json!(theme), "{r}");
            // Transparent: the store's own surface shows through the frame.
            let same = behind
                .iter()
                .zip(beside)
                .all(|(a, b)| (*a as i32 - b as i32).abs() <= 3);
            assert!(same, "{theme}: behind {behind:?}, beside {beside:?}");
            match theme {
                "light" => assert!(luminance(behind) > 0.6, "{behind:?}"),
                _ => assert!(luminance(behind) < 0.1, "{behind:?}"),
            }
            assert_eq!(r["font"], rect["storeFont"], "the store's font");
        } else {
            // No style values from Firefox: the default theme, whatever the store's.
            assert_eq!(r["scheme"], json!("auto"), "{r}");
        }
        seen.push((r["color"].clone(), r["background"].clone()));
    }
    if kind.sends_computed_style() {
        assert_ne!(seen[0], seen[1], "light and dark stores look different");
    } else {
        assert_eq!(seen[0], seen[1], "the same default theme on both stores");
    }
    w.quit().await;
}

/// A page on a third origin, framed by the store page next to the widget, that posts a forged
/// portal message (another amount and colours) to every other frame of the store page.
const FORGER: &str = r#"<!doctype html><meta charset="utf-8"><script>
const forged = {
  shopId: "evil",
  BX_SYSTEM_PARAMS: {RETURN_URL: "https://evil.example/", PAYSYSTEM_ID: "1", PAYMENT_ID: "1",
                     SUM: "1", CURRENCY: "USD"},
  BX_COMPUTED_STYLE: {color: "rgb(255, 0, 0)", backgroundColor: "rgb(0, 255, 0)",
                      fontFamily: "Impact", fontSize: "40px"}
};
for (let i = 0; i < parent.frames.length; i++) {
  if (parent.frames[i] !== window) parent.frames[i].postMessage(forged, "*");
}
document.title = "posted";
</script>"#;

async fn ignores_messages_from_a_foreign_origin(kind: BrowserKind) {
    let w = World::start(kind).await;
    // The forger shares the portal's hostname (127.0.0.1) on another port: only an exact
    // origin check refuses it (the portal's own hostname check would not).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let forger = format!("http://{}/forger", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/forger",
            axum::routing::get(|| async { axum::response::Html(FORGER) }),
        );
        axum::serve(listener, app).await.unwrap();
    });
    let id = w.stack.order("1250.50", "EUR");
    w.open(id, "light").await;
    let before = root(&w.browser).await;
    assert_eq!(before["ignored"], json!(0), "{before}");
    w.browser.leave_widget().await;
    w.browser
        .eval(
            "const f = document.createElement('iframe');
             f.src = arguments[0]; f.id = 'forger';
             document.body.appendChild(f);",
            vec![json!(forger)],
        )
        .await;
    w.browser.enter_widget().await;
    w.browser
        .wait_js(
            "the forged message counted as ignored",
            UI,
            "return document.querySelector('.b24-app').dataset.ignoredMessages === '1';",
        )
        .await;
    let after = root(&w.browser).await;
    for key in ["state", "scheme", "color", "background", "font", "text"] {
        assert_eq!(after[key], before[key], "{key} changed: {after}");
    }
    assert!(
        after["text"].as_str().unwrap().contains("1,250.50"),
        "{after}"
    );
    server.abort();
    w.quit().await;
}

async fn approved_card_pays(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("1250.50", "EUR");
    w.open_form(id, "light").await;
    let label = w
        .browser
        .eval(
            "return document.querySelector('label[for=b24-number]').innerText;",
            vec![],
        )
        .await;
    assert!(
        label
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("card"),
        "the number field is labelled: {label}"
    );
    fill_card(&w.browser, "4242 4242 4242 4242", "123").await;
    let pay = w
        .browser
        .eval(
            "return document.querySelector('form.b24-form button[type=submit]').innerText;",
            vec![],
        )
        .await;
    assert!(
        pay.as_str().unwrap_or_default().contains("1,250.50"),
        "the button shows the amount: {pay}"
    );
    click_pay(&w.browser).await;
    let text = wait_outcome(&w.browser, true).await;
    assert!(text.contains("4242"), "the card used is named: {text}");
    let paid = w.stack.wait_paid(id, UI).await;
    let ps = &paid.ps;
    assert_eq!(paid.pay_calls, 1);
    assert!(
        ps.invoice_id
            .as_deref()
            .is_some_and(|t| t.starts_with("tx_test_")),
        "{ps:?}"
    );
    assert_eq!(
        ps.sum.as_deref().map(|s| s.parse::<f64>().ok()),
        Some(Some(1250.5))
    );
    assert_eq!(ps.currency.as_deref(), Some("EUR"));
    assert!(
        ps.card_number
            .as_deref()
            .is_some_and(|c| c.ends_with("4242") && !c.contains("424242")),
        "masked card: {ps:?}"
    );
    assert!(ps.status_code.is_some(), "{ps:?}");
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}

async fn speaks_the_language_the_store_forces(kind: BrowserKind) {
    // German is not in the wasm: its catalogue comes from the companion (`locales/de.json`)
    // through the page's CSP, and the form appears in German, not first in English.
    let w = World::start(kind).await;
    w.stack.set_language("de").await;
    let id = w.stack.order("1250.50", "EUR");
    w.open_form(id, "light").await;
    let seen = w
        .browser
        .eval(
            "return {lang: document.querySelector('.b24-app').lang,
                     label: document.querySelector('label[for=b24-number]').innerText,
                     pay: document.querySelector('button[type=submit]').innerText};",
            vec![],
        )
        .await;
    assert_eq!(seen["lang"], "de", "{seen}");
    assert_eq!(seen["label"], "Kartennummer", "{seen}");
    assert_eq!(seen["pay"], "1.250,50\u{a0}€ bezahlen", "{seen}");
    w.quit().await;
}

async fn declined_card_shows_the_reason(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("3000", "RUB");
    w.open_form(id, "light").await;
    let before = wait_sized(&w.browser).await;
    fill_card(&w.browser, cards::INSUFFICIENT_FUNDS, "123").await;
    click_pay(&w.browser).await;
    let notice = w
        .browser
        .wait_js(
            "the decline notice",
            UI,
            "const n = document.querySelector('.b24-notice');
             return n && n.innerText.trim() ? n.innerText : null;",
        )
        .await;
    let notice = notice.as_str().unwrap().to_lowercase();
    assert!(
        notice.contains("fund"),
        "the reason in plain words: {notice}"
    );
    // The form stays, filled in, so the customer can use another card.
    let number = w
        .browser
        .eval(
            "return document.getElementById('b24-number').value;",
            vec![],
        )
        .await;
    assert!(
        number.as_str().unwrap().ends_with("9995"),
        "card kept: {number}"
    );
    // The notice made the content taller; the frame followed (once its height easing is over:
    // at its start the frame still has the old height).
    w.browser
        .wait_js(
            "the frame grown for the notice",
            UI,
            &format!("return innerHeight > {before} + 8;"),
        )
        .await;
    let after = wait_sized(&w.browser).await;
    assert!(after > before, "{before} -> {after}");
    let p = w.stack.payment(id);
    assert!(!p.paid && p.pay_calls == 0, "{p:?}");
    assert_eq!(w.stack.charges(id).await, 0);
    w.quit().await;
}

async fn challenge_card_pays_after_the_code(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("49.99", "USD");
    w.open_form(id, "light").await;
    fill_card(&w.browser, cards::CHALLENGE, "123").await;
    click_pay(&w.browser).await;
    let code = b24pay_e2e::wait::until("the inline challenge code field", UI, || async {
        w.browser.client.find(Locator::Id("b24-code")).await
    })
    .await;
    assert!(!w.stack.payment(id).paid, "nothing is paid before the code");
    code.send_keys(cards::CHALLENGE_CODE)
        .await
        .expect("typing the code");
    w.browser
        .client
        .find(Locator::Css("form.b24-challenge button[type=submit]"))
        .await
        .expect("the challenge's submit button")
        .click()
        .await
        .expect("click");
    wait_outcome(&w.browser, true).await;
    let paid = w.stack.wait_paid(id, UI).await;
    assert_eq!(paid.pay_calls, 1);
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}

async fn double_submit_charges_once(kind: BrowserKind) {
    let w = World::start(kind).await;
    // A real double click on Pay.
    let first = w.stack.order("3000", "RUB");
    w.open_form(first, "light").await;
    fill_card(&w.browser, cards::APPROVED, "123").await;
    let button = w
        .browser
        .client
        .find(Locator::Css("form.b24-form button[type=submit]"))
        .await
        .expect("the Pay button");
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: button,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    w.browser
        .client
        .perform_actions(mouse)
        .await
        .expect("double click");
    wait_outcome(&w.browser, true).await;
    w.stack.wait_paid(first, UI).await;

    // Click, click and Enter in the same task: no network round trip can finish in between.
    let second = w.stack.order("3000", "RUB");
    w.open_form(second, "light").await;
    fill_card(&w.browser, cards::APPROVED, "123").await;
    w.browser
        .eval(
            "const b = document.querySelector('form.b24-form button[type=submit]');
             b.click(); b.click(); b.form.requestSubmit();
             document.getElementById('b24-cvc').dispatchEvent(
               new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));",
            vec![],
        )
        .await;
    wait_outcome(&w.browser, true).await;
    w.stack.wait_paid(second, UI).await;

    for id in [first, second] {
        assert_eq!(w.stack.charges(id).await, 1, "payment {id} charged once");
        assert_eq!(w.stack.payment(id).pay_calls, 1, "payment {id} paid once");
    }
    let posts = w
        .stack
        .metric_sum(&[
            "b24pay_http_requests",
            "route=\"/api/v1/payments\"",
            "method=\"POST\"",
        ])
        .await;
    assert_eq!(posts, 2.0, "one confirm request per payment");
    w.quit().await;
}

async fn portal_outage_still_ends_paid(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("15000", "KZT");
    w.open_form(id, "dark").await;
    // The portal answers every pay.payment with 503 QUERY_LIMIT_EXCEEDED until it recovers;
    // reading the payment (verification) still works.
    w.stack.sandbox.inject_for(
        Fault::QueryLimitExceeded,
        1_000_000,
        ["sale.paysystem.pay.payment"],
    );
    fill_card(&w.browser, cards::APPROVED, "123").await;
    click_pay(&w.browser).await;
    wait_outcome(&w.browser, true).await;
    // Charged and shown as paid to the customer; the portal is still refusing.
    assert_eq!(w.stack.charges(id).await, 1);
    b24pay_e2e::wait::until("the portal refusing pay.payment", UI, || async {
        let refused = w
            .stack
            .metric_sum(&["b24pay_portal_errors", "QUERY_LIMIT_EXCEEDED"])
            .await;
        if refused >= 2.0 {
            Ok(refused)
        } else {
            Err(refused)
        }
    })
    .await;
    let p = w.stack.payment(id);
    assert!(!p.paid && p.pay_calls == 0, "{p:?}");
    assert!(
        w.stack.ledger().await.outbox_depth().await >= 1,
        "the portal call is owed"
    );
    w.stack.sandbox.clear_faults();
    let paid = w.stack.wait_paid(id, UI).await;
    assert_eq!(paid.pay_calls, 1, "{paid:?}");
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}
