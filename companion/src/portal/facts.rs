//! The portal's answers as the flow decides by: the client's errors mapped onto
//! [`PortalError`], and `settings.payment.get`'s flat map parsed into [`PaymentFacts`].

use super::coalesce::Read;
use super::*;
use crate::store::now_ms;
use b24pay_protocol::ids::{InvoiceId, PaymentId};
use b24pay_protocol::Currency;
use bitrix24_client::{Error, MethodError, RetryClass, SystemError};
use std::collections::BTreeMap;

/// The furthest ahead a portal's "retry at" is believed (its operating limit resets within
/// 10 minutes): a hostile value cannot park the outbox for years.
const MAX_RETRY_AT_MS: i64 = 10 * 60 * 1000;

/// Maps the client's errors onto what the flow decides by.
pub(super) fn map_error(e: &Error) -> PortalError {
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
        // Our own budget has no slot within the call's patience: nothing was sent, and the
        // caller is told when a slot frees up (429 and Retry-After), not that the portal is down.
        Error::Throttled { wait, .. } => {
            let now = now_ms();
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            PortalError::RateLimited {
                code,
                retry_at: Some(now.saturating_add(wait_ms.min(MAX_RETRY_AT_MS))),
            }
        }
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

/// The read that gives a payment's facts (an order's payment).
pub(super) fn payment_read(r: &PaymentRef) -> Read {
    Read::Payment {
        payment_id: r.payment_id.get(),
        paysystem_id: r.paysystem_id.get(),
    }
}

/// The read that gives a legacy invoice's payment's facts: by invoice id.
pub(super) fn invoice_read(r: &PaymentRef) -> Result<Read, PortalError> {
    let invoice_id = r.invoice_id.ok_or_else(|| {
        PortalError::NotFound("a legacy invoice's payment needs its invoice id".into())
    })?;
    Ok(Read::Invoice {
        invoice_id: invoice_id.get(),
        paysystem_id: r.paysystem_id.get(),
    })
}

/// Either read, by the payment's registry.
pub(super) fn read_for(r: &PaymentRef) -> Result<Read, PortalError> {
    match r.registry {
        Registry::Order => Ok(payment_read(r)),
        Registry::CrmInvoice => invoice_read(r),
    }
}

/// The facts `read_for(r)` answered, checked (for a legacy invoice) to be this very payment.
pub(super) fn checked_facts(
    r: &PaymentRef,
    map: &BTreeMap<String, String>,
) -> Result<PaymentFacts, PortalError> {
    match r.registry {
        Registry::Order => facts_from_settings(map),
        Registry::CrmInvoice => invoice_checked(r, map),
    }
}

/// A legacy invoice's settings, checked to be the payment `r` names.
pub(super) fn invoice_checked(
    r: &PaymentRef,
    map: &BTreeMap<String, String>,
) -> Result<PaymentFacts, PortalError> {
    let facts = facts_from_settings(map)?;
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
    if facts
        .order_id
        .zip(r.invoice_id)
        .is_some_and(|(o, i)| o != i)
    {
        return Err(PortalError::NotFound("invoice id mismatch".into()));
    }
    Ok(facts)
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
    fn our_own_budget_refusing_is_a_rate_limit_with_its_wait() {
        let throttled = Error::Throttled {
            call: bitrix24_client::Call::new("sale.paysystem.settings.payment.get", "portal"),
            wait: std::time::Duration::from_secs(7),
        };
        let before = now_ms();
        match map_error(&throttled) {
            PortalError::RateLimited {
                retry_at: Some(at), ..
            } => assert!((before + 7_000..=now_ms() + 7_000).contains(&at), "{at}"),
            other => panic!("{other:?}"),
        }
        let absurd = Error::Throttled {
            call: bitrix24_client::Call::new("m", "portal"),
            wait: std::time::Duration::MAX,
        };
        match map_error(&absurd) {
            PortalError::RateLimited {
                retry_at: Some(at), ..
            } => assert!(at <= now_ms() + MAX_RETRY_AT_MS),
            other => panic!("{other:?}"),
        }
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
