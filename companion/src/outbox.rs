//! The outbox worker: tells the portal about every approved charge (`pay.payment`, or
//! `pay.invoice` for legacy invoices), in batches, until the portal shows the payment paid.
//!
//! - Rows are claimed under a fencing token (`claim_epoch`; `FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL), so several instances share the work, a crashed worker's rows come back when the
//!   claim runs out, and a stalled worker's late answer changes nothing.
//! - `true` from the portal is not trusted on its own: the payment's PAID flag is re-read, and
//!   "true but not saved" is retried and counted (`outbox_unsaved`).
//! - A try that may have reached the portal (timeout, dropped connection, crash mid-call) is
//!   followed, no sooner than the portal's execution limit (`ambiguous_wait`, 60 s), by a re-read
//!   of the PAID flag before calling again, so a call that took effect late is never repeated.
//! - Failures are retried with exponential backoff and jitter; rate limits honour the portal's
//!   `operating_reset_at`. Permanent refusals (the payment or pay system is gone, access denied)
//!   end in the `dead` state after `dead_after`, counted and logged at error level, until an
//!   operator re-queues the row (`b24pay outbox retry ID`).
//! - A refund's row (`refund_id`) is a `pay.payment` for a payment that is paid already: it
//!   only rewrites the payment's `PS_STATUS_*` to say what was refunded (the pay-system REST
//!   API has no refund method). It goes out after the charge's own call (one attempt's rows in
//!   order), and only while the portal still shows the payment paid: for one marked unpaid in
//!   Bitrix24 meanwhile, `pay.payment` would mark it paid again, so that row ends `dead` instead.
//!   Its effect cannot be read back with the `pay_system` scope, and it is harmless to repeat
//!   (the same `PS_*` values on a payment that stays paid), so after an ambiguous try it is sent
//!   again once the portal's execution limit has passed.

use crate::config::OutboxSettings;
use crate::metrics::SharedMetrics;
use crate::payments::CrashPoint;
use crate::portal::{Confirmation, MarkPaid, Portal, PortalError};
use crate::store::{now_ms, OutboxItem, OutboxRetry, SharedStore, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// How long a woken worker waits for more rows before claiming.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

pub struct Outbox {
    store: SharedStore,
    portal: Arc<dyn Portal>,
    metrics: SharedMetrics,
    settings: OutboxSettings,
    wake: Arc<Notify>,
    crash_point: Option<CrashPoint>,
}

/// How one delivery try ended.
enum Delivery {
    Done,
    Retry(OutboxRetry, String),
    Dead(String),
}

impl Outbox {
    pub fn new(
        store: SharedStore,
        portal: Arc<dyn Portal>,
        metrics: SharedMetrics,
        settings: OutboxSettings,
        wake: Arc<Notify>,
    ) -> Outbox {
        Outbox {
            store,
            portal,
            metrics,
            settings,
            wake,
            crash_point: CrashPoint::from_env(),
        }
    }

    /// Runs until `shutdown` turns true; deliveries in progress finish first.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let worked = match self.run_once().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "outbox pass failed");
                    false
                }
            };
            if worked {
                continue;
            }
            let sleep = self.idle_sleep().await;
            tokio::select! {
                _ = self.wake.notified() => {
                    // Let a few more charges land so they go out as one batch: one claim and
                    // one commit for many rows instead of one each.
                    tokio::time::sleep(BATCH_WINDOW).await;
                }
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// How long an idle worker may sleep: until the earliest row is due, at most `poll`.
    async fn idle_sleep(&self) -> Duration {
        let poll = self.settings.poll;
        match self.store.outbox_next_due().await {
            Ok(Some(at)) => {
                let wait = (at - now_ms()).max(0) as u64;
                poll.min(Duration::from_millis(wait.max(5)))
            }
            _ => poll,
        }
    }

    /// Claims one batch and delivers it. Returns how many rows were handled.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let items = self
            .store
            .outbox_claim(now, lease_until, self.settings.batch as i64)
            .await?;
        let deliveries =
            deliver_all(self.portal.as_ref(), &self.metrics, &self.settings, &items).await;
        let mut done = Vec::new();
        for (item, delivery) in items.iter().zip(deliveries) {
            match delivery {
                Delivery::Done => done.push((item.id, item.claim_epoch)),
                Delivery::Retry(retry, code) => self.postpone(item, &retry, &code).await?,
                Delivery::Dead(error) => self.bury(item, &error).await?,
            }
        }
        if !done.is_empty() {
            CrashPoint::hit(self.crash_point, CrashPoint::AfterPortalCall);
            self.store.outbox_done(&done, now_ms()).await?;
            self.metrics.outbox_delivered.inc_by(done.len() as u64);
        }
        Ok(items.len())
    }

    async fn postpone(
        &self,
        item: &OutboxItem,
        retry: &OutboxRetry,
        code: &str,
    ) -> Result<(), StoreError> {
        self.metrics.outbox_retry(code);
        if retry.unsaved {
            self.metrics.outbox_unsaved.inc();
        }
        tracing::warn!(
            attempt = %item.attempt_id, tries = item.tries, error = %retry.error,
            retry_in_ms = retry.next_at - now_ms(), "portal call postponed"
        );
        self.store
            .outbox_retry(item.id, item.claim_epoch, retry, now_ms())
            .await?;
        Ok(())
    }

    async fn bury(&self, item: &OutboxItem, error: &str) -> Result<(), StoreError> {
        if !self
            .store
            .outbox_dead(item.id, item.claim_epoch, error, now_ms())
            .await?
        {
            return Ok(());
        }
        self.metrics.outbox_dead_letters.inc();
        if let Some(refund) = &item.refund_id {
            tracing::error!(
                attempt = %item.attempt_id, outbox = item.id, %refund, error = %error,
                "a refund's status was not written into the portal's payment \
                 (`b24pay outbox list --dead`, then `b24pay outbox retry ID` once fixed)"
            );
        } else {
            tracing::error!(
                attempt = %item.attempt_id, outbox = item.id, tries = item.tries, error = %error,
                "portal call given up: the portal refused it for good; the customer was charged \
                 and the payment is NOT marked paid (`b24pay outbox list --dead`, then \
                 `b24pay outbox retry ID` once fixed)"
            );
        }
        Ok(())
    }
}

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
async fn deliver_all(
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

fn failed(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let s = OutboxSettings {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            ..OutboxSettings::default()
        };
        for _ in 0..50 {
            let first = backoff(&s, 1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = backoff(&s, 3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = backoff(&s, 40);
            assert!(late >= Duration::from_secs(1) && late <= Duration::from_secs(2));
        }
    }
}
