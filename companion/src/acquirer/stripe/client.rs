//! A small typed client for the part of Stripe's API the adapter uses: PaymentMethods,
//! PaymentIntents and Refunds over form-encoded HTTPS, with the API version pinned so the shapes
//! in [`super::objects`] hold. Every mutating call takes an idempotency key; nothing here logs a
//! request body (the card travels in one) or the secret key.

use super::objects::{List, PaymentError, PaymentIntent, PaymentMethod, Refund};
use crate::acquirer::Card;
use crate::config::Secret;
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// The API version the objects are parsed for (refund `status`, `last_payment_error`). Stripe answers
/// every request in the version it names, whatever the account's default.
pub const API_VERSION: &str = "2024-06-20";

pub struct StripeClient {
    http: reqwest::Client,
    /// `…/v1/`
    api: Url,
    secret_key: Secret,
}

#[derive(Debug)]
pub enum StripeError {
    /// No usable answer: unreachable, timed out, cut off, or a success we could not read. The
    /// call may or may not have taken effect.
    NoAnswer(String),
    /// Stripe answered with an error status; `error` is its `{"error": …}` body.
    Api { status: u16, error: PaymentError },
    /// The reference is not an id of the expected kind, so Stripe cannot have it.
    InvalidId(String),
}

/// Form fields in order; Stripe's nested parameters are spelled out (`card[number]`).
pub type Form = Vec<(String, String)>;

/// What a new PaymentIntent says (`confirm=false`: opening one never moves money).
pub struct NewIntent<'a> {
    /// In Stripe's minor units ([`super::mapping::to_stripe_amount`]).
    pub amount: u64,
    /// Lower-case ISO code, as Stripe writes it.
    pub currency: &'a str,
    pub payment_method: &'a str,
    pub metadata: &'a [(&'a str, &'a str)],
}

impl StripeClient {
    pub fn new(api_base: &Url, secret_key: Secret, timeout: Duration) -> Result<Self, String> {
        let mut base = api_base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let api = base.join("v1/").map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("b24pay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(StripeClient {
            http,
            api,
            secret_key,
        })
    }

    pub async fn create_payment_method(
        &self,
        card: &Card,
        key: &str,
    ) -> Result<PaymentMethod, StripeError> {
        let mut form: Form = vec![
            ("type".into(), "card".into()),
            ("card[number]".into(), card.number.clone()),
            ("card[exp_month]".into(), card.exp_month.to_string()),
            ("card[exp_year]".into(), card.exp_year.to_string()),
            ("card[cvc]".into(), card.cvc.clone()),
        ];
        if let Some(name) = card.holder.as_deref().filter(|n| !n.trim().is_empty()) {
            form.push(("billing_details[name]".into(), name.trim().to_string()));
        }
        self.post("payment_methods", form, key).await
    }

    pub async fn create_payment_intent(
        &self,
        intent: &NewIntent<'_>,
        key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let mut form: Form = vec![
            ("amount".into(), intent.amount.to_string()),
            ("currency".into(), intent.currency.to_string()),
            ("payment_method".into(), intent.payment_method.to_string()),
            ("payment_method_types[0]".into(), "card".into()),
            ("capture_method".into(), "automatic".into()),
            ("confirm".into(), "false".into()),
        ];
        for (k, v) in intent.metadata {
            form.push((format!("metadata[{k}]"), v.to_string()));
        }
        self.post("payment_intents", form, key).await
    }

    pub async fn confirm_payment_intent(
        &self,
        id: &str,
        key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let id = intent_id(id)?;
        self.post(&format!("payment_intents/{id}/confirm"), Form::new(), key)
            .await
    }

    pub async fn cancel_payment_intent(
        &self,
        id: &str,
        key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let id = intent_id(id)?;
        self.post(&format!("payment_intents/{id}/cancel"), Form::new(), key)
            .await
    }

    /// Never creates anything.
    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        let id = intent_id(id)?;
        self.get(&format!("payment_intents/{id}"), &[]).await
    }

    /// The PaymentIntent's refunds, newest first (at most 100: far more than one payment has).
    pub async fn list_refunds(&self, intent: &str) -> Result<List<Refund>, StripeError> {
        let intent = intent_id(intent)?;
        self.get("refunds", &[("payment_intent", intent), ("limit", "100")])
            .await
    }

    pub async fn create_refund(
        &self,
        intent: &str,
        amount: u64,
        key: &str,
    ) -> Result<Refund, StripeError> {
        let intent = intent_id(intent)?;
        let form: Form = vec![
            ("payment_intent".into(), intent.to_string()),
            ("amount".into(), amount.to_string()),
            (
                format!("metadata[{}]", super::objects::meta::REFUND_KEY),
                key.into(),
            ),
        ];
        self.post("refunds", form, key).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, StripeError> {
        let request = self.http.get(self.url(path)?).query(query);
        self.send(request).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: Form,
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let request = self
            .http
            .post(self.url(path)?)
            .header("Idempotency-Key", idempotency_key)
            .form(&form);
        self.send(request).await
    }

    fn url(&self, path: &str) -> Result<Url, StripeError> {
        self.api
            .join(path)
            .map_err(|e| StripeError::InvalidId(e.to_string()))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, StripeError> {
        let response = request
            .bearer_auth(self.secret_key.expose())
            .header("Stripe-Version", API_VERSION)
            .send()
            .await
            .map_err(|e| StripeError::NoAnswer(transport_error(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| StripeError::NoAnswer(transport_error(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                StripeError::NoAnswer(format!("unreadable answer (HTTP {status}): {e}"))
            });
        }
        let error = serde_json::from_slice::<super::objects::ErrorBody>(&body)
            .map(|b| b.error)
            .unwrap_or_default();
        Err(StripeError::Api {
            status: status.as_u16(),
            error,
        })
    }
}

/// A PaymentIntent id as Stripe writes them (`pi_` and letters, digits, `_`); anything else is
/// refused before it can reach a URL path.
fn intent_id(id: &str) -> Result<&str, StripeError> {
    let ok = id.starts_with("pi_")
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(StripeError::InvalidId(format!(
            "{:?} is not a PaymentIntent id",
            id.chars().take(40).collect::<String>()
        )))
    }
}

/// What went wrong on the wire, without the URL's query (there is none with secrets, but the
/// rule is simpler kept absolute).
fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "answer cut off"
    } else {
        "request failed"
    };
    match e.url() {
        Some(u) => format!("{kind}: {} {}", u.host_str().unwrap_or(""), u.path()),
        None => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_ids() {
        assert!(intent_id("pi_3N0abcXYZ_1").is_ok());
        assert!(intent_id("pi_../../v1/charges").is_err());
        assert!(intent_id("ch_123").is_err());
        assert!(intent_id("pi_x?expand[]=a").is_err());
    }

    #[test]
    fn base_with_or_without_slash() {
        for base in ["http://127.0.0.1:9/", "http://127.0.0.1:9"] {
            let c = StripeClient::new(
                &Url::parse(base).unwrap(),
                Secret::new("sk_test_x"),
                Duration::from_secs(1),
            )
            .unwrap();
            assert_eq!(c.api.as_str(), "http://127.0.0.1:9/v1/");
        }
        let c = StripeClient::new(
            &Url::parse("http://proxy/stripe").unwrap(),
            Secret::new("sk_test_x"),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(c.api.as_str(), "http://proxy/stripe/v1/");
    }
}
