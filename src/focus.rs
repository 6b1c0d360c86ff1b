//! Moving keyboard focus by element id: to the first invalid field on submit, to the outcome
//! when a request ends. By id rather than typed node references, which Leptos compiles into
//! code per element type.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Focuses the element with `id`, if it is in the page.
pub fn focus_now(id: &str) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

/// Focuses the element with `id` once the view being built now is in the page.
pub fn focus_soon(id: &'static str) {
    if let Some(window) = web_sys::window() {
        let task = Closure::once_into_js(move || focus_now(id));
        window.queue_microtask(task.unchecked_ref());
    }
}
