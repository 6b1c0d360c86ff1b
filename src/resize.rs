//! Auto-resize: tells the portal the widget's size so it can size the iframe.
//!
//! The portal sets `iframe.style.width/height = value + "px"` for a message `{width, height}`
//! from the widget's hostname. We measure the content element (never the document, whose
//! height follows the iframe and would make the iframe grow forever), coalesce changes to one
//! message per animation frame, and send only when the size differs from the last one sent.
//! Until the portal's origin is known the message goes to each configured allowed origin
//! (the browser drops the ones that do not match the parent), never to `"*"`.

use crate::config::Origin;
use crate::portal::PortalContext;
use leptos::html::Div;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A size in whole CSS pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

/// Observes `target` and posts its size to the portal whenever it changes, for as long as
/// the calling component lives. Needs the [`PortalContext`].
pub fn use_auto_resize(target: NodeRef<Div>) {
    let ctx = expect_context::<PortalContext>();
    target.on_load(move |element| {
        let element: web_sys::Element = element.into();
        let observed = element.clone();
        let last: Rc<Cell<Option<Size>>> = Rc::new(Cell::new(None));
        let scheduled = Rc::new(Cell::new(false));
        let on_resize = Closure::<dyn Fn()>::new(move || {
            if scheduled.replace(true) {
                return;
            }
            let (element, last, scheduled) = (element.clone(), last.clone(), scheduled.clone());
            request_animation_frame(move || {
                scheduled.set(false);
                let targets = targets(ctx);
                let size = measure(&element);
                if !targets.is_empty() && last.get() != Some(size) {
                    last.set(Some(size));
                    post_size(size, &targets);
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

/// The content's size: its border box rounded up (a fraction cut off would show a scrollbar),
/// and the iframe's own width unless the content needs more — posting the content's width
/// would shrink the iframe by the width of a scrollbar whenever one appears.
pub fn measure(element: &web_sys::Element) -> Size {
    let rect = element.get_bounding_client_rect();
    let viewport_width = web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .unwrap_or(0.0);
    let content_width = (element.scroll_width() as f64).max(rect.width());
    Size {
        width: viewport_width.max(content_width).ceil() as u32,
        height: rect.height().ceil() as u32,
    }
}

/// The portal's origin once known, else every allowed origin. Empty once the widget is gone
/// (a frame requested before unmounting can still run).
fn targets(ctx: PortalContext) -> Vec<Origin> {
    match ctx.origin.try_get_untracked() {
        Some(Some(origin)) => vec![origin],
        Some(None) => ctx
            .config
            .try_with_value(|c| c.allowed_origins.clone())
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// Posts `{width, height}` (plain numbers) to the parent window, once per target origin.
pub fn post_size(size: Size, targets: &[Origin]) {
    let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) else {
        return;
    };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"width".into(), &size.width.into());
    let _ = js_sys::Reflect::set(&message, &"height".into(), &size.height.into());
    for origin in targets {
        let _ = parent.post_message(&message, origin.as_str());
    }
}
