//! b24pay widget: the page a Bitrix24 portal shows in its IFRAME-mode pay-system frame.
//!
//! | file | concern |
//! |---|---|
//! | `app.rs` | root component: theme, size, current view of the payment |
//! | `boot.rs` | the page's static skeleton, which stands in until the app has content |
//! | `config.rs` | deployment configuration from `<meta>` tags (allowed origins, API base, preview) |
//! | `portal/` | the portal's message: listening, origin checks, typed parsing, the waiting state, [`portal::PortalContext`] |
//! | `theme.rs`, `theme/` | colours and fonts from the store's computed style, WCAG contrast |
//! | `resize.rs` | `{height}` messages that size the iframe |
//! | `money.rs` | amounts through the browser's `Intl.NumberFormat` |
//! | `i18n/` | the text catalogue in every language |
//! | `form/` | the payment UI: card fields, challenge step, outcomes, after paying |
//! | `payment/` | the payment's state machine and idempotency keys |
//! | `api.rs` | calls to the companion's payment API |
//! | `stripe.rs` | the acquirer's own step (3-D Secure in Stripe.js, loaded only then) |
//! | `announce.rs` | the one live region for screen readers |
//! | `focus.rs` | focus moves to the first invalid field, to an outcome |
//! | `fresh.rs` | views replaced wholesale rather than patched (smaller wasm) |

pub mod announce;
pub mod api;
pub mod app;
pub mod boot;
pub mod config;
pub mod focus;
pub mod form;
pub mod fresh;
pub mod i18n;
pub mod money;
pub mod payment;
pub mod portal;
pub mod resize;
pub mod stripe;
pub mod theme;

pub use app::{App, Widget};

pub fn start() {
    // Panic messages in the console are for development; in release builds their formatting
    // code would be downloaded by every customer (a panic still stops with a console error).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
