//! Eases the payment UI's height whenever its content changes size (the challenge replacing
//! the card fields, a notice or an error appearing, the receipt replacing the form), so the
//! portal's iframe — which the resize module sizes from our content every frame — grows and
//! shrinks smoothly instead of jumping. With `prefers-reduced-motion` the stylesheet drops the
//! transition and changes are immediate.
//!
//! A `ResizeObserver` watches the content; its callback runs after layout and before paint,
//! so the outer box can be pinned at the old height and eased to the new one before the new
//! size is ever shown.

use gloo_timers::callback::Timeout;
use leptos::html::Div;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Must match the `transition` of `.b24-screens` in `style/widget.css`, plus a margin.
const DURATION_MS: u32 = 300;

/// `children` in a box whose height eases to theirs.
pub fn smooth_height(children: impl IntoView + 'static) -> impl IntoView {
    let content = NodeRef::<Div>::new();
    content.on_load(|el| observe(el.unchecked_into()));
    view! {
        <div class="b24-screens">
            <div node_ref=content>{children}</div>
        </div>
    }
}

fn observe(content: HtmlElement) {
    let last = Rc::new(Cell::new(0));
    let timer = RefCell::new(None::<Timeout>);
    let target = content.clone();
    let resized = Closure::<dyn FnMut()>::new(move || {
        let Some(outer) = target
            .parent_element()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        else {
            return;
        };
        let new = target.offset_height();
        let old = last.replace(new);
        if old == 0 || new == 0 || old == new {
            return;
        }
        let style = outer.style();
        if style
            .get_property_value("height")
            .unwrap_or_default()
            .is_empty()
        {
            // Not easing yet: start from where the eye is, the old height.
            let _ = style.set_property("height", &format!("{old}px"));
            let _ = style.set_property("overflow", "hidden");
            let _ = outer.offset_height();
        }
        let _ = style.set_property("height", &format!("{new}px"));
        // Afterwards the box follows its content again by itself. A new change restarts the
        // wait (replacing the timeout cancels the previous one).
        timer.replace(Some(Timeout::new(DURATION_MS, move || {
            let style = outer.style();
            let _ = style.remove_property("height");
            let _ = style.remove_property("overflow");
        })));
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(resized.as_ref().unchecked_ref()) {
        observer.observe(&content);
    }
    // Lives as long as the page: one payment UI per page.
    resized.forget();
}
