#![cfg(target_arch = "wasm32")]
//! The `{height}` messages that size the portal's iframe (never a width: the portal would pin
//! the frame at it). Unframed, `parent` is this window, so the widget's messages to our own
//! origin arrive here.

#[path = "portal_support/mod.rs"]
mod support;

use support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// An element appended to the widget's content, to grow and shrink it.
fn spacer(widget: &Mounted) -> web_sys::HtmlElement {
    let spacer: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    widget.root().append_child(&spacer).unwrap();
    spacer
}

fn set_height(element: &web_sys::HtmlElement, px: u32) {
    element
        .style()
        .set_property("height", &format!("{px}px"))
        .unwrap();
}

#[wasm_bindgen_test]
async fn posts_each_new_height_once_per_frame_and_only_on_change() {
    let posts = SizePosts::listen();
    let own = own_origin();
    let widget = mount(config(&[&own]));
    frames(3).await;
    assert_eq!(
        posts.take(),
        Vec::<u32>::new(),
        "nothing to show yet (the page's skeleton stands in)"
    );
    dispatch(&own, &valid_message());
    frames(3).await;
    let first = posts.take();
    assert_eq!(first.len(), 1, "one initial size: {first:?}");
    let base = first[0];
    assert_eq!(
        base,
        widget.root().get_bounding_client_rect().height().ceil() as u32
    );
    assert!(base > 40, "the content's height, not the window's: {base}");

    let grow = spacer(&widget);
    set_height(&grow, 100);
    frames(3).await;
    assert_eq!(posts.heights(), [base + 100]);

    // Several changes within one frame: one message, with the last size.
    set_height(&grow, 300);
    set_height(&grow, 200);
    set_height(&grow, 150);
    frames(3).await;
    assert_eq!(posts.heights(), [base + 150]);

    // No change, no message; a change undone within the frame, no message.
    set_height(&grow, 150);
    frames(3).await;
    set_height(&grow, 10);
    set_height(&grow, 150);
    frames(3).await;
    assert_eq!(posts.heights(), Vec::<u32>::new());

    // Shrinking is reported like growing.
    set_height(&grow, 30);
    frames(3).await;
    set_height(&grow, 0);
    frames(3).await;
    set_height(&grow, 75);
    frames(3).await;
    assert_eq!(posts.heights(), [base + 30, base, base + 75]);

    // Fractions round up (a cut-off pixel would show a scrollbar).
    set_height(&grow, 0);
    grow.style().set_property("height", "20.25px").unwrap();
    frames(3).await;
    let exact = widget.root().get_bounding_client_rect().height();
    assert!(exact.fract() > 0.0, "{exact}");
    assert_eq!(posts.heights(), [exact.ceil() as u32]);

    // Nothing when nothing happens: the size does not feed back into itself.
    frames(10).await;
    assert!(posts.take().is_empty());
}

#[wasm_bindgen_test]
async fn never_posts_to_everyone_and_only_to_the_portal_once_known() {
    // Only another origin allowed: our own window (this origin) never receives a size, so
    // the widget did not use "*".
    let posts = SizePosts::listen();
    let widget = mount(config(&[PORTAL]));
    frames(3).await;
    let grow = spacer(&widget);
    set_height(&grow, 40);
    frames(3).await;
    assert_eq!(posts.take(), Vec::<u32>::new());
    drop(widget);

    // Both allowed: before the portal is known the size goes to each (we get our copy)...
    let own = own_origin();
    let widget = mount(config(&[PORTAL, &own]));
    let grow = spacer(&widget);
    set_height(&grow, 40);
    frames(3).await;
    assert_eq!(posts.take(), [40]);
    // ...once the portal's message came from PORTAL, only there.
    dispatch(PORTAL, &valid_message());
    frames(3).await;
    assert_eq!(widget.state(), "ready");
    set_height(&grow, 120);
    frames(3).await;
    assert_eq!(
        posts.take(),
        Vec::<u32>::new(),
        "a size went to an origin that is not the portal's"
    );
}

#[wasm_bindgen_test]
async fn stops_when_unmounted() {
    let posts = SizePosts::listen();
    let own = own_origin();
    let widget = mount(config(&[&own]));
    dispatch(&own, &valid_message());
    frames(3).await;
    assert_eq!(posts.take().len(), 1);
    let root = widget.root();
    let host = widget.host.clone();
    drop(widget);
    // Re-attach the detached content and resize it: nobody is observing any more.
    document().body().unwrap().append_child(&host).unwrap();
    host.append_child(&root).unwrap();
    let grow = root.unchecked_into::<web_sys::HtmlElement>();
    set_height(&grow, 500);
    frames(3).await;
    assert_eq!(posts.take(), Vec::<u32>::new());
    host.remove();
}
