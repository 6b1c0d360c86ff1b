//! A minimal processor behind b24pay's `Acquirer` trait, for a payment provider whose own
//! processing speaks a small JSON API (`/charges`, `/charges/{id}/capture`, …; adapt the
//! paths and fields to yours). It keeps the trait's rules: `open` moves no money, every mutating
//! call carries the step's idempotency key, an error is never a "no", and `NotCharged` is only
//! said when no money can move any more.
//!
//! `cargo run -p b24pay-companion --example own_processor -- https://processing.example/ REF`
//! asks your processing about one charge.

use async_trait::async_trait;
use b24pay_companion::acquirer::*;
use b24pay_protocol::api::DeclineCode;
use serde_json::{json, Value};

struct MyProcessor {
    http: reqwest::Client,
    base: String,
}

impl MyProcessor {
    /// POSTs with the idempotency key; any failure to get a clear answer is `Unavailable`.
    async fn post(&self, path: &str, key: &str, body: Value) -> Result<Value, AcquirerError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .map_err(|e| AcquirerError::Unavailable(e.to_string()))?;
        answer(response).await
    }

    async fn get(&self, path: &str) -> Result<Option<Value>, AcquirerError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| AcquirerError::Unavailable(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        answer(response).await.map(Some)
    }
}

async fn answer(response: reqwest::Response) -> Result<Value, AcquirerError> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| AcquirerError::Unavailable(e.to_string()))?;
    match status.as_u16() {
        200..=299 => Ok(body),
        // Retrying with the same key finds out; the money may have moved.
        408 | 409 | 429 | 500.. => Err(AcquirerError::Unavailable(status.to_string())),
        _ => Err(AcquirerError::Refused(status.to_string())),
    }
}

/// Your processing's states, as the trait's outcome.
fn outcome(charge: &Value) -> ChargeOutcome {
    match charge["state"].as_str() {
        Some("captured") => ChargeOutcome::Approved {
            transaction_id: charge["id"].as_str().unwrap_or_default().to_string(),
        },
        Some("declined") => ChargeOutcome::Declined(
            DeclineCode::from_code(charge["reason"].as_str().unwrap_or(""))
                .unwrap_or(DeclineCode::GenericDecline),
        ),
        Some("challenge") => ChargeOutcome::ActionRequired(CustomerAction::Redirect {
            url: charge["challenge_url"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }),
        // Anything else is undecided: the flow asks `status` later.
        _ => ChargeOutcome::Pending,
    }
}

#[async_trait]
impl Acquirer for MyProcessor {
    fn kind(&self) -> AcquirerKind {
        // Add your own variant to `AcquirerKind`; the store records it with every attempt.
        AcquirerKind::Stripe
    }

    async fn open(&self, r: &ChargeRequest<'_>) -> Result<String, AcquirerError> {
        let body = json!({
            "amount": r.amount.minor, "currency": r.amount.currency.code(),
            "card": {"number": r.card.number, "exp_month": r.card.exp_month,
                     "exp_year": r.card.exp_year, "cvc": r.card.cvc},
            "reference": r.metadata.reference(),
        });
        let key = step_key(r.metadata.attempt_id.as_str(), &format!("open-{}", r.round));
        let charge = self.post("/charges", &key, body).await?;
        let id = charge["id"]
            .as_str()
            .ok_or_else(|| AcquirerError::Unavailable("no id".into()))?;
        Ok(id.to_string())
    }

    async fn confirm(
        &self,
        reference: &str,
        r: &ChargeRequest<'_>,
    ) -> Result<ChargeOutcome, AcquirerError> {
        let key = step_key(
            r.metadata.attempt_id.as_str(),
            &format!("confirm-{}", r.round),
        );
        let charge = self
            .post(&format!("/charges/{reference}/capture"), &key, json!({}))
            .await?;
        Ok(outcome(&charge))
    }

    async fn resume(&self, r: &ResumeRequest<'_>) -> Result<ChargeOutcome, AcquirerError> {
        // After the challenge page: ask, never assume.
        match self.get(&format!("/charges/{}", r.reference)).await? {
            Some(charge) => Ok(outcome(&charge)),
            None => Err(AcquirerError::Unavailable("charge not found yet".into())),
        }
    }

    async fn status(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        let Some(charge) = self.get(&format!("/charges/{reference}")).await? else {
            return Ok(ChargeStatus::NotFound);
        };
        Ok(match (charge["state"].as_str(), outcome(&charge)) {
            (Some("voided"), _) => ChargeStatus::NotCharged,
            (_, ChargeOutcome::Approved { transaction_id }) => {
                ChargeStatus::Approved { transaction_id }
            }
            (_, ChargeOutcome::Declined(code)) => ChargeStatus::Declined(code),
            (_, ChargeOutcome::ActionRequired(_)) => ChargeStatus::ActionRequired,
            _ => ChargeStatus::Pending,
        })
    }

    async fn cancel(&self, reference: &str) -> Result<ChargeStatus, AcquirerError> {
        let key = step_key(reference, "void");
        self.post(&format!("/charges/{reference}/void"), &key, json!({}))
            .await?;
        // Answer what is true afterwards: a charge captured before the void stays approved.
        self.status(reference).await
    }

    async fn refund(&self, r: &RefundRequest<'_>) -> Result<RefundOutcome, AcquirerError> {
        let body = json!({"charge": r.transaction_id, "amount": r.amount.minor});
        let refund = self.post("/refunds", r.idempotency_key, body).await?;
        let refund_id = refund["id"].as_str().unwrap_or_default().to_string();
        Ok(match refund["state"].as_str() {
            Some("done") => RefundOutcome::Refunded { refund_id },
            Some("refused") => RefundOutcome::Refused(refund["reason"].to_string()),
            _ => RefundOutcome::Pending { refund_id },
        })
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(reference)) = (args.next(), args.next()) else {
        eprintln!("usage: own_processor PROCESSING_URL CHARGE_REFERENCE");
        std::process::exit(2);
    };
    let processor = MyProcessor {
        http: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_string(),
    };
    match processor.status(&reference).await {
        Ok(status) => println!("{reference}: {status:?}"),
        Err(e) => eprintln!("{reference}: {e}"),
    }
}
