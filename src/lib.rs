//! b24pay widget: the page a Bitrix24 portal shows in its IFRAME-mode pay-system frame.
//!
//! | file | concern |
//! |---|---|
//! | `app.rs` | root component: theme, size, current view of the payment |
//! | `config.rs` | deployment configuration from `<meta>` tags (allowed origins, API base) |
//! | `portal/` | the portal's message: listening, origin checks, typed parsing, [`portal::PortalContext`] |
//! | `theme.rs`, `theme/` | colours and fonts from the store's computed style, WCAG contrast |
//! | `resize.rs` | `{width, height}` messages that size the iframe |
//! | `money.rs` | amounts through the browser's `Intl.NumberFormat` |
//! | `i18n/` | the text catalogue in every language |

pub mod app;
pub mod config;
pub mod i18n;
pub mod money;
pub mod portal;
pub mod resize;
pub mod theme;

pub use app::{App, Widget};

pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
