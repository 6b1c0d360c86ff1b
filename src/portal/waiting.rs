//! When the portal's message does not come: the waiting state after a few seconds. (The
//! console's diagnosis for whoever deploys — which origins were refused, which are allowed —
//! is `loader.js`'s, which sees every message from the start and speaks even if the wasm never
//! loads.)

use super::{PortalContext, PortalError, PortalState};
use leptos::prelude::*;
use std::time::Duration;

/// Shows the waiting state if no usable message has arrived after `wait`. The timer goes with
/// the current owner.
pub(super) fn report_after(ctx: PortalContext, wait: Duration) {
    let timer = gloo_timers::callback::Timeout::new(wait.as_millis() as u32, move || {
        if ctx.state.try_with_untracked(|s| *s == PortalState::Waiting) == Some(true) {
            ctx.state.set(PortalState::Failed(PortalError::NoMessage));
        }
    });
    // Dropping a gloo timeout cancels it: stored, it lives exactly as long as the owner.
    StoredValue::new_local(timer);
}
