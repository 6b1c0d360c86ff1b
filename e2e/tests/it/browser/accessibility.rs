//! Accessibility, audited: axe-core (npm, `tools/node_modules/axe-core`) runs inside the frame
//! on every state — ready, field errors, declined, challenge, paid, a payment that cannot go on,
//! the waiting state — at WCAG 2.2 AA and axe's best practices, with no violation allowed; and a
//! payment made with the keyboard alone, from the first Tab to the outcome.
//!
//! In the light store only: inside the frame axe cannot see the store page behind the widget's
//! transparent background, so on a dark store it would judge light text against white.

use super::support::*;
use b24pay_e2e::browser::{Browser, BrowserKind};
use b24pay_e2e::cards;
use b24pay_e2e::widget::FRAME_ID;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::{json, Value};

const RULES: &[&str] = &[
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

fn axe_source() -> String {
    let path = b24pay_e2e::repo_root().join("tools/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. scripts/setup.sh installs axe-core from tools/package.json.",
            path.display()
        )
    })
}

/// axe-core's violations in the current document (the widget's frame), as readable lines.
async fn violations(b: &Browser, axe: &str) -> Vec<String> {
    b.eval(&format!("{axe};return true;"), vec![]).await;
    let found = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},
                                resultTypes: ['violations']})
                .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help
                    + ' — ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                .catch(e => done(['axe failed: ' + e]));",
            vec![json!(RULES)],
        )
        .await
        .expect("axe runs");
    serde_json::from_value(found).expect("a list")
}

async fn audit(b: &Browser, axe: &str, state: &str, kind: BrowserKind) {
    // As the customer sees it once it has appeared: a screen fading in is judged at full
    // opacity, not halfway. An animation whose element is replaced meanwhile is cancelled, and
    // its `finished` rejects: that one has nothing left to wait for.
    b.client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             Promise.all(document.getAnimations().filter(a => a.effect && a.effect.getTiming()
                 .iterations !== Infinity).map(a => a.finished.catch(() => null)))
                 .then(() => done(true));",
            vec![],
        )
        .await
        .expect("animations end");
    let found = violations(b, axe).await;
    assert!(
        found.is_empty(),
        "{} — {state}: {} accessibility violation(s):\n{}",
        kind.name(),
        found.len(),
        found.join("\n")
    );
}

async fn wait_for(b: &Browser, what: &str, script: &str) -> Value {
    b.wait_js(what, UI, script).await
}

