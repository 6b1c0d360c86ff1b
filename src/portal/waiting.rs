//! When the portal's message does not come: the waiting state after a few seconds, and one
//! console warning for whoever deploys the widget, naming the origins whose messages were
//! refused and the ones that are allowed (origins only: nothing in a message is secret, but
//! nothing of its content is needed to fix the configuration either).

use super::{PortalContext, PortalError, PortalState};
use leptos::prelude::*;
use std::time::Duration;

/// Shows the waiting state and warns in the console if no usable message has arrived after
/// `wait`. The timer goes with the current owner.
pub(super) fn report_after(ctx: PortalContext, wait: Duration) {
    let timer = gloo_timers::callback::Timeout::new(wait.as_millis() as u32, move || {
        if ctx.state.try_with_untracked(|s| *s == PortalState::Waiting) != Some(true) {
            return;
        }
        ctx.state.set(PortalState::Failed(PortalError::NoMessage));
        web_sys::console::warn_1(&diagnosis(ctx, wait).into());
    });
    // Dropping a gloo timeout cancels it: stored, it lives exactly as long as the owner.
    StoredValue::new_local(timer);
}

fn diagnosis(ctx: PortalContext, wait: Duration) -> String {
    let allowed = ctx.config.with_value(|c| {
        c.allowed_origins
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect::<Vec<_>>()
    });
    let refused = ctx.refused.get_value();
    let ignored = ctx.ignored.get_untracked();
    let allowed = if allowed.is_empty() {
        "none (the page's b24pay-allowed-origins meta tag is empty)".to_owned()
    } else {
        allowed.join(", ")
    };
    let seen = match (ignored, refused.is_empty()) {
        (0, _) => {
            "No message arrived at all: is the page opened outside the portal's payment page?"
                .to_owned()
        }
        (n, true) => {
            format!("{n} message(s) from allowed origins were not the portal's payment message.")
        }
        (n, false) => format!(
            "{n} message(s) ignored; refused origins: {}.",
            refused.join(", ")
        ),
    };
    format!(
        "b24pay: no usable portal message after {} s. {seen} Allowed origins: {allowed}. \
         The companion's allowed_origins (B24PAY_ALLOWED_ORIGINS) must list the portal's origin.",
        wait.as_secs()
    )
}
