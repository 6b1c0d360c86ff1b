//! The widget on the store page: sized to its content, themed like the store, deaf to other
//! origins, in the language the store forces.

use super::support::*;
use b24pay_e2e::browser::{contrast, luminance, parse_rgb, BrowserKind, Image};
use b24pay_e2e::widget::FRAME_ID;
use serde_json::json;

pub async fn sizes_itself_to_its_content(kind: BrowserKind) {
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

pub async fn follows_the_store_theme(kind: BrowserKind) {
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

pub async fn ignores_messages_from_a_foreign_origin(kind: BrowserKind) {
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

pub async fn speaks_the_language_the_store_forces(kind: BrowserKind) {
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
