//! The outbox's portal calls in batches: each payment's `pay.payment` (or `pay.invoice`) is
//! followed in the same batch by the re-read of its PAID flag — the portal runs a batch's
//! commands in order — so 25 payments cost one request of the portal's budget instead of 50.
//! Every command's outcome is its payment's alone: one refused payment holds back no other.
//! When the batch request itself fails, every payment in it shares that failure, and whether
//! the portal may have acted is the request's ([`PortalError::not_executed`]).

use super::coalesce::settings_of;
use super::facts::{checked_facts, map_error, read_for};
use super::*;
use bitrix24_client::{
    Batch, BatchResults, Client, CommandOutcome, Error, PayInvoice, PayPayment, PaySystemRef,
    PsExtras, Retry, MAX_BATCH_COMMANDS,
};

/// A batch holds a call and its re-read per payment.
pub const CONFIRMS_PER_BATCH: usize = MAX_BATCH_COMMANDS / 2;

/// The `pay.*` call one outbox row owes.
pub(super) enum Pay {
    Payment(PayPayment),
    Invoice(PayInvoice),
}

impl Pay {
    pub(super) fn of(call: &MarkPaid) -> Result<Pay, PortalError> {
        let paysystem_id = call.paysystem_id.get();
        Ok(match call.registry {
            Registry::Order => Pay::Payment(PayPayment {
                payment_id: call.payment_id.get(),
                paysystem_id,
                extras: PsExtras {
                    ps_invoice_id: Some(call.ps_invoice_id.clone()),
                    ps_status_code: Some(call.ps_status_code.clone()),
                    ps_status_message: Some(call.ps_status_message.clone()),
                    ps_status_description: Some(call.ps_status_description.clone())
                        .filter(|d| !d.is_empty()),
                    ps_sum: Some(call.ps_sum.clone()),
                    ps_currency: Some(call.ps_currency.clone()),
                    ps_card_number: Some(call.ps_card_number.clone()),
                    ..PsExtras::default()
                },
            }),
            Registry::CrmInvoice => {
                let invoice_id = call
                    .invoice_id
                    .ok_or_else(|| PortalError::NotConfigured("no invoice id".into()))?;
                Pay::Invoice(PayInvoice {
                    invoice_id: invoice_id.get(),
                    pay_system: PaySystemRef::Id(paysystem_id),
                })
            }
        })
    }

    /// Sends it as its own method; `Ok(false)` when the portal answered `false`.
    pub(super) async fn alone(&self, client: &Client, retry: Retry) -> Result<bool, Error> {
        match self {
            Pay::Payment(p) => client.pay_payment(p, retry).await,
            Pay::Invoice(p) => client.pay_invoice(p, retry).await,
        }
    }

    fn push(&self, batch: &mut Batch, key: &str) -> Result<(), Error> {
        match self {
            Pay::Payment(p) => batch.pay_payment(key, p)?,
            Pay::Invoice(p) => batch.pay_invoice(key, p)?,
        };
        Ok(())
    }
}

/// `pay.*` answered `false`: the portal may or may not have saved anything.
pub(super) fn answered_false() -> PortalError {
    PortalError::Ambiguous {
        code: "RESULT_FALSE".into(),
        message: "the portal answered false".into(),
    }
}

/// A command the portal did not run (or left out of its reply): provably not executed.
fn not_run() -> PortalError {
    PortalError::Unavailable {
        code: "NOT_RUN".into(),
        message: "the portal did not run this command of the batch".into(),
    }
}

