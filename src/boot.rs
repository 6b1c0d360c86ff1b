//! The page's static skeleton (`index.html`'s `#b24-boot`): the form's boxes, in the page
//! before the wasm, sized by `loader.js` to what the portal's message asks for, so the frame has
//! its height at plain-JavaScript speed. The app removes it when its own first content is in
//! the page, in the same frame, so the customer never sees both or a jump between them.

/// The skeleton's id in `index.html`.
pub const ID: &str = "b24-boot";

/// Removes the skeleton, if the page has one (tests and other hosts may not).
pub fn remove() {
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(ID))
    {
        boot.remove();
    }
}
