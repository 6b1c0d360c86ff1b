//! After paying: whether the store already knows (the API's `portal_notified`, asked again a
//! few times while it does not), and once it does, the way back to the store by itself — a
//! short visible countdown the customer can cancel, then the whole window goes to the
//! portal's `RETURN_URL`, as customers of hosted payment pages expect.
//!
//! The countdown is read out once when it starts, not every second.

use super::outcome::RETURN_ID;
use crate::announce::use_announcer;
use crate::focus::focus_soon;
use crate::fresh::Fresh;
use crate::i18n::{use_locale, Counted, Key};
use crate::payment::{Notified, Payment};
use gloo_timers::callback::Interval;
use leptos::prelude::*;

/// Seconds shown before going back to the store.
pub const COUNTDOWN_S: u32 = 5;

/// The store's status line under the paid text, and the countdown once the store knows.
pub fn store_status(payment: Payment, return_url: Option<String>) -> impl IntoView {
    let locale = use_locale();
    let announcer = use_announcer();
    let left = RwSignal::new(None::<u32>);
    let timer = StoredValue::new_local(None::<Interval>);
    Effect::new(move |started: Option<bool>| {
        let notified = payment.notified();
        if started == Some(true) {
            return true;
        }
        match (notified, &return_url) {
            (Notified::Yes, Some(url)) => {
                let url = url.clone();
                left.set(Some(COUNTDOWN_S));
                let tick = Interval::new(1000, move || tick(left, &url));
                timer.set_value(Some(tick));
                let status = locale.text(Key::StoreNotified);
                let countdown = locale.count(Counted::Returning, COUNTDOWN_S);
                announcer.say([status, " ", &countdown].concat());
                true
            }
            (Notified::Pending, _) => false,
            (other, _) => {
                announcer.say(locale.text(status_key(other)).to_owned());
                true
            }
        }
    });
    let stay = move |_| {
        // Dropping the interval stops it.
        timer.set_value(None);
        left.set(None);
        focus_soon(RETURN_ID);
    };
    view! {
        <p class="b24-muted">{move || locale.text(status_key(payment.notified()))}</p>
        {move || {
            Fresh(left.get()
                .map(|n| {
                    view! {
                        <p>{locale.count(Counted::Returning, n)}</p>
                        <button type="button" class="b24-link" on:click=stay>
                            {locale.text(Key::StayHere)}
                        </button>
                    }
                }))
        }}
    }
}

fn status_key(notified: Notified) -> Key {
    match notified {
        Notified::Pending => Key::StoreNotifying,
        Notified::Yes => Key::StoreNotified,
        Notified::Later => Key::StoreNotifyLater,
    }
}

/// One second of the countdown; at zero, the whole window goes back to the store.
fn tick(left: RwSignal<Option<u32>>, url: &str) {
    let Some(Some(n)) = left.try_get_untracked() else {
        return;
    };
    if n > 1 {
        left.set(Some(n - 1));
        return;
    }
    left.set(None);
    // The portal's iframe is sandboxed with `allow-top-navigation`; opened on its own, the
    // top window is this one.
    if let Some(top) = web_sys::window().and_then(|w| w.top().ok().flatten()) {
        let _ = top.location().set_href(url);
    }
}
