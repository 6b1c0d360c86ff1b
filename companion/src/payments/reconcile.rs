//! The reconciler: a worker beside the outbox that settles every attempt nobody else will — left
//! in `processing` past its lease (the request died or stalled mid-charge), in `unknown` (the
//! acquirer did not answer, or has not decided), or in `requires_action` past its hold (the
//! customer left) — by asking the acquirer, so that money never moves without the payment
//! being marked paid, even when no customer ever comes back. Attempts are leased through the
//! store, so several instances share the work; every write is fenced by the lease.

use super::settle::Why;
use super::{ms, Payments};
use crate::store::{now_ms, Attempt, AttemptState, Due};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Attempts taken up per pass.
const BATCH: i64 = 32;

#[derive(Clone, Debug)]
pub struct ReconcileSettings {
    /// How often the worker looks for attempts to settle.
    pub poll: Duration,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        ReconcileSettings {
            poll: Duration::from_secs(1),
        }
    }
}

pub struct Reconciler {
    payments: Arc<Payments>,
    settings: ReconcileSettings,
}

impl Reconciler {
    pub fn new(payments: Arc<Payments>, settings: ReconcileSettings) -> Reconciler {
        Reconciler { payments, settings }
    }

    /// Runs until `shutdown` turns true; resolutions in progress finish first.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut passes: u64 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let busy = match self.run_once().await {
                Ok(n) => n as i64 == BATCH,
                Err(e) => {
                    tracing::error!(error = %e, "reconciler pass failed");
                    false
                }
            };
            passes += 1;
            if passes % 60 == 0 {
                self.payments.forget_idle_clients();
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Takes up the attempts that are due and settles them. Returns how many it took.
    pub async fn run_once(&self) -> Result<usize, crate::store::StoreError> {
        let p = &self.payments;
        let now = now_ms();
        let due = Due {
            now,
            action_hold_before: now - ms(p.config.action_hold),
        };
        let lease_until = now + ms(p.config.lease);
        let attempts = p.store.claim_due(due, lease_until, BATCH).await?;
        let n = attempts.len();
        let mut tasks = JoinSet::new();
        for a in attempts {
            let payments = self.payments.clone();
            tasks.spawn(async move { settle_one(&payments, a).await });
        }
        while tasks.join_next().await.is_some() {}
        Ok(n)
    }
}

async fn settle_one(p: &Payments, a: Attempt) {
    let why = match a.state {
        AttemptState::Processing => Why::Expired,
        AttemptState::RequiresAction => Why::Abandoned,
        _ => Why::Unknown,
    };
    let id = a.id.clone();
    match p.resolve(a, why).await {
        Ok(resolved) => {
            if let Err(e) = p.flag_for_review(&resolved).await {
                tracing::error!(attempt = %id, error = %e, "could not flag an attempt for review");
            }
        }
        Err(e) => tracing::warn!(attempt = %id, error = %e, "could not settle an attempt"),
    }
}
