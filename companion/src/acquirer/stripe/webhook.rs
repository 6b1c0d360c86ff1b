//! Stripe webhooks: the `Stripe-Signature` check and the events the companion acts on.
//!
//! Stripe signs `"{t}.{raw body}"` with HMAC-SHA256 under the endpoint's secret and sends
//! `Stripe-Signature: t=…,v1=…[,v1=…]` (several `v1` while a secret is being rolled). A request
//! is accepted when its timestamp is within the tolerance of now (both ways) and one `v1`
//! matches, compared in constant time. Verify the raw bytes before parsing anything: a parsed
//! and re-serialised body no longer matches.
//!
//! An event is a signed hint, not the truth: it can arrive late, twice or out of order. The
//! reconciler asks [`crate::acquirer::Acquirer::status`] by the PaymentIntent id it names, so a
//! replayed event changes nothing.

use super::objects::{Charge, PaymentIntent};
use crate::config::Secret;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Stripe's own libraries' default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no Stripe-Signature header")]
    MissingSignature,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    MalformedSignature,
    #[error("the signature's timestamp is {age_s} s away from now")]
    OutsideTolerance { age_s: u64 },
    #[error("no v1 signature matches")]
    BadSignature,
    #[error("the signed body is not a Stripe event: {0}")]
    InvalidPayload(String),
}

impl WebhookError {
    /// A short, stable code for logs and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingSignature => "missing_signature",
            WebhookError::MalformedSignature => "malformed_signature",
            WebhookError::OutsideTolerance { .. } => "stale_signature",
            WebhookError::BadSignature => "bad_signature",
            WebhookError::InvalidPayload(_) => "invalid_payload",
        }
    }
}

/// An event the companion acts on; every other type is [`EventKind::Ignored`].
#[derive(Clone, Debug)]
pub enum EventKind {
    /// `payment_intent.succeeded`
    PaymentSucceeded(PaymentIntent),
    /// `payment_intent.payment_failed`
    PaymentFailed(PaymentIntent),
    /// `charge.refunded` (fully or partly)
    ChargeRefunded(Charge),
    Ignored(String),
}

#[derive(Clone, Debug)]
pub struct Event {
    /// `evt_…`: Stripe may deliver one event several times.
    pub id: String,
    pub created: i64,
    pub livemode: bool,
    pub kind: EventKind,
}

impl Event {
    /// The PaymentIntent the event is about (`pi_…`), to ask the acquirer about.
    pub fn payment_intent(&self) -> Option<&str> {
        match &self.kind {
            EventKind::PaymentSucceeded(pi) | EventKind::PaymentFailed(pi) => Some(&pi.id),
            EventKind::ChargeRefunded(ch) => ch.payment_intent.as_deref(),
            EventKind::Ignored(_) => None,
        }
    }
}

pub struct WebhookVerifier {
    secret: Secret,
    tolerance: Duration,
}

impl WebhookVerifier {
    pub fn new(secret: Secret) -> WebhookVerifier {
        WebhookVerifier {
            secret,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    pub fn with_tolerance(mut self, tolerance: Duration) -> WebhookVerifier {
        self.tolerance = tolerance;
        self
    }

    /// Verifies the signature of the raw body, then parses the event.
    pub fn event(&self, signature: Option<&str>, body: &[u8]) -> Result<Event, WebhookError> {
        self.verify_at(signature, body, SystemTime::now())?;
        parse_event(body)
    }

    /// The signature check alone, at a given time (tests and replays use it).
    pub fn verify_at(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        let header = signature.ok_or(WebhookError::MissingSignature)?;
        let (timestamp, signatures) = parse_header(header)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let age_s = now.abs_diff(timestamp);
        if age_s > self.tolerance.as_secs() {
            return Err(WebhookError::OutsideTolerance { age_s });
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time; every candidate is checked.
        let matched = signatures
            .iter()
            .filter(|s| mac.clone().verify_slice(s).is_ok())
            .count();
        if matched > 0 {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }
}

/// `t=…,v1=…,v1=…,v0=…` → the timestamp and the decoded `v1` signatures (other schemes ignored).
fn parse_header(header: &str) -> Result<(i64, Vec<Vec<u8>>), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", hex)) => {
                if let Some(bytes) = decode_hex(hex) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    match timestamp {
        Some(t) if !signatures.is_empty() => Ok((t, signatures)),
        _ => Err(WebhookError::MalformedSignature),
    }
}

/// The header Stripe would send for `body` at `timestamp` (tests; a local event forwarder).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    #[serde(default)]
    livemode: bool,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: serde_json::Value,
}

/// Parses a (verified) body into an [`Event`].
pub fn parse_event(body: &[u8]) -> Result<Event, WebhookError> {
    let invalid = |e: serde_json::Error| WebhookError::InvalidPayload(e.to_string());
    let raw: RawEvent = serde_json::from_slice(body).map_err(invalid)?;
    let object = raw.data.object;
    let kind = match raw.kind.as_str() {
        "payment_intent.succeeded" => {
            EventKind::PaymentSucceeded(serde_json::from_value(object).map_err(invalid)?)
        }
        "payment_intent.payment_failed" => {
            EventKind::PaymentFailed(serde_json::from_value(object).map_err(invalid)?)
        }
        "charge.refunded" => {
            EventKind::ChargeRefunded(serde_json::from_value(object).map_err(invalid)?)
        }
        _ => EventKind::Ignored(raw.kind),
    };
    Ok(Event {
        id: raw.id,
        created: raw.created,
        livemode: raw.livemode,
        kind,
    })
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
