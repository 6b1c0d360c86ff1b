//! The frame follows the store page's width: the portal pins the iframe's width to any width
//! the widget posts, so the widget posts only heights, and its layout fits any width.

use super::support::*;
use b24pay_e2e::browser::BrowserKind;
use b24pay_e2e::widget::FRAME_ID;
use serde_json::Value;

/// The store page's and the frame's widths, as the customer's browser lays them out now.
async fn widths(w: &World) -> Value {
    w.browser
        .eval(
            &format!(
                "const f = document.getElementById('{FRAME_ID}');
                 const p = f.parentElement, s = getComputedStyle(p), d = document.documentElement;
                 return {{frame: f.getBoundingClientRect().width,
                         wrapper: p.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight),
                         inline: f.style.width, window: innerWidth,
                         viewport: Math.min(d.clientWidth, d.getBoundingClientRect().width),
                         // The rightmost edge of anything on the page, and (when the window
                         // is the page's width) the browser's own horizontal scroll range.
                         page: Math.max(d.style.maxWidth ? 0 : d.scrollWidth,
                             ...[...document.body.querySelectorAll('*')]
                                 .map(e => Math.ceil(e.getBoundingClientRect().right)))}};"
            ),
            vec![],
        )
        .await
}

/// Inside the frame: nothing wider than the frame.
async fn fits_inside(w: &World) -> Value {
    w.browser.enter_widget().await;
    let inside = w
        .browser
        .eval(
            "const d = document.documentElement;
             return {content: d.scrollWidth, frame: innerWidth};",
            vec![],
        )
        .await;
    w.browser.leave_widget().await;
    inside
}

pub async fn follows_the_store_page_width(kind: BrowserKind) {
    let w = World::start(kind).await;
    let id = w.stack.order("1250.50", "EUR");
    for theme in ["light", "dark"] {
        w.browser.client.set_window_size(800, 900).await.unwrap();
        w.open_form(id, theme).await;
        wait_sized(&w.browser).await;
        w.browser.leave_widget().await;
        for width in [800u32, 360, 1200] {
            w.browser.client.set_window_size(width, 900).await.unwrap();
            // Firefox's windows do not narrow below about 450 px: there the page itself is held
            // to the width (its root element), which is what the store page's layout follows.
            w.browser
                .eval(
                    "const d = document.documentElement, width = arguments[0];
                     d.style.maxWidth = innerWidth > width + 1 ? width + 'px' : '';",
                    vec![serde_json::json!(width)],
                )
                .await;
            // The frame follows at once (CSS); give the widget's height a moment to follow.
            w.browser.enter_widget().await;
            wait_sized(&w.browser).await;
            w.browser.leave_widget().await;
            let at = format!("{} {theme} at {width} px", kind.name());
            let seen = widths(&w).await;
            // The page really is that wide (a minimum window size would test nothing).
            assert!(
                seen["viewport"].as_f64().unwrap() <= width as f64 + 1.0,
                "{at}: the page did not narrow: {seen}"
            );
            let (frame, wrapper) = (
                seen["frame"].as_f64().unwrap(),
                seen["wrapper"].as_f64().unwrap(),
            );
            assert!(
                (frame - wrapper).abs() <= 1.0,
                "{at}: the frame is not the page's width: {seen}"
            );
            assert!(
                !seen["inline"].as_str().unwrap_or_default().ends_with("px"),
                "{at}: the frame's width was pinned: {seen}"
            );
            assert!(
                seen["page"].as_f64() <= seen["viewport"].as_f64(),
                "{at}: the store page scrolls sideways: {seen}"
            );
            let inside = fits_inside(&w).await;
            assert!(
                inside["content"].as_f64() <= inside["frame"].as_f64(),
                "{at}: the widget overflows its frame: {inside}"
            );
        }
    }
    w.quit().await;
}
