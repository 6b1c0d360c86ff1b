//! The whole product in real browsers: the sandbox's store page (`127.0.0.1`) hosts the widget
//! served by the real `b24pay` process (`localhost`, another origin) exactly as a Bitrix24
//! portal does; the customer pays with the test cards; the sandbox is asked what the portal
//! would show. Every scenario runs in headless Chromium and in headless Firefox ESR. They differ
//! only in theming: Firefox's portal message carries no computed style values, so the widget
//! shows its default theme there.
//!
//! | module | scenarios |
//! |---|---|
//! | `page.rs` | sizing, theming, foreign messages, forced language |
//! | `paying.rs` | approved, declined, challenge, double submit, portal outage |
//! | `layout.rs` | the frame follows the store page's width |
//! | `accessibility.rs` | axe-core in every state, a keyboard-only payment |
//! | `stripe.rs` | 3-D Secure in Stripe.js inside the frame (localstripe), none for the test acquirer |
//! | `slow_store.rs` | a store page whose `DOMContentLoaded` comes after the frame has loaded |
//! | `support.rs` | the world (sandbox, companion, browser) and the widget's helpers |

mod accessibility;
mod layout;
mod page;
mod paying;
mod slow_store;
mod stripe;
mod support;

/// One test per browser for each scenario `async fn name(kind: BrowserKind)` of a module.
macro_rules! in_both_browsers {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod chromium {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$module::$name(b24pay_e2e::browser::BrowserKind::Chromium).await
                }
            )*
        }
        mod firefox {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$module::$name(b24pay_e2e::browser::BrowserKind::Firefox).await
                }
            )*
        }
    };
}

in_both_browsers!(
    page::sizes_itself_to_its_content,
    page::follows_the_store_theme,
    page::ignores_messages_from_a_foreign_origin,
    page::speaks_the_language_the_store_forces,
    paying::approved_card_pays,
    paying::declined_card_shows_the_reason,
    paying::challenge_card_pays_after_the_code,
    paying::double_submit_charges_once,
    paying::portal_outage_still_ends_paid,
    layout::follows_the_store_page_width,
    accessibility::no_violations_in_any_state,
    accessibility::pays_with_the_keyboard_alone,
    stripe::three_d_secure_completes_in_the_frame,
    stripe::failed_authentication_leaves_it_payable,
    slow_store::a_frame_loaded_before_the_store_page_reloads_and_pays,
    slow_store::a_frame_never_given_a_message_gives_up_after_three_reloads,
);
