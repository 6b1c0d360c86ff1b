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
//! - Rows are grouped by portal ([`MarkPaid::portal`]): each group goes through that portal's
//!   own client (its budget, its tokens, its batches; a batch never mixes portals) on that
//!   portal's own lane (`lanes.rs`), which records its outcomes itself; the claiming loop never
//!   waits for a portal, so one that is down, hangs, is rate limited or uninstalled holds only
//!   its own rows. An uninstalled portal's rows wait as
//!   refused calls (and end `dead`): the money was taken, the portal can no longer be told.

mod deliver;
mod lanes;

use crate::config::OutboxSettings;
use crate::metrics::SharedMetrics;
use crate::payments::CrashPoint;
use crate::portal::{MarkPaid, PortalKey, SharedPortals};
use crate::store::{now_ms, OutboxItem, OutboxRetry, SharedStore, StoreError};
pub use deliver::backoff;
use deliver::{deliver_all, failed};
use lanes::Lanes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// How long a woken worker waits for more rows before claiming.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

pub struct Outbox {
    store: SharedStore,
    portals: SharedPortals,
    metrics: SharedMetrics,
    settings: OutboxSettings,
    wake: Arc<Notify>,
    crash_point: Option<CrashPoint>,
    lanes: Lanes,
}

/// How one delivery try ended.
pub(crate) enum Delivery {
    Done,
    Retry(OutboxRetry, String),
    Dead(String),
}

impl Outbox {
    pub fn new(
        store: SharedStore,
        portals: SharedPortals,
        metrics: SharedMetrics,
        settings: OutboxSettings,
        wake: Arc<Notify>,
    ) -> Outbox {
        Outbox {
            store,
            portals,
            metrics,
            settings,
            wake,
            crash_point: CrashPoint::from_env(),
            lanes: Lanes::default(),
        }
    }

    /// Runs until `shutdown` turns true; deliveries in progress finish first.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                self.lanes.drain().await;
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

    /// Claims one batch and hands each portal's rows to that portal's lane. Returns how many
    /// rows were claimed.
    pub async fn run_once(self: &Arc<Self>) -> Result<usize, StoreError> {
        let now = now_ms();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let items = self
            .store
            .outbox_claim(now, lease_until, self.settings.batch as i64)
            .await?;
        let n = items.len();
        for (portal, rows) in by_portal(items) {
            self.lanes.hand(self, portal, lease_until, rows);
        }
        Ok(n)
    }

    /// One portal's rows, through that portal's own client; their outcomes recorded at once.
    async fn deliver_group(
        &self,
        portal: PortalKey,
        items: Vec<OutboxItem>,
    ) -> Result<(), StoreError> {
        let deliveries = match self.portals.get(&portal).await {
            Ok(client) => deliver_all(client.as_ref(), &self.metrics, &self.settings, &items).await,
            // Uninstalled (or the store cannot say): every row waits, as a refused call.
            Err(e) => items
                .iter()
                .map(|item| failed(&self.metrics, &self.settings, item, &e, true))
                .collect(),
        };
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
        Ok(())
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

/// Claimed rows by the portal they are for (a row this code cannot read goes with the
/// configured portal's, where it is reported as unreadable).
fn by_portal(items: Vec<OutboxItem>) -> BTreeMap<PortalKey, Vec<OutboxItem>> {
    let mut groups: BTreeMap<PortalKey, Vec<OutboxItem>> = BTreeMap::new();
    for item in items {
        let portal = serde_json::from_str::<MarkPaid>(&item.payload)
            .map(|call| call.portal_key())
            .unwrap_or_default();
        groups.entry(portal).or_default().push(item);
    }
    groups
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