/// Each call, then its re-read, in batches of [`CONFIRMS_PER_BATCH`] sent side by side.
pub(super) async fn confirm_many(client: &Client, calls: &[MarkPaid]) -> Vec<Confirmation> {
    let chunks = calls
        .chunks(CONFIRMS_PER_BATCH)
        .map(|chunk| confirm_chunk(client, chunk));
    futures_util::future::join_all(chunks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn confirm_chunk(client: &Client, calls: &[MarkPaid]) -> Vec<Confirmation> {
    let mut batch = Batch::new();
    // A call that cannot be put in the batch fails alone.
    let mut refused: Vec<Option<PortalError>> = Vec::with_capacity(calls.len());
    for (i, call) in calls.iter().enumerate() {
        let key = format!("p{i}");
        let pushed =
            Pay::of(call).and_then(|pay| pay.push(&mut batch, &key).map_err(|e| map_error(&e)));
        if pushed.is_ok() {
            // Without its re-read in the reply, the call counts as accepted but unconfirmed.
            let read = read_for(&call.payment()).and_then(|r| {
                r.push(&mut batch, &format!("r{i}"))
                    .map_err(|e| map_error(&e))
            });
            if let Err(e) = read {
                tracing::warn!(error = %e, "cannot put a PAID re-read in the batch");
            }
        }
        refused.push(pushed.err());
    }
    // Only provably unexecuted failures are retried inside the client; anything ambiguous
    // comes back so the outbox re-reads PAID before calling again.
    let results = client.batch(&batch, Retry::IfNotExecuted).await;
    calls
        .iter()
        .zip(refused)
        .enumerate()
        .map(|(i, (call, refused))| match (refused, &results) {
            (Some(e), _) => Confirmation::Failed(e),
            (None, Err(e)) => Confirmation::Failed(map_error(e)),
            (None, Ok(results)) => confirmation(results, i, call),
        })
        .collect()
}

/// One payment's outcome in a batch's reply.
fn confirmation(results: &BatchResults, i: usize, call: &MarkPaid) -> Confirmation {
    let Some(paid) = results.get(&format!("p{i}")) else {
        return Confirmation::Failed(not_run());
    };
    match &paid.outcome {
        CommandOutcome::NotRun => return Confirmation::Failed(not_run()),
        CommandOutcome::Failed(e) => return Confirmation::Failed(map_error(e)),
        CommandOutcome::Done(_) => {}
    }
    match paid.flag() {
        Some(Ok(true)) => {}
        Some(Ok(false)) => return Confirmation::Failed(answered_false()),
        Some(Err(e)) => return Confirmation::Failed(map_error(&e)),
        None => return Confirmation::Failed(not_run()),
    }
    Confirmation::Accepted(reread(results, &format!("r{i}"), call))
}

/// The re-read's answer: PAID, checked to be this very payment.
fn reread(results: &BatchResults, key: &str, call: &MarkPaid) -> Result<bool, PortalError> {
    let answer = results
        .get(key)
        .and_then(settings_of)
        .ok_or_else(not_run)?
        .map_err(|e| map_error(&e))?;
    Ok(checked_facts(&call.payment(), &answer)?.paid)
}

/// The PAID flags of `calls`' payments, in batches of [`MAX_BATCH_COMMANDS`] reads.
pub(super) async fn paid_many(
    client: &Client,
    calls: &[MarkPaid],
) -> Vec<Result<bool, PortalError>> {
    let chunks = calls
        .chunks(MAX_BATCH_COMMANDS)
        .map(|chunk| paid_chunk(client, chunk));
    futures_util::future::join_all(chunks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn paid_chunk(client: &Client, calls: &[MarkPaid]) -> Vec<Result<bool, PortalError>> {
    let mut batch = Batch::new();
    let mut refused = Vec::with_capacity(calls.len());
    for (i, call) in calls.iter().enumerate() {
        let pushed = read_for(&call.payment()).and_then(|read| {
            read.push(&mut batch, &format!("r{i}"))
                .map_err(|e| map_error(&e))
        });
        refused.push(pushed.err());
    }
    let results = client.batch(&batch, Retry::Safe).await;
    calls
        .iter()
        .zip(refused)
        .enumerate()
        .map(|(i, (call, refused))| match (refused, &results) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(map_error(e)),
            (None, Ok(results)) => reread(results, &format!("r{i}"), call),
        })
        .collect()
}
