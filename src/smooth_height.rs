//! Eases a container's height when its content is swapped for content of another size (the
//! card fields for the challenge, the form for the receipt), so the portal's iframe — which
//! the resize module sizes from our content every frame — grows or shrinks smoothly instead of
//! jumping. With `prefers-reduced-motion` the stylesheet drops the transition and the change
//! is immediate.

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Must match the `transition` of `.b24pay-screens` in `style/form.css`, plus a margin.
const DURATION_MS: i32 = 300;

#[derive(Clone, Copy)]
pub struct SmoothHeight {
    pub node: NodeRef<Div>,
}

impl SmoothHeight {
    pub fn new() -> SmoothHeight {
        SmoothHeight {
            node: NodeRef::new(),
        }
    }

    /// Call just before the content is replaced: eases from the height shown now to the new
    /// content's, once that is in place (a microtask runs before the browser paints, so the new
    /// height is never shown abruptly).
    pub fn swap(&self) {
        let Some(el) = self.node.get_untracked() else {
            return;
        };
        let old = el.offset_height();
        let ease = Closure::once_into_js(move || ease(&el, old));
        if let Some(window) = web_sys::window() {
            window.queue_microtask(ease.unchecked_ref());
        }
    }
}

impl Default for SmoothHeight {
    fn default() -> Self {
        SmoothHeight::new()
    }
}

fn ease(el: &HtmlElement, old: i32) {
    let style = el.style();
    let _ = style.remove_property("height");
    let new = el.offset_height();
    if old == 0 || (new - old).abs() < 2 {
        return;
    }
    let _ = style.set_property("height", &format!("{old}px"));
    let _ = style.set_property("overflow", "hidden");
    // Reading the layout makes the browser start the transition from the old height.
    let _ = el.offset_height();
    let _ = style.set_property("height", &format!("{new}px"));
    // Then back to the content's own height, which keeps changing (errors come and go).
    let el = el.clone();
    let done = Closure::once_into_js(move || {
        let style = el.style();
        let _ = style.remove_property("height");
        let _ = style.remove_property("overflow");
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            done.unchecked_ref(),
            DURATION_MS,
        );
    }
}
