//! One lane per portal: a task that delivers that portal's claimed rows, group after group, so
//! the claiming loop never waits for a portal's answer. Groups queued behind one another go
//! out together, and while the portal's budget is short a lane waits briefly for more rows to
//! fill its batch. A portal that hangs holds only its own
//! lane; the others' rows keep going out at once. A group that waited in its lane so long that
//! its claim is nearly over is left alone (its claim runs out and it is claimed again), so a
//! late lane never calls the portal for a row another instance may have claimed since.

use super::Outbox;
use crate::portal::{hold_left, PortalKey, CONFIRMS_PER_BATCH};
use crate::store::{now_ms, OutboxItem};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The longest a lane holds rows back to fill a batch.
const MAX_GATHER: Duration = Duration::from_secs(2);
/// The most a gathering lane sleeps between looks at the budget.
const GATHER_STEP: Duration = Duration::from_millis(50);

/// Rows of one portal, claimed until `lease_until`.
struct Group {
    lease_until: i64,
    rows: Vec<OutboxItem>,
}

#[derive(Default)]
pub(super) struct Lanes {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    senders: HashMap<PortalKey, mpsc::UnboundedSender<Group>>,
    tasks: JoinSet<()>,
}

impl Lanes {
    /// Queues `rows` on `portal`'s lane (started when it has none).
    pub(super) fn hand(
        &self,
        outbox: &Arc<Outbox>,
        portal: PortalKey,
        lease_until: i64,
        rows: Vec<OutboxItem>,
    ) {
        let mut inner = self.inner.lock().expect("lanes lock");
        while inner.tasks.try_join_next().is_some() {}
        let mut group = Group { lease_until, rows };
        if let Some(sender) = inner.senders.get(&portal) {
            match sender.send(group) {
                Ok(()) => return,
                // The lane ended (it cannot, short of a panic): a new one takes the rows.
                Err(mpsc::error::SendError(back)) => group = back,
            }
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        sender.send(group).expect("the receiver is here");
        inner.senders.insert(portal.clone(), sender);
        inner.tasks.spawn(lane(outbox.clone(), portal, receiver));
    }

    /// Closes every lane and waits until each has delivered what it was given.
    pub(super) async fn drain(&self) {
        let mut tasks = {
            let mut inner = self.inner.lock().expect("lanes lock");
            inner.senders.clear();
            std::mem::take(&mut inner.tasks)
        };
        while tasks.join_next().await.is_some() {}
    }
}

async fn lane(outbox: Arc<Outbox>, portal: PortalKey, mut groups: mpsc::UnboundedReceiver<Group>) {
    // Half the claim must be left: enough for a call to end within it (the lease exceeds the
    // portal's timeout; see the outbox settings).
    let margin = outbox.settings.lease.as_millis() as i64 / 2;
    while let Some(first) = groups.recv().await {
        let started = Instant::now();
        let gathered = gather(&outbox, &portal, &mut groups, first).await;
        let mut rows = Vec::new();
        for group in gathered {
            if group.lease_until - now_ms() < margin {
                tracing::warn!(%portal, rows = group.rows.len(), "outbox rows waited too long behind their portal's earlier calls: left to be claimed again");
            } else {
                rows.extend(group.rows);
            }
        }
        if rows.is_empty() {
            continue;
        }
        tracing::debug!(
            %portal, rows = rows.len(), gathered_ms = started.elapsed().as_millis() as u64,
            payments = ?rows.iter().map(payment_of).collect::<Vec<_>>(),
            "outbox rows gathered"
        );
        if let Err(e) = outbox.deliver_group(portal.clone(), rows).await {
            tracing::error!(%portal, error = %e, "outbox delivery failed");
        }
    }
}

/// `first` and every group queued behind it; then, while they fill less than a batch and the
/// portal's budget is short ([`Portal::outbox_wait`](crate::portal::Portal::outbox_wait)),
/// whatever comes in meanwhile (up to [`MAX_GATHER`]): rows go out in one request instead of
/// each few spending one of the portal's scarce requests (which customers need too).
async fn gather(
    outbox: &Outbox,
    portal: &PortalKey,
    groups: &mut mpsc::UnboundedReceiver<Group>,
    first: Group,
) -> Vec<Group> {
    let mut gathered = vec![first];
    while let Ok(group) = groups.try_recv() {
        gathered.push(group);
    }
    let Ok(client) = outbox.portals.get(portal).await else {
        return gathered;
    };
    let started = Instant::now();
    let rows = |g: &[Group]| g.iter().map(|g| g.rows.len()).sum::<usize>();
    while rows(&gathered) < CONFIRMS_PER_BATCH && started.elapsed() < MAX_GATHER {
        let wait = keep_gathering(client.as_ref(), started.elapsed()).await;
        if wait.is_zero() {
            break;
        }
        let step = wait
            .min(GATHER_STEP)
            .min(MAX_GATHER.saturating_sub(started.elapsed()));
        match tokio::time::timeout(step, groups.recv()).await {
            Ok(Some(group)) => gathered.push(group),
            // Closed: the outbox is stopping; deliver what is here.
            Ok(None) => break,
            Err(_) => {}
        }
    }
    gathered
}

/// How long a lane that has gathered for `gathered` goes on (zero: deliver now). While the
/// portal's budget is under pressure, a batch waits until it is full or has gathered for
/// [`crate::portal::HOLD_UNDER_PRESSURE`], then for its slot (noted as waiting, so customers take turns with
/// it); otherwise it goes as soon as a slot is to spare.
async fn keep_gathering(portal: &dyn crate::portal::Portal, gathered: Duration) -> Duration {
    if !portal.outbox_pressure().await {
        return portal.outbox_wait().await;
    }
    match hold_left(gathered) {
        Some(left) => left,
        None => portal.outbox_ready_wait().await,
    }
}

/// A row's payment id, for the logs (0: unreadable).
fn payment_of(row: &OutboxItem) -> u64 {
    serde_json::from_str::<crate::portal::MarkPaid>(&row.payload).map_or(0, |c| c.payment_id.get())
}
