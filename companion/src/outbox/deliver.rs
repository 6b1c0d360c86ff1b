//! How one portal's claimed rows are delivered, and how each outcome becomes the row's next
//! state (done, retried when, or dead).

use super::Delivery;
use crate::config::OutboxSettings;
use crate::portal::{Confirmation, MarkPaid, Portal, PortalError};
use crate::store::{now_ms, OutboxItem, OutboxRetry};
use std::time::Duration;

/// A refund's status for a payment the portal shows paid (see the module doc).
async fn deliver_refund_status(
    portal: &dyn Portal,
    metrics: &crate::metrics::Metrics,
    settings: &OutboxSettings,
    item: &OutboxItem,
    call: &MarkPaid,
) -> Delivery {
    match portal.is_paid(call).await {
        Ok(true) => {}
        Ok(false) => {
            return Delivery::Dead(
                "the payment is not paid in Bitrix24 any more: the refund's status is not \
                 written, since pay.payment would mark it paid again"
                    .into(),
            )
        }
        Err(e) => return failed(metrics, settings, item, &e, true),
    }
    match portal.mark_paid(call).await {
        Ok(()) => Delivery::Done,
        Err(e) => failed(metrics, settings, item, &e, e.not_executed()),
    }
}

/// Delivers every claimed row, the portal calls of all of them together (in batches, on the
/// real portal), each row's outcome on its own: first the re-reads of rows an earlier try may
/// have reached the portal with, then the calls (each with its PAID re-read) still owed.
pub(super) async fn deliver_all(
    portal: &dyn Portal,
    metrics: &crate::metrics::Metrics,
    settings: &OutboxSettings,
    items: &[OutboxItem],
) -> Vec<Delivery> {
    let mut out: Vec<Option<Delivery>> = items.iter().map(|_| None).collect();
    let mut owed: Vec<(usize, MarkPaid)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match serde_json::from_str::<MarkPaid>(&item.payload) {
            // Rare, and each needs its own PAID check first: one at a time.
            Ok(call) if item.refund_id.is_some() => {
                let d = deliver_refund_status(portal, metrics, settings, item, &call).await;
                out[i] = Some(d);
            }
            Ok(call) => owed.push((i, call)),
            Err(e) => {
                // Cannot happen with rows this code wrote; keep the row and say so loudly.
                tracing::error!(attempt = %item.attempt_id, error = %e, "unreadable outbox row");
                let error = format!("unreadable row: {e}");
                let r = retry(settings, item, None, true, error);
                out[i] = Some(Delivery::Retry(r, "CORRUPT".into()));
            }
        }
    }
    let (doubt, mut send): (Vec<_>, Vec<_>) =
        owed.into_iter().partition(|(i, _)| items[*i].in_doubt());
    let calls: Vec<MarkPaid> = doubt.iter().map(|(_, c)| c.clone()).collect();
    for ((i, call), paid) in doubt.into_iter().zip(portal.paid_many(&calls).await) {
        let item = &items[i];
        match paid {
            Ok(true) => {
                tracing::info!(attempt = %item.attempt_id, "portal already shows the payment paid");
                out[i] = Some(Delivery::Done);
            }
            Ok(false) => send.push((i, call)),
            Err(e) => out[i] = Some(failed(metrics, settings, item, &e, true)),
        }
    }
    let calls: Vec<MarkPaid> = send.iter().map(|(_, c)| c.clone()).collect();
    for ((i, _), confirmation) in send.into_iter().zip(portal.confirm_many(&calls).await) {
        out[i] = Some(confirmed(metrics, settings, &items[i], confirmation));
    }
    // Every row has its outcome by now; were one missing, it is retried as one in doubt.
    out.into_iter()
        .zip(items)
        .map(|(d, item)| {
            d.unwrap_or_else(|| {
                let r = retry(settings, item, None, false, "no outcome".into());
                Delivery::Retry(r, "INTERNAL".into())
            })
        })
        .collect()
}

/// A call's outcome: `true` is not believed until the re-read shows the payment paid.
fn confirmed(
    metrics: &crate::metrics::Metrics,
    settings: &OutboxSettings,
    item: &OutboxItem,
    confirmation: Confirmation,
) -> Delivery {
    match confirmation {
        Confirmation::Failed(e) => failed(metrics, settings, item, &e, e.not_executed()),
        Confirmation::Accepted(Ok(true)) => Delivery::Done,
        Confirmation::Accepted(Ok(false)) => {
            tracing::warn!(attempt = %item.attempt_id, "the portal answered true but did not save the payment as paid");
            let mut r = retry(
                settings,
                item,
                None,
                true,
                "the portal answered true but the payment is not paid".into(),
            );
            r.unsaved = true;
            Delivery::Retry(r, "NOT_SAVED".into())
        }
        // The call was accepted; whether it was saved is not known: re-read before calling again.
        Confirmation::Accepted(Err(e)) => failed(metrics, settings, item, &e, false),
    }
}

pub(super) fn failed(
    metrics: &crate::metrics::Metrics,
    settings: &OutboxSettings,
    item: &OutboxItem,
    e: &PortalError,
    not_executed: bool,
) -> Delivery {
    metrics.portal_error(e.code());
    let now = now_ms();
    if e.is_permanent() {
        let since = item.refused_since.unwrap_or(now);
        if now - since >= settings.dead_after.as_millis() as i64 {
            return Delivery::Dead(e.to_string());
        }
        let mut r = retry(settings, item, None, not_executed, e.to_string());
        r.refused_since = Some(since);
        return Delivery::Retry(r, e.code().to_string());
    }
    let not_before = match e {
        PortalError::RateLimited { retry_at, .. } => *retry_at,
        // The portal may still execute the call (it runs up to its execution limit): wait that
        // long before re-reading, so the re-read sees it.
        _ if !not_executed => Some(now + settings.ambiguous_wait.as_millis() as i64),
        _ => None,
    };
    let r = retry(settings, item, not_before, not_executed, e.to_string());
    Delivery::Retry(r, e.code().to_string())
}

fn retry(
    settings: &OutboxSettings,
    item: &OutboxItem,
    not_before: Option<i64>,
    clean: bool,
    error: String,
) -> OutboxRetry {
    let delay = backoff(settings, item.tries.max(1) as u32);
    let next_at = (now_ms() + delay.as_millis() as i64).max(not_before.unwrap_or(0));
    OutboxRetry {
        next_at,
        clean,
        error,
        refused_since: item.refused_since,
        unsaved: false,
    }
}

/// Exponential backoff with "equal jitter": half fixed, half random, capped.
pub fn backoff(settings: &OutboxSettings, tries: u32) -> Duration {
    let exp = settings
        .base_backoff
        .saturating_mul(1u32 << tries.saturating_sub(1).min(20));
    let capped = exp.min(settings.max_backoff);
    let half = capped / 2;
    half + half.mul_f64(rand::random::<f64>())
}
