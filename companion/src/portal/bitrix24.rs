//! [`Portal`] over the real REST client (`bitrix24-client`), webhook or OAuth; OAuth tokens are
//! persisted (encrypted) in the store so a refreshed (single-use) refresh token survives
//! restarts and is shared by every instance ([`super::tokens`]). The outbox's calls
//! (`mark_paid`, `is_paid`) have the background priority: customers cannot use up their share
//! of the portal's request budget.

use super::tokens::StoreTokens;
use super::*;
use crate::config::{PortalAuth, PortalSettings};
use crate::keys::Subkey;
use crate::store::{now_ms, SharedStore};
use b24pay_protocol::ids::{InvoiceId, PaySystemId, PaymentId};
use b24pay_protocol::Currency;
use bitrix24_client::{
    Auth, Client, Error, ListQuery, MethodError, OAuthConfig, OAuthTokens, PayInvoice, PayPayment,
    PaySystemRef, Priority, PsExtras, RateLimit, Retry, RetryClass, RetryConfig, SystemError,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the pay-system list is trusted; a registry change reaches us within this.
const PAY_SYSTEM_TTL: Duration = Duration::from_secs(60);
/// `/readyz` is polled often; the portal's rate limit is small.
const PING_TTL: Duration = Duration::from_secs(10);
/// The furthest ahead a portal's "retry at" is believed (its operating limit resets within
/// 10 minutes): a hostile value cannot park the outbox for years.
const MAX_RETRY_AT_MS: i64 = 10 * 60 * 1000;

pub struct Bitrix24Portal {
    client: Client,
    pay_systems: Mutex<Option<(Instant, HashMap<PaySystemId, PaySystem>)>>,
    /// One list call at a time: concurrent cold lookups wait for the same refresh.
    refresh: tokio::sync::Mutex<()>,
    last_ping: Mutex<Option<Instant>>,
}

impl Bitrix24Portal {
    /// A legacy invoice's payment, read by invoice id and checked to be this very payment.
    async fn invoice_facts(&self, r: &PaymentRef) -> Result<PaymentFacts, PortalError> {
        let invoice_id = r.invoice_id.ok_or_else(|| {
            PortalError::NotFound("a legacy invoice's payment needs its invoice id".into())
        })?;
        let map = self
            .client
            .settings_invoice_get(invoice_id.get(), &PaySystemRef::Id(r.paysystem_id.get()))
            .await
            .map_err(|e| map_error(&e))?;
        let facts = facts_from_settings(&map)?;
        match facts.payment_id {
            Some(p) if p == r.payment_id => {}
            Some(_) => {
                return Err(PortalError::NotFound(
                    "the payment does not belong to this invoice".into(),
                ))
            }
            None => {
                return Err(PortalError::NotConfigured(format!(
                    "{} has no value (run `b24pay register` again)",
                    codes::PAYMENT_ID
                )))
            }
        }
        if facts.order_id.is_some_and(|o| o != invoice_id) {
            return Err(PortalError::NotFound("invoice id mismatch".into()));
        }
        Ok(facts)
    }

    pub fn new(client: Client) -> Bitrix24Portal {
        Bitrix24Portal {
            client,
            pay_systems: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            last_ping: Mutex::new(None),
        }
    }

    /// The client as configured: retries bounded so a customer's request fails in seconds,
    /// not minutes (the outbox retries on its own schedule).
    pub async fn connect(
        settings: &PortalSettings,
        store: SharedStore,
        token_key: Subkey,
    ) -> Result<Bitrix24Portal, String> {
        let auth = match &settings.auth {
            PortalAuth::Webhook(url) => Auth::webhook(url.expose()).map_err(|e| e.to_string())?,
            PortalAuth::OAuth(o) => {
                let mut config = OAuthConfig::new(
                    o.portal_url.as_str(),
                    o.client_id.clone(),
                    o.client_secret.expose(),
                )
                .map_err(|e| e.to_string())?;
                if let Some(endpoint) = &o.token_endpoint {
                    config = config
                        .with_token_endpoint(endpoint.as_str())
                        .map_err(|e| e.to_string())?;
                }
                // Tokens saved by an earlier refresh are newer than the configured ones.
                let store_tokens = StoreTokens::new(store, token_key);
                let saved = store_tokens
                    .saved()
                    .await
                    .map_err(|e| format!("stored OAuth tokens: {e}"))?;
                let tokens = match saved {
                    Some(t) => t,
                    None => OAuthTokens::new(
                        o.access_token
                            .as_ref()
                            .map(|s| s.expose().to_string())
                            .unwrap_or_default(),
                        o.refresh_token
                            .as_ref()
                            .map(|s| s.expose().to_string())
                            .ok_or("portal.oauth.refresh_token is required until the first refresh is stored")?,
                    ),
                };
                Auth::oauth(config, tokens, Arc::new(store_tokens))
            }
        };
        let client = Client::builder(auth)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .rate_limit(
                settings
                    .rate_limit
                    .map(|(per_second, burst)| RateLimit { per_second, burst }),
            )
            .customer_share(settings.customer_share)
            .retry(RetryConfig {
                max_attempts: 3,
                base_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(2),
                max_total: settings.timeout.min(Duration::from_secs(10)),
            })
            .user_agent(concat!("b24pay-companion/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Bitrix24Portal::new(client))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client with the outbox's priority in the portal's request budget.
    fn background_client(&self) -> Client {
        self.client.with_priority(Priority::Background)
    }

    async fn load_pay_systems(&self) -> Result<HashMap<PaySystemId, PaySystem>, PortalError> {
        let list = self
            .client
            .paysystem_list(&ListQuery::all())
            .await
            .map_err(|e| map_error(&e))?;
        Ok(list
            .into_iter()
            .filter_map(|p| {
                let id = PaySystemId::from_u64(p.id?).ok()?;
                let registry = match p.registry() {
                    Some(bitrix24_client::EntityRegistryType::CrmInvoice) => Registry::CrmInvoice,
                    _ => Registry::Order,
                };
                let ours = p.handler_code() == Some(HANDLER_CODE) && p.active != Some(false);
                Some((id, PaySystem { registry, ours }))
            })
            .collect())
    }

    fn cached(&self, id: PaySystemId) -> Option<Option<PaySystem>> {
        let guard = self.pay_systems.lock().expect("not poisoned");
        match &*guard {
            Some((at, map)) if at.elapsed() < PAY_SYSTEM_TTL => Some(map.get(&id).cloned()),
            _ => None,
        }
    }
}

/// Maps the client's errors onto what the flow decides by.
fn map_error(e: &Error) -> PortalError {
    let code = e.code().to_string();
    let message = e.to_string();
    match e {
        Error::Method {
            code:
                MethodError::CheckFailure
                | MethodError::PaySystemNotFound
                | MethodError::HandlerNotFound
                | MethodError::PersonTypeNotFound,
            ..
        } => PortalError::NotFound(message),
        Error::Method { code: m, .. } if m.as_str().contains("NOT_FOUND") => {
            PortalError::NotFound(message)
        }
        Error::System {
            code: SystemError::QueryLimitExceeded | SystemError::OperationTimeLimit,
            operating_reset_at,
            retry_after,
            ..
        } => PortalError::RateLimited {
            code,
            retry_at: retry_at_ms(now_ms(), *operating_reset_at, *retry_after),
        },
        _ => match e.retry_class() {
            RetryClass::Ambiguous => PortalError::Ambiguous { code, message },
            RetryClass::NotExecuted => PortalError::Unavailable { code, message },
            RetryClass::Permanent => PortalError::Refused { code, message },
        },
    }
}

/// When a rate-limited call may be sent again (Unix ms), from the portal's reset time
/// (seconds) or `Retry-After` (seconds from now): saturating, and at most 10 minutes ahead.
fn retry_at_ms(now: i64, operating_reset_at: Option<i64>, retry_after: Option<u64>) -> Option<i64> {
    let at = operating_reset_at
        .map(|s| s.saturating_mul(1000))
        .or_else(|| {
            retry_after.map(|s| {
                let ms = i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000);
                now.saturating_add(ms)
            })
        })?;
    Some(at.clamp(now, now.saturating_add(MAX_RETRY_AT_MS)))
}

fn non_empty(map: &BTreeMap<String, String>, key: &str) -> Option<String> {
    map.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Turns `settings.payment.get`'s flat map into facts, refusing anything ambiguous.
pub fn facts_from_settings(map: &BTreeMap<String, String>) -> Result<PaymentFacts, PortalError> {
    let missing = |code: &str| PortalError::NotConfigured(format!("{code} has no value"));
    let currency_text =
        non_empty(map, codes::PAYMENT_CURRENCY).ok_or_else(|| missing(codes::PAYMENT_CURRENCY))?;
    let currency = Currency::parse(&currency_text).ok_or_else(|| {
        PortalError::NotConfigured(format!(
            "{} is not an ISO 4217 code",
            codes::PAYMENT_CURRENCY
        ))
    })?;
    let sum = non_empty(map, codes::PAYMENT_SUM).ok_or_else(|| missing(codes::PAYMENT_SUM))?;
    let amount = Money::parse(&sum, currency).map_err(|e| {
        PortalError::NotConfigured(format!(
            "{} is not a usable amount ({e:?})",
            codes::PAYMENT_SUM
        ))
    })?;
    let paid = match non_empty(map, codes::PAYMENT_PAID).as_deref() {
        Some("Y") | Some("y") => true,
        Some("N") | Some("n") | None => false,
        Some(_) => {
            return Err(PortalError::NotConfigured(format!(
                "{} is neither Y nor N",
                codes::PAYMENT_PAID
            )))
        }
    };
    let mode = match non_empty(map, codes::MODE)
        .map(|m| m.to_ascii_uppercase())
        .as_deref()
    {
        Some("TEST") => Mode::Test,
        Some("LIVE") => Mode::Live,
        _ => {
            return Err(PortalError::NotConfigured(format!(
                "{} must be TEST or LIVE",
                codes::MODE
            )))
        }
    };
    Ok(PaymentFacts {
        amount,
        paid,
        mode,
        shop_id: non_empty(map, codes::SHOP_ID),
        secret_key: non_empty(map, codes::SECRET_KEY),
        order_id: non_empty(map, codes::ORDER_ID).and_then(|o| InvoiceId::parse(&o).ok()),
        payment_id: non_empty(map, codes::PAYMENT_ID).and_then(|p| PaymentId::parse(&p).ok()),
    })
}

#[async_trait]
impl Portal for Bitrix24Portal {
    async fn payment_facts(&self, r: &PaymentRef) -> Result<PaymentFacts, PortalError> {
        match r.registry {
            Registry::Order => {
                let map = self
                    .client
                    .settings_payment_get(r.payment_id.get(), r.paysystem_id.get())
                    .await
                    .map_err(|e| map_error(&e))?;
                facts_from_settings(&map)
            }
            Registry::CrmInvoice => self.invoice_facts(r).await,
        }
    }

    async fn pay_system(&self, paysystem_id: PaySystemId) -> Result<PaySystem, PortalError> {
        if let Some(found) = self.cached(paysystem_id) {
            return found
                .ok_or_else(|| PortalError::NotFound(format!("pay system {paysystem_id}")));
        }
        let _one_at_a_time = self.refresh.lock().await;
        if let Some(found) = self.cached(paysystem_id) {
            return found
                .ok_or_else(|| PortalError::NotFound(format!("pay system {paysystem_id}")));
        }
        let map = self.load_pay_systems().await?;
        let found = map.get(&paysystem_id).cloned();
        *self.pay_systems.lock().expect("not poisoned") = Some((Instant::now(), map));
        found.ok_or_else(|| PortalError::NotFound(format!("pay system {paysystem_id}")))
    }

    async fn mark_paid(&self, call: &MarkPaid) -> Result<(), PortalError> {
        let extras = PsExtras {
            ps_invoice_id: Some(call.ps_invoice_id.clone()),
            ps_status_code: Some(call.ps_status_code.clone()),
            ps_status_message: Some(call.ps_status_message.clone()),
            ps_status_description: Some(call.ps_status_description.clone())
                .filter(|d| !d.is_empty()),
            ps_sum: Some(call.ps_sum.clone()),
            ps_currency: Some(call.ps_currency.clone()),
            ps_card_number: Some(call.ps_card_number.clone()),
            ..PsExtras::default()
        };
        let paysystem_id = call.paysystem_id.get();
        // Only provably unexecuted failures are retried inside the client; anything ambiguous
        // comes back here so the outbox re-reads PAID before calling again.
        let accepted = match call.registry {
            Registry::Order => {
                let pay = PayPayment {
                    payment_id: call.payment_id.get(),
                    paysystem_id,
                    extras,
                };
                self.background_client()
                    .pay_payment(&pay, Retry::IfNotExecuted)
                    .await
            }
            Registry::CrmInvoice => {
                let invoice_id = call
                    .invoice_id
                    .ok_or_else(|| PortalError::NotConfigured("no invoice id".into()))?;
                let pay = PayInvoice {
                    invoice_id: invoice_id.get(),
                    pay_system: PaySystemRef::Id(paysystem_id),
                };
                self.background_client()
                    .pay_invoice(&pay, Retry::IfNotExecuted)
                    .await
            }
        }
        .map_err(|e| map_error(&e))?;
        if accepted {
            Ok(())
        } else {
            Err(PortalError::Ambiguous {
                code: "RESULT_FALSE".into(),
                message: "the portal answered false".into(),
            })
        }
    }

    /// The outbox's re-read: the same read as `payment_facts`, with the background priority
    /// (and none of this portal's caches: a fresh view with that client).
    async fn is_paid(&self, call: &MarkPaid) -> Result<bool, PortalError> {
        let background = Bitrix24Portal::new(self.background_client());
        Ok(background.payment_facts(&call.payment()).await?.paid)
    }

    async fn ping(&self) -> Result<(), PortalError> {
        if self
            .last_ping
            .lock()
            .expect("not poisoned")
            .is_some_and(|at| at.elapsed() < PING_TTL)
        {
            return Ok(());
        }
        let map = self.load_pay_systems().await?;
        *self.pay_systems.lock().expect("not poisoned") = Some((Instant::now(), map));
        *self.last_ping.lock().expect("not poisoned") = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hostile_retry_times_saturate_and_are_bounded() {
        let now = 1_700_000_000_000;
        let ten_minutes = now + MAX_RETRY_AT_MS;
        assert_eq!(retry_at_ms(now, Some(i64::MAX), None), Some(ten_minutes));
        assert_eq!(retry_at_ms(now, Some(i64::MIN), None), Some(now));
        assert_eq!(retry_at_ms(now, None, Some(u64::MAX)), Some(ten_minutes));
        assert_eq!(retry_at_ms(now, None, Some(5)), Some(now + 5_000));
        assert_eq!(
            retry_at_ms(now, Some(now / 1000 + 60), Some(5)),
            Some(now + 60_000)
        );
        assert_eq!(retry_at_ms(i64::MAX, None, Some(u64::MAX)), Some(i64::MAX));
        assert_eq!(retry_at_ms(now, None, None), None);
    }

    #[test]
    fn facts_parse_portal_values() {
        let f = facts_from_settings(&map(&[
            ("B24PAY_PAYMENT_SUM", "1250.5000"),
            ("B24PAY_PAYMENT_CURRENCY", "RUB"),
            ("B24PAY_PAYMENT_PAID", "N"),
            ("B24PAY_MODE", "TEST"),
            ("B24PAY_SECRET_KEY", "s3cr3t"),
            ("B24PAY_ORDER_ID", "17"),
        ]))
        .unwrap();
        assert_eq!(f.amount.minor, 125_050);
        assert!(!f.paid);
        assert_eq!(f.mode, Mode::Test);
        assert_eq!(f.order_id.map(|o| o.get()), Some(17));
        assert!(!format!("{f:?}").contains("s3cr3t"));
    }

    #[test]
    fn facts_refuse_gaps() {
        let base = [
            ("B24PAY_PAYMENT_SUM", "10"),
            ("B24PAY_PAYMENT_CURRENCY", "USD"),
            ("B24PAY_PAYMENT_PAID", "N"),
            ("B24PAY_MODE", "TEST"),
        ];
        for drop in 0..base.len() {
            let mut m = map(&base);
            m.remove(base[drop].0);
            let r = facts_from_settings(&m);
            // PAID may be absent (unpaid); everything else is required.
            assert_eq!(
                r.is_ok(),
                base[drop].0 == "B24PAY_PAYMENT_PAID",
                "{}",
                base[drop].0
            );
        }
        let mut m = map(&base);
        m.insert("B24PAY_MODE".into(), "PROD".into());
        assert!(matches!(
            facts_from_settings(&m),
            Err(PortalError::NotConfigured(_))
        ));
    }
}
