use leptos::prelude::*;

pub mod i18n;

pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    view! { <p class="b24pay">"b24pay"</p> }
}
