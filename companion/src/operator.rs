//! What an operator reads and does from the command line (`b24pay attempts …`,
//! `b24pay outbox …`, `b24pay refund …`, `b24pay portals …`): plain-text listings straight from the store, so every
//! charge, refund and portal call can be explained afterwards, the one repair the outbox needs
//! (re-queue), and what a refund did.

mod portals;

pub use portals::{forget_portal, list_portals};

use crate::acquirer::stripe::settings::FileStripe;
use crate::acquirer::{Acquirer, StripeAcquirer, TestAcquirer};
use crate::payments::{Acquirers, RefundCommand, RefundReport, Refunds};
use crate::store::{
    now_ms, Attempt, AttemptFilter, OutboxRow, OutboxState, RefundState, SharedStore,
};
use b24pay_protocol::ids::AttemptId;
use std::fmt::Write;
use std::sync::Arc;

/// Unix milliseconds as an RFC 3339 UTC time.
fn at(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn line(a: &Attempt) -> String {
    format!(
        "{id}  {state:<15} {acq:<6} ps {ps:<5} payment {pay:<8} {amount} {cur}  {brand} {last4}  {created}{review}",
        id = a.id,
        state = a.state.as_str(),
        acq = a.acquirer.as_str(),
        ps = a.paysystem_id,
        pay = a.payment_id,
        amount = a.amount.to_decimal_string(),
        cur = a.amount.currency.code(),
        brand = a.brand,
        last4 = a.last4,
        created = at(a.created_at),
        review = if a.review_at.is_some() { "  NEEDS REVIEW" } else { "" },
    )
}

pub async fn list_attempts(
    store: &SharedStore,
    filter: AttemptFilter,
    limit: i64,
) -> anyhow::Result<String> {
    let attempts = store.list_attempts(filter, limit).await?;
    let mut out = String::new();
    if attempts.is_empty() {
        out.push_str(match filter {
            AttemptFilter::Review => "no attempts need review\n",
            AttemptFilter::Unsettled => "no unsettled attempts\n",
            AttemptFilter::Recent => "no attempts\n",
        });
    }
    for a in &attempts {
        writeln!(out, "{}", line(a))?;
    }
    Ok(out)
}

pub async fn show_attempt(store: &SharedStore, id: &str) -> anyhow::Result<String> {
    let id = AttemptId::parse(id).map_err(|_| anyhow::anyhow!("{id:?} is not an attempt id"))?;
    let a = store
        .attempt(&id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no attempt {id}"))?;
    let mut out = String::new();
    writeln!(out, "{}", line(&a))?;
    writeln!(
        out,
        "  registry {}, round {}, lease epoch {}",
        a.registry.as_str(),
        a.round,
        a.lease_epoch
    )?;
    if let Some(r) = &a.acquirer_ref {
        writeln!(out, "  acquirer reference {r}")?;
    }
    if let Some(tx) = &a.transaction_id {
        writeln!(
            out,
            "  transaction {tx}, portal notified: {}",
            a.portal_notified
        )?;
    }
    if let Some(d) = a.decline_code {
        writeln!(out, "  decline code {d}")?;
    }
    let refunds = store.refunds_of(&id).await?;
    if !refunds.is_empty() {
        writeln!(out, "refunds:")?;
    }
    for r in &refunds {
        writeln!(
            out,
            "  {id}  {amount:<14} {state:<10} by {origin:<8} at the acquirer: {at:<28} key {key}  {created}",
            id = r.id,
            amount = r.amount.to_string(),
            state = r.state.as_str(),
            origin = r.origin.as_str(),
            at = r.acquirer_refund_id.as_deref().unwrap_or("-"),
            key = r.idempotency_key,
            created = at(r.created_at),
        )?;
    }
    writeln!(out, "history:")?;
    for entry in store.attempt_log(&id).await? {
        writeln!(
            out,
            "  {}  {:<22} {}",
            at(entry.at),
            entry.event,
            entry.note.unwrap_or_default()
        )?;
    }
    Ok(out)
}

/// Which outbox rows to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxListing {
    /// Pending and dead: what is still owed.
    Owed,
    Dead,
    All,
}

fn outbox_line(r: &OutboxRow) -> String {
    format!(
        "{id:<6} {state:<8} attempt {attempt}  tries {tries}  unsaved {unsaved}  {when}  {error}",
        id = r.id,
        state = r.state,
        attempt = r.attempt_id,
        tries = r.tries,
        unsaved = r.unsaved,
        when = match r.done_at {
            Some(done) => format!("done {}", at(done)),
            None => format!("next {}", at(r.next_at)),
        },
        error = r.last_error.as_deref().unwrap_or(""),
    )
}

pub async fn list_outbox(
    store: &SharedStore,
    which: OutboxListing,
    limit: i64,
) -> anyhow::Result<String> {
    let rows = match which {
        OutboxListing::Dead => store.outbox_list(Some(OutboxState::Dead), limit).await?,
        OutboxListing::All => store.outbox_list(None, limit).await?,
        OutboxListing::Owed => {
            let mut rows = store.outbox_list(Some(OutboxState::Dead), limit).await?;
            rows.extend(store.outbox_list(Some(OutboxState::Pending), limit).await?);
            rows
        }
    };
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("no portal calls to list\n");
    }
    for r in &rows {
        writeln!(out, "{}", outbox_line(r))?;
    }
    Ok(out)
}