pub async fn no_violations_in_any_state(kind: BrowserKind) {
    let axe = axe_source();
    let w = World::start(kind).await;
    let b = &w.browser;
    let id = w.stack.order("1250.50", "EUR");
    w.open_form(id, "light").await;
    audit(b, &axe, "ready", kind).await;

    // Pay with nothing typed: every field says what is wrong.
    click_pay(b).await;
    wait_for(
        b,
        "the field errors",
        "return document.querySelectorAll('.b24-field-error').length >= 3;",
    )
    .await;
    audit(b, &axe, "field errors", kind).await;

    fill_card(b, cards::INSUFFICIENT_FUNDS, "123").await;
    click_pay(b).await;
    wait_for(
        b,
        "the decline notice",
        "return !!document.querySelector('.b24-notice');",
    )
    .await;
    audit(b, &axe, "declined", kind).await;

    // Another card: the challenge step, then paid.
    for field in ["b24-number", "b24-cvc"] {
        b.eval(
            "const i = document.getElementById(arguments[0]); i.value = '';
             i.dispatchEvent(new InputEvent('input', {bubbles: true, inputType: 'deleteContentBackward'}));",
            vec![json!(field)],
        )
        .await;
    }
    fill_card_number_and_cvc(b, cards::CHALLENGE, "123").await;
    click_pay(b).await;
    wait_for(
        b,
        "the challenge step",
        "return !!document.getElementById('b24-code');",
    )
    .await;
    audit(b, &axe, "challenge", kind).await;
    b.client
        .find(Locator::Id("b24-code"))
        .await
        .unwrap()
        .send_keys(cards::CHALLENGE_CODE)
        .await
        .unwrap();
    b.client
        .find(Locator::Css("form.b24-challenge button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_outcome(b, true).await;
    audit(b, &axe, "paid", kind).await;
    b.leave_widget().await;

    // A pay system switched to LIVE with no live acquirer: the payment cannot go on here.
    w.stack.set_setting("B24PAY_MODE", "LIVE").await;
    let live = w.stack.order("49.99", "USD");
    w.open_form(live, "light").await;
    fill_card(b, cards::APPROVED, "123").await;
    click_pay(b).await;
    wait_outcome(b, false).await;
    audit(b, &axe, "cannot go on here", kind).await;
    b.leave_widget().await;

    // The widget's address opened on its own, with no portal to send it anything.
    b.goto(&w.stack.public_url).await;
    wait_for(
        b,
        "the waiting state",
        "const r = document.querySelector('main.b24-app');
         return !!(r && r.dataset.state === 'error');",
    )
    .await;
    audit(b, &axe, "waiting for the store", kind).await;
    w.quit().await;
}

/// Types the number and CVC only (the expiry is already there).
async fn fill_card_number_and_cvc(b: &Browser, number: &str, cvc: &str) {
    for (id, text) in [("b24-number", number), ("b24-cvc", cvc)] {
        b.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
}

/// The focused element's id (or tag), in the current frame.
async fn focused(b: &Browser) -> String {
    b.eval(
        "const e = document.activeElement;
         return e ? (e.id || e.tagName.toLowerCase()) : '';",
        vec![],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Keys pressed and released one after another on the keyboard, going to whatever has focus;
/// `shift` held down around them.
async fn press(b: &Browser, keys: &str, shift: bool) {
    let mut actions = KeyActions::new("keyboard".into());
    let shift_key = char::from(Key::Shift);
    if shift {
        actions = actions.then(KeyAction::Down { value: shift_key });
    }
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    if shift {
        actions = actions.then(KeyAction::Up { value: shift_key });
    }
    b.client.perform_actions(actions).await.expect("keys");
}

pub async fn pays_with_the_keyboard_alone(kind: BrowserKind) {
    let w = World::start(kind).await;
    let b = &w.browser;
    let id = w.stack.order("3000", "RUB");
    w.open_form(id, "light").await;
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    // The keyboard's focus arrives at the frame from the store page.
    b.leave_widget().await;
    b.eval(
        &format!("document.getElementById('{FRAME_ID}').focus();"),
        vec![],
    )
    .await;
    b.enter_widget().await;
    // From the top of the frame: the fields in reading order, then the Pay button.
    let mut order = Vec::new();
    for _ in 0..4 {
        press(b, &tab, false).await;
        order.push(focused(b).await);
    }
    assert_eq!(
        order,
        ["b24-number", "b24-expiry", "b24-cvc", "button"],
        "{}: Tab order",
        kind.name()
    );
    // Back to the number (Shift+Tab three times), then type and Tab through, Enter to pay.
    press(b, &tab.repeat(3), true).await;
    assert_eq!(focused(b).await, "b24-number");
    let number = cards::APPROVED.replace(' ', "");
    press(b, &format!("{number}{tab}1234{tab}123"), false).await;
    assert_eq!(focused(b).await, "b24-cvc");
    press(b, &enter, false).await;
    let text = wait_outcome(b, true).await;
    assert!(text.contains("3"), "{text}");
    assert_eq!(
        focused(b).await,
        "b24-outcome-title",
        "{}: focus on the outcome",
        kind.name()
    );
    w.stack.wait_paid(id, UI).await;
    assert_eq!(w.stack.charges(id).await, 1);
    w.quit().await;
}
