//! Auto-resize: tells the portal the widget's height so it can size the iframe.
//!
//! The portal sets `iframe.style.width/height = value + "px"` for a message `{width, height}`
//! from the widget's hostname, and never resets either. Only `height` is posted: a width, once
//! sent, would pin the frame at that width while the store page narrows or widens around it
//! (the frame keeps its `width: 100%` otherwise, and the widget's layout fits any width).
//!
//! We measure the content element (never the document, whose height follows the iframe and
//! would make the iframe grow forever), coalesce changes to one message per animation frame,
//! and send only when the height differs from the last one sent. Until the portal's origin is
//! known the message goes to each configured allowed origin (the browser drops the ones that
//! do not match the parent), never to `"*"`.

use crate::config::Origin;
use crate::portal::PortalContext;
use leptos::html::Main;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Observes `target` and posts its height to the portal whenever it changes, for as long as
/// the calling component lives. `ctx` is passed rather than looked up with `expect_context`,
/// whose panic message would bring `Debug` formatting of strings into the wasm.
pub fn use_auto_resize(ctx: PortalContext, target: NodeRef<Main>) {
    target.on_load(move |element| {
        let element: web_sys::Element = element.into();
        let observed = element.clone();
        let last = Rc::new(Cell::new(0u32));
        let scheduled = Rc::new(Cell::new(false));
        let on_resize = Closure::<dyn Fn()>::new(move || {
            if scheduled.replace(true) {
                return;
            }
            let (element, last, scheduled) = (element.clone(), last.clone(), scheduled.clone());
            request_animation_frame(move || {
                scheduled.set(false);
                let height = measure(&element);
                // Zero while the page's skeleton stands in (and the portal ignores it anyway).
                if height == 0 || last.get() == height {
                    return;
                }
                let targets = targets(ctx);
                if !targets.is_empty() {
                    last.set(height);
                    post_height(height, &targets);
                }
            });
        });
        let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) else {
            return;
        };
        // The initial observation reports the first size.
        observer.observe(&observed);
        let observer = StoredValue::new_local(observer);
        StoredValue::new_local(on_resize);
        on_cleanup(move || observer.with_value(|o| o.disconnect()));
    });
}

/// The content's height in whole CSS pixels, rounded up (a fraction cut off would show a
/// scrollbar).
pub fn measure(element: &web_sys::Element) -> u32 {
    element.get_bounding_client_rect().height().ceil() as u32
}

/// The portal's origin once known, else every allowed origin. Empty once the widget is gone
/// (a frame requested before unmounting can still run).
fn targets(ctx: PortalContext) -> Vec<Origin> {
    match ctx.origin_untracked() {
        Some(Some(origin)) => vec![origin],
        Some(None) => ctx
            .config()
            .try_with_value(|c| c.allowed_origins.clone())
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// Posts `{height}` (a plain number) to the parent window, once per target origin.
pub fn post_height(height: u32, targets: &[Origin]) {
    let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) else {
        return;
    };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"height".into(), &height.into());
    for origin in targets {
        let _ = parent.post_message(&message, origin.as_str());
    }
}
