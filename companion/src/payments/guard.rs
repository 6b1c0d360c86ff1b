//! What stands in front of every portal call a customer can cause: a limit per client address,
//! a limit per payment, and a short memory of refusals (no such payment, already paid), so that
//! nobody can spend the portal's small request budget (2 requests/s) with made-up requests or
//! learn anything from the timing of repeated ones. Limits are per instance (in memory).

use super::{ConfirmInput, PaymentError};
use crate::portal::PortalKey;
use b24pay_protocol::ids::{InvoiceId, PaySystemId, PaymentId};
use b24pay_protocol::Money;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many refusals are remembered; beyond it the oldest are forgotten first.
const MAX_REMEMBERED: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardSettings {
    /// Confirm requests per client address and minute; 0 turns the limit off.
    pub per_client_per_minute: u32,
    pub per_client_burst: u32,
    /// Confirm requests per portal payment and minute; 0 turns the limit off.
    pub per_payment_per_minute: u32,
    pub per_payment_burst: u32,
    /// How long "no such payment" and "already paid" are answered from memory.
    pub refusal_ttl: Duration,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            per_client_per_minute: 30,
            per_client_burst: 10,
            per_payment_per_minute: 12,
            per_payment_burst: 6,
            refusal_ttl: Duration::from_secs(30),
        }
    }
}

/// One request's identity for the refusal memory: a refusal for another amount says nothing
/// about this one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RequestKey {
    /// Portals number their payments independently: one's refusal says nothing of another's.
    portal: PortalKey,
    paysystem_id: PaySystemId,
    payment_id: PaymentId,
    invoice_id: Option<InvoiceId>,
    amount: Money,
}

#[derive(Clone, Copy, Debug)]
enum Refusal {
    Unavailable,
    AlreadyPaid,
}

pub(super) struct Guard {
    per_client: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_payment: Option<DefaultKeyedRateLimiter<(PortalKey, PaySystemId, PaymentId)>>,
    refusals: Mutex<HashMap<RequestKey, (Instant, Refusal)>>,
    refusal_ttl: Duration,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(
    per_minute: u32,
    burst: u32,
) -> Option<DefaultKeyedRateLimiter<K>> {
    let per_minute = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
    Some(RateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &Option<DefaultKeyedRateLimiter<K>>,
    key: &K,
) -> Result<(), PaymentError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        PaymentError::TooManyAttempts {
            retry_after: wait.max(Duration::from_secs(1)),
        }
    })
}

fn key_of(input: &ConfirmInput) -> RequestKey {
    RequestKey {
        portal: input.portal.clone(),
        paysystem_id: input.paysystem_id,
        payment_id: input.payment_id,
        invoice_id: input.invoice_id,
        amount: input.amount,
    }
}

impl Guard {
    pub(super) fn new(s: &GuardSettings) -> Guard {
        Guard {
            per_client: limiter(s.per_client_per_minute, s.per_client_burst),
            per_payment: limiter(s.per_payment_per_minute, s.per_payment_burst),
            refusals: Mutex::new(HashMap::new()),
            refusal_ttl: s.refusal_ttl,
        }
    }

    /// Lets a confirm request through to the portal, or says why not.
    pub(super) fn admit(&self, client: IpAddr, input: &ConfirmInput) -> Result<(), PaymentError> {
        check(&self.per_client, &client)?;
        if let Some(refusal) = self.remembered(input) {
            return Err(match refusal {
                Refusal::Unavailable => PaymentError::Unavailable,
                Refusal::AlreadyPaid => PaymentError::AlreadyPaid,
            });
        }
        check(
            &self.per_payment,
            &(input.portal.clone(), input.paysystem_id, input.payment_id),
        )
    }

    fn remembered(&self, input: &ConfirmInput) -> Option<Refusal> {
        let refusals = self.refusals.lock().expect("not poisoned");
        match refusals.get(&key_of(input)) {
            Some((until, refusal)) if *until > Instant::now() => Some(*refusal),
            _ => None,
        }
    }

    /// Remembers a refusal the portal gave, for `refusal_ttl`.
    pub(super) fn remember_refusal(&self, input: &ConfirmInput, e: &PaymentError) {
        let refusal = match e {
            PaymentError::Unavailable => Refusal::Unavailable,
            PaymentError::AlreadyPaid => Refusal::AlreadyPaid,
            _ => return,
        };
        if self.refusal_ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut refusals = self.refusals.lock().expect("not poisoned");
        if refusals.len() >= MAX_REMEMBERED {
            refusals.retain(|_, (until, _)| *until > now);
            if refusals.len() >= MAX_REMEMBERED {
                refusals.clear();
            }
        }
        refusals.insert(key_of(input), (now + self.refusal_ttl, refusal));
    }

    /// Drops what the limiters and the refusal memory keep about keys that went quiet.
    pub(super) fn forget_idle(&self) {
        for limiter in [&self.per_client].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_payment {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        self.refusals
            .lock()
            .expect("not poisoned")
            .retain(|_, (until, _)| *until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquirer::Card;
    use b24pay_protocol::Currency;

    fn input(payment: u64, amount: u64) -> ConfirmInput {
        ConfirmInput {
            payment_id: PaymentId::from_u64(payment).unwrap(),
            paysystem_id: PaySystemId::from_u64(1).unwrap(),
            amount: Money {
                minor: amount,
                currency: Currency::parse("RUB").unwrap(),
            },
            card: Card {
                number: "4242424242424242".into(),
                exp_month: 1,
                exp_year: 2040,
                cvc: "123".into(),
                holder: None,
                brand: None,
            },
            invoice_id: None,
            session: None,
            portal: PortalKey::configured(),
        }
    }

    #[test]
    fn a_client_over_its_burst_waits() {
        let g = Guard::new(&GuardSettings {
            per_client_per_minute: 6,
            per_client_burst: 3,
            ..GuardSettings::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for n in 0..3 {
            assert!(g.admit(ip, &input(n + 1, 100)).is_ok());
        }
        match g.admit(ip, &input(9, 100)) {
            Err(PaymentError::TooManyAttempts { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1), "{retry_after:?}")
            }
            other => panic!("{other:?}"),
        }
        assert!(g
            .admit("192.0.2.2".parse().unwrap(), &input(9, 100))
            .is_ok());
    }

    #[test]
    fn refusals_are_remembered_per_amount() {
        let g = Guard::new(&GuardSettings::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        g.remember_refusal(&input(5, 100), &PaymentError::AlreadyPaid);
        assert!(matches!(
            g.admit(ip, &input(5, 100)),
            Err(PaymentError::AlreadyPaid)
        ));
        assert!(g.admit(ip, &input(5, 200)).is_ok());
        g.remember_refusal(&input(6, 100), &PaymentError::PortalUnavailable);
        assert!(
            g.admit(ip, &input(6, 100)).is_ok(),
            "transient errors are not cached"
        );
    }
}