pub async fn requeue(store: &SharedStore, id: i64) -> anyhow::Result<String> {
    if store.outbox_requeue(id, now_ms()).await? {
        Ok(format!(
            "outbox row {id} re-queued: a running companion delivers it within its poll interval"
        ))
    } else {
        anyhow::bail!("no pending or dead outbox row {id}")
    }
}

/// What `b24pay refund` prints.
pub fn refund_report(r: &RefundReport) -> String {
    let (f, a) = (&r.refund, &r.attempt);
    let mut out = String::new();
    let state = match f.state {
        RefundState::Succeeded => "succeeded".to_string(),
        RefundState::Pending => "accepted by the acquirer, not settled yet (run the same command again later to see it settled)".to_string(),
        RefundState::Failed => "REFUSED by the acquirer: nothing was refunded".to_string(),
        RefundState::Requested => format!(
            "NOT DONE YET: the acquirer did not answer ({}); run the same command again: it asks under the same key and never refunds twice",
            r.acquirer_error.as_deref().unwrap_or("no answer")
        ),
    };
    let _ = writeln!(out, "refund {} of {}: {state}", f.id, f.amount);
    if !r.created {
        let _ = writeln!(out, "  (recorded by an earlier run of this command; nothing new was asked of the acquirer unless it was unfinished)");
    }
    let _ = writeln!(
        out,
        "  payment {} (pay system {}), attempt {}, charged {} by {} ({})",
        a.payment_id,
        a.paysystem_id,
        a.id,
        a.amount,
        a.acquirer,
        a.transaction_id.as_deref().unwrap_or("-"),
    );
    if let Some(at) = &f.acquirer_refund_id {
        let _ = writeln!(out, "  the acquirer's refund: {at}");
    }
    let _ = writeln!(out, "  refunded so far: {} of {}", r.refunded, a.amount);
    let _ = writeln!(
        out,
        "  key {}: the same command shows this refund again and never refunds twice; to refund the same amount once more, pass a new --key",
        f.idempotency_key
    );
    if f.state == RefundState::Succeeded {
        let _ = writeln!(
            out,
            "  Bitrix24: a pay.payment is queued (a running companion's outbox sends it) that writes the refund into the payment's PS_STATUS_CODE and PS_STATUS_DESCRIPTION; the payment stays marked paid there (the pay-system REST API has no refund): record the return in Bitrix24"
        );
    }
    out
}

/// `b24pay refund`: through the acquirers this configuration has (the test acquirer over the
/// store, Stripe when `[acquirer.stripe]` is set); prints what happened, fails unless the refund
/// succeeded or was accepted.
pub async fn refund(
    store: SharedStore,
    stripe: Option<&FileStripe>,
    command: &RefundCommand,
) -> anyhow::Result<()> {
    let stripe = match stripe.map(FileStripe::validate) {
        Some(Ok(settings)) => Some(settings),
        Some(Err(problems)) => anyhow::bail!("acquirer.stripe: {}", problems.join("; ")),
        None => None,
    };
    let live: Option<Arc<dyn Acquirer>> = match &stripe {
        Some(s) => Some(Arc::new(
            StripeAcquirer::new(s).map_err(|e| anyhow::anyhow!("Stripe: {e}"))?,
        )),
        None => None,
    };
    let acquirers = Acquirers {
        test: Arc::new(TestAcquirer::new(store.clone())),
        live,
    };
    let timeout = stripe
        .as_ref()
        .map_or(std::time::Duration::from_secs(20), |s| s.timeout);
    let report = Refunds::new(store, acquirers, timeout)
        .refund(command)
        .await?;
    print!("{}", refund_report(&report));
    match report.refund.state {
        RefundState::Failed => anyhow::bail!("the acquirer refused the refund"),
        RefundState::Requested => anyhow::bail!("the refund is not done yet"),
        RefundState::Pending | RefundState::Succeeded => Ok(()),
    }
}
