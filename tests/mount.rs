#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn app_mounts_and_renders() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let _handle = leptos::mount::mount_to(host.clone().unchecked_into(), b24pay_widget::App);
    leptos::task::tick().await;
    // Until the portal's message arrives: the root, a main landmark with the page's heading
    // and the live region, and no visible content (index.html's skeleton stands in).
    let root = host
        .query_selector("main.b24-app")
        .unwrap()
        .expect("the widget's root");
    assert_eq!(root.get_attribute("data-state").as_deref(), Some("waiting"));
    assert!(root.query_selector("h1").unwrap().is_some());
    assert!(root.query_selector("[aria-live]").unwrap().is_some());
}
