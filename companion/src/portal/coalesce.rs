//! Coalesced verification: customers paying on one portal at the same moment share one `batch`
//! of `settings.payment.get` (or `.invoice.get`) commands instead of spending one request each
//! of the portal's small budget (2 requests/s after a burst of 50).
//!
//! The first read to arrive leads: it waits [`Coalescer::window`] (a few milliseconds) for
//! company, then — while the budget has no slot for it yet — keeps gathering whoever else
//! arrives, up to [`MAX_BATCH_COMMANDS`], because those reads would have waited anyway. Then it
//! sends them as one request and hands each reader its own command's answer: one payment's
//! error is that reader's alone. A lone read is sent as the plain method, after the window
//! only; the batch's commands never halt on an error.

use bitrix24_client::{
    Batch, Client, CommandOutcome, Error, PaySystemRef, RetryClass, MAX_BATCH_COMMANDS,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The most a gatherer sleeps between looks at the budget.
const GATHER_STEP: Duration = Duration::from_millis(50);
/// While the budget is under pressure, how long the oldest read waits for company before its
/// batch is ready to go (unless it fills first).
pub const HOLD_UNDER_PRESSURE: Duration = Duration::from_secs(1);

/// Under pressure, how much longer a batch whose oldest item has waited `held` keeps
/// gathering; `None`: it is ready, and waits for its slot. The verification coalescer and the
/// outbox lanes follow this one rule.
pub fn hold_left(held: Duration) -> Option<Duration> {
    HOLD_UNDER_PRESSURE
        .checked_sub(held)
        .filter(|left| !left.is_zero())
}

/// A settings read, as the flow needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// `sale.paysystem.settings.payment.get`.
    Payment { payment_id: u64, paysystem_id: u64 },
    /// `sale.paysystem.settings.invoice.get` (legacy invoices).
    Invoice { invoice_id: u64, paysystem_id: u64 },
}

type Settings = BTreeMap<String, String>;
type Answer = Result<Settings, Error>;

impl Read {
    /// The payment's (or legacy invoice's) id, for the logs.
    fn id(&self) -> u64 {
        match self {
            Read::Payment { payment_id, .. } => *payment_id,
            Read::Invoice { invoice_id, .. } => *invoice_id,
        }
    }

    /// Sends this read as its own method.
    pub async fn alone(self, client: &Client) -> Answer {
        match self {
            Read::Payment {
                payment_id,
                paysystem_id,
            } => client.settings_payment_get(payment_id, paysystem_id).await,
            Read::Invoice {
                invoice_id,
                paysystem_id,
            } => {
                client
                    .settings_invoice_get(invoice_id, &PaySystemRef::Id(paysystem_id))
                    .await
            }
        }
    }

    /// Adds this read to `batch` as the command `key`.
    pub fn push(self, batch: &mut Batch, key: &str) -> Result<(), Error> {
        match self {
            Read::Payment {
                payment_id,
                paysystem_id,
            } => batch.settings_payment_get(key, payment_id, paysystem_id)?,
            Read::Invoice {
                invoice_id,
                paysystem_id,
            } => batch.push(
                key,
                "sale.paysystem.settings.invoice.get",
                &json!({"INVOICE_ID": invoice_id, "PAY_SYSTEM_ID": paysystem_id}),
            )?,
        };
        Ok(())
    }
}

/// Answers a batch's settings command: its own result or error. `None`: not run (the caller
/// sends it again on its own).
pub fn settings_of(outcome: &bitrix24_client::CommandResult) -> Option<Answer> {
    match &outcome.outcome {
        CommandOutcome::NotRun => None,
        _ => outcome.settings(),
    }
}

/// A customer's answer from the batch, unless that command alone failed in a way that may heal
/// (refused for the moment, an internal error): then `None`, and the read is sent again on its
/// own, with the client's usual retries, as it would have been outside a batch. A read changes
/// nothing, so one the portal may have run is as safe to send again as one it did not.
fn customer_answer(outcome: &bitrix24_client::CommandResult) -> Option<Answer> {
    match settings_of(outcome)? {
        Err(e) if e.retry_class() != RetryClass::Permanent => None,
        answer => Some(answer),
    }
}

struct Waiter {
    read: Read,
    reply: oneshot::Sender<Answer>,
    arrived: Instant,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiter>,
    /// A gatherer is on its way for the waiting reads.
    led: bool,
}

struct Shared {
    client: Client,
    window: Duration,
    queue: Mutex<Queue>,
}

/// Coalesces concurrent settings reads on one client (one portal, one priority).
#[derive(Clone)]
pub struct Coalescer {
    shared: Arc<Shared>,
}

impl Coalescer {
    /// Reads arriving within `window` of each other (and while the budget is short) share a
    /// batch.
    pub fn new(client: Client, window: Duration) -> Coalescer {
        Coalescer {
            shared: Arc::new(Shared {
                client,
                window,
                queue: Mutex::new(Queue::default()),
            }),
        }
    }

