//! What an operator reads and does from the command line (`b24pay attempts …`,
//! `b24pay outbox …`): plain-text listings straight from the store, so every charge and portal
//! call can be explained afterwards, and the one repair the outbox needs (re-queue).

use crate::store::{now_ms, Attempt, AttemptFilter, OutboxRow, OutboxState, SharedStore};
use b24pay_protocol::ids::AttemptId;
use std::fmt::Write;

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
