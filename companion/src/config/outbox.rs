//! `[outbox]`: how charged payments are confirmed to the portal (see [`crate::outbox`]).

use serde::Deserialize;
use std::time::Duration;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutbox {
    pub batch: Option<u32>,
    pub lease_ms: Option<u64>,
    pub base_backoff_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
    pub poll_ms: Option<u64>,
    /// After a try whose outcome is unknown, wait at least this long before re-reading PAID.
    pub ambiguous_wait_ms: Option<u64>,
    /// Permanent refusals for this long end in the `dead` state.
    pub dead_after_ms: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct OutboxSettings {
    pub batch: u32,
    /// How long a claimed row belongs to one worker; longer than any portal call.
    pub lease: Duration,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often an idle worker looks for rows other instances (or a crash) left behind.
    pub poll: Duration,
    /// The portal runs a call up to its execution limit (60 s) even after the client gave up:
    /// after an ambiguous try, the PAID flag is re-read no sooner than this.
    pub ambiguous_wait: Duration,
    /// How long permanent refusals are retried before the row is given up (`dead`).
    pub dead_after: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            batch: 64,
            lease: Duration::from_secs(60),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            ambiguous_wait: Duration::from_secs(60),
            dead_after: Duration::from_secs(3600),
        }
    }
}

impl FileOutbox {
    /// `portal_timeout`: a lease must outlive the portal call it covers.
    pub(super) fn validate(
        &self,
        portal_timeout: Option<Duration>,
        problems: &mut Vec<String>,
    ) -> OutboxSettings {
        let ms = Duration::from_millis;
        let d = OutboxSettings::default();
        let o = OutboxSettings {
            batch: self.batch.map_or(d.batch, |n| n.clamp(1, 1000)),
            lease: self.lease_ms.map_or(d.lease, |v| ms(v.max(100))),
            base_backoff: self
                .base_backoff_ms
                .map_or(d.base_backoff, |v| ms(v.max(1))),
            max_backoff: self.max_backoff_ms.map_or(d.max_backoff, |v| ms(v.max(1))),
            poll: self.poll_ms.map_or(d.poll, |v| ms(v.max(10))),
            ambiguous_wait: self.ambiguous_wait_ms.map_or(d.ambiguous_wait, ms),
            dead_after: self.dead_after_ms.map_or(d.dead_after, ms),
        };
        if let Some(timeout) = portal_timeout.filter(|t| o.lease <= *t) {
            problems.push(format!(
                "outbox.lease_ms ({} ms) must exceed portal.timeout_ms ({} ms): a lease must outlive the call it covers",
                o.lease.as_millis(),
                timeout.as_millis()
            ));
        }
        o
    }
}
