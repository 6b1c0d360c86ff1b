//! `[payments]`: the payment flow's leases, holds, limits and TEST mode (see [`crate::payments`]).

use serde::Deserialize;
use std::time::Duration;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePayments {
    /// How long a charge in flight owns its attempt before a retry may take it over.
    pub charge_lease_ms: Option<u64>,
    /// How long a duplicate request waits for the original's result.
    pub duplicate_wait_ms: Option<u64>,
    /// Pay systems in TEST mode are paid through the test acquirer only when this is true.
    pub allow_test_mode: Option<bool>,
    /// How long an unanswered challenge blocks attempts from other pages.
    pub action_hold_ms: Option<u64>,
    /// Answers (challenge codes) per attempt.
    pub max_action_rounds: Option<u32>,
    /// Declines per payment within `decline_window_ms` before it cools off.
    pub max_declines: Option<u32>,
    pub decline_window_ms: Option<u64>,
    /// How long a charge the acquirer still calls pending is waited for before it is cancelled.
    pub cancel_after_ms: Option<u64>,
    /// How long an attempt may stay unknown before it is listed for manual review.
    pub review_after_ms: Option<u64>,
    /// How often the reconciler looks for attempts to settle.
    pub reconcile_poll_ms: Option<u64>,
    /// Confirm requests per client address and minute (0: no limit), and the burst.
    pub client_per_minute: Option<u32>,
    pub client_burst: Option<u32>,
    /// Confirm requests per portal payment and minute (0: no limit), and the burst.
    pub payment_per_minute: Option<u32>,
    pub payment_burst: Option<u32>,
    /// How long "no such payment" / "already paid" are answered from memory.
    pub refusal_cache_ms: Option<u64>,
}

impl FilePayments {
    /// The payment flow's settings, each checked for sense.
    pub(super) fn validate(&self, problems: &mut Vec<String>) -> crate::payments::PaymentsConfig {
        let mut p = crate::payments::PaymentsConfig::default();
        let ms = Duration::from_millis;
        if let Some(v) = self.charge_lease_ms {
            if v < 200 {
                problems.push(format!("payments.charge_lease_ms: {v} is below 200"));
            }
            p.lease = ms(v);
        }
        if let Some(v) = self.duplicate_wait_ms {
            p.wait_for_original = ms(v);
        }
        p.allow_test_mode = self.allow_test_mode.unwrap_or(false);
        if let Some(v) = self.action_hold_ms {
            p.action_hold = ms(v.max(1000));
        }
        if let Some(n) = self.max_action_rounds {
            p.max_action_rounds = n.max(1);
        }
        if let Some(n) = self.max_declines {
            p.max_declines = n.max(1);
        }
        if let Some(v) = self.decline_window_ms {
            p.decline_window = ms(v);
        }
        if let Some(v) = self.cancel_after_ms {
            p.cancel_after = ms(v);
        }
        if let Some(v) = self.review_after_ms {
            p.review_after = ms(v);
        }
        let g = &mut p.guard;
        g.per_client_per_minute = self.client_per_minute.unwrap_or(g.per_client_per_minute);
        g.per_client_burst = self.client_burst.unwrap_or(g.per_client_burst).max(1);
        g.per_payment_per_minute = self.payment_per_minute.unwrap_or(g.per_payment_per_minute);
        g.per_payment_burst = self.payment_burst.unwrap_or(g.per_payment_burst).max(1);
        if let Some(v) = self.refusal_cache_ms {
            g.refusal_ttl = ms(v);
        }
        p
    }
}