    /// Reads `read`, in a batch with whatever other reads are waiting.
    pub async fn read(&self, read: Read) -> Answer {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut queue = self.shared.queue.lock().expect("not poisoned");
            queue.waiting.push(Waiter {
                read,
                reply,
                arrived: Instant::now(),
            });
            !std::mem::replace(&mut queue.led, true)
        };
        if lead {
            tokio::spawn(gather(self.shared.clone()));
        }
        match answer.await {
            Ok(answer) => answer,
            // The gatherer died (the runtime is shutting down): read alone.
            Err(_) => read.alone(&self.shared.client).await,
        }
    }
}

impl Shared {
    fn queued(&self) -> usize {
        self.queue.lock().expect("not poisoned").waiting.len()
    }

    /// How long the oldest waiting read has waited.
    fn oldest(&self) -> Duration {
        let queue = self.queue.lock().expect("not poisoned");
        queue
            .waiting
            .first()
            .map_or(Duration::ZERO, |w| w.arrived.elapsed())
    }

    /// How long the gatherer should go on gathering (zero: send now). While the portal's
    /// bucket is under pressure every request sent now is one less later, so a batch waits
    /// until its oldest read has waited [`HOLD_UNDER_PRESSURE`], and then for its slot (noted
    /// as waiting, so the outbox takes turns with it); otherwise it goes as soon as a slot is
    /// free.
    async fn keep_gathering(&self) -> Duration {
        if self.client.pressure().await.is_zero() {
            return self.client.wait_now().await;
        }
        match hold_left(self.oldest()) {
            Some(left) => left,
            None => self.client.ready_wait().await,
        }
    }

    /// Takes up to a batch of waiting reads; a gatherer is sent for any left behind.
    fn take(self: &Arc<Self>) -> Vec<Waiter> {
        let mut queue = self.queue.lock().expect("not poisoned");
        let n = queue.waiting.len().min(MAX_BATCH_COMMANDS);
        let group: Vec<Waiter> = queue.waiting.drain(..n).collect();
        if queue.waiting.is_empty() {
            queue.led = false;
        } else {
            tokio::spawn(gather(self.clone()));
        }
        group
    }
}

/// The gatherer: waits the window, then for as long as the budget has no slot, or holds the
/// batch to fill it ([`Shared::keep_gathering`]; bounded by how long a call may wait for a
/// slot), then sends what has gathered.
async fn gather(shared: Arc<Shared>) {
    tokio::time::sleep(shared.window).await;
    let started = Instant::now();
    while shared.queued() < MAX_BATCH_COMMANDS && started.elapsed() < shared.client.max_wait() {
        let wait = shared.keep_gathering().await;
        if wait.is_zero() {
            break;
        }
        tokio::time::sleep(wait.min(GATHER_STEP)).await;
    }
    let group = shared.take();
    if let Some(first) = group.first() {
        tracing::debug!(
            reads = group.len(),
            waited_ms = first.arrived.elapsed().as_millis() as u64,
            payments = ?group.iter().map(|w| w.read.id()).collect::<Vec<_>>(),
            "settings reads gathered"
        );
    }
    send(&shared.client, group).await;
}

/// Sends `group` (one plain call when alone) and answers each waiter.
async fn send(client: &Client, group: Vec<Waiter>) {
    if let [_] = group.as_slice() {
        let waiter = group.into_iter().next().expect("one");
        let answer = waiter.read.alone(client).await;
        let _ = waiter.reply.send(answer);
        return;
    }
    let mut batch = Batch::new();
    for (i, waiter) in group.iter().enumerate() {
        if let Err(e) = waiter.read.push(&mut batch, &format!("r{i}")) {
            tracing::error!(error = %e, "cannot put a settings read in a batch");
        }
    }
    let results = client.batch(&batch, bitrix24_client::Retry::Safe).await;
    let mut leftovers = Vec::new();
    match results {
        Err(e) => {
            for waiter in group {
                let _ = waiter.reply.send(Err(e.clone()));
            }
        }
        Ok(results) => {
            for (i, waiter) in group.into_iter().enumerate() {
                match results.get(&format!("r{i}")).and_then(customer_answer) {
                    Some(answer) => {
                        let _ = waiter.reply.send(answer);
                    }
                    None => leftovers.push(waiter),
                }
            }
        }
    }
    // Not run, not in the reply, or refused for the moment: each on its own.
    for waiter in leftovers {
        let answer = waiter.read.alone(client).await;
        let _ = waiter.reply.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_holds_until_its_oldest_item_has_waited_the_hold() {
        assert_eq!(hold_left(Duration::ZERO), Some(HOLD_UNDER_PRESSURE));
        assert_eq!(
            hold_left(Duration::from_millis(400)),
            Some(HOLD_UNDER_PRESSURE - Duration::from_millis(400))
        );
        assert_eq!(hold_left(HOLD_UNDER_PRESSURE), None);
        assert_eq!(hold_left(HOLD_UNDER_PRESSURE * 3), None);
    }
}
