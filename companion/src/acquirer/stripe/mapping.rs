//! What Stripe's answers mean for us, in one place: a PaymentIntent's state as a [`Stage`], its
//! decline codes as our [`DeclineCode`]s, its errors as [`AcquirerError`]s, and amounts in
//! Stripe's minor units.

use super::client::StripeError;
use super::objects::{IntentStatus, PaymentError, PaymentIntent};
use crate::acquirer::AcquirerError;
use b24pay_protocol::api::DeclineCode;
use b24pay_protocol::{Currency, Money};

/// Why a confirmation failed, as far as the customer is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Declined(DeclineCode),
    /// Stripe's `processing_error`: nothing was charged and trying again is safe.
    Transient,
}

/// Where a PaymentIntent stands, read from its `status` and `last_payment_error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `succeeded`: the money moved.
    Succeeded,
    /// `processing`, or a status this adapter does not know: not decided yet.
    Processing,
    /// `requires_capture`: authorised, not captured (this adapter captures automatically).
    Authorized,
    /// `requires_confirmation`: opened, a `confirm` may still be on its way.
    Unconfirmed,
    /// `requires_action`: waiting for the customer (3-D Secure through Stripe.js).
    NeedsAction,
    /// `requires_payment_method`: the last try failed (or none was made). No money moved, but the
    /// intent is still open — its client secret could confirm it again — so it is cancelled
    /// before anyone calls it final.
    Failed(Failure),
    /// `canceled`: no money moved and none can. Carries the failure that preceded it, if any.
    Canceled(Option<Failure>),
}

impl Stage {
    pub fn of(pi: &PaymentIntent) -> Stage {
        let failure = pi.last_payment_error.as_ref().map(failure);
        match pi.status {
            IntentStatus::Succeeded => Stage::Succeeded,
            IntentStatus::Processing | IntentStatus::Unknown => Stage::Processing,
            IntentStatus::RequiresCapture => Stage::Authorized,
            IntentStatus::RequiresConfirmation => Stage::Unconfirmed,
            IntentStatus::RequiresAction => Stage::NeedsAction,
            IntentStatus::RequiresPaymentMethod => {
                Stage::Failed(failure.unwrap_or(Failure::Declined(DeclineCode::GenericDecline)))
            }
            IntentStatus::Canceled => Stage::Canceled(failure),
        }
    }

    /// Whether `POST /cancel` is allowed (Stripe refuses it for `processing` and final states).
    pub fn cancelable(self) -> bool {
        matches!(
            self,
            Stage::Authorized | Stage::Unconfirmed | Stage::NeedsAction | Stage::Failed(_)
        )
    }
}

/// Stripe's codes to ours. `decline_code` (the issuer's reason) wins over `code` (Stripe's
/// error code). Stripe asks integrations to show lost/stolen/fraud declines as generic ones, and
/// unknown codes are generic too.
pub fn failure(e: &PaymentError) -> Failure {
    let code = e
        .decline_code
        .as_deref()
        .or(e.code.as_deref())
        .unwrap_or("");
    match code {
        "processing_error" | "try_again_later" | "reenter_transaction" => Failure::Transient,
        "insufficient_funds" => Failure::Declined(DeclineCode::InsufficientFunds),
        "expired_card" => Failure::Declined(DeclineCode::ExpiredCard),
        "incorrect_cvc" | "invalid_cvc" => Failure::Declined(DeclineCode::IncorrectCvc),
        "authentication_required" | "payment_intent_authentication_failure" => {
            Failure::Declined(DeclineCode::ChallengeFailed)
        }
        _ => Failure::Declined(DeclineCode::GenericDecline),
    }
}

/// A card error's code as the decline the customer sees.
pub fn decline_code(e: &PaymentError) -> DeclineCode {
    match failure(e) {
        Failure::Declined(code) => code,
        Failure::Transient => DeclineCode::ProcessingError,
    }
}

/// Stripe's exponent where it differs from ISO 4217's (docs.stripe.com/currencies).
fn stripe_exponent(currency: Currency) -> u8 {
    match currency.code() {
        // ISO: 0. Stripe keeps two decimals and accepts whole krónur only.
        "ISK" => 2,
        // ISO: 2. Stripe: zero-decimal.
        "MGA" => 0,
        _ => currency.minor_units(),
    }
}

/// An amount in Stripe's minor units, or why Stripe could not charge it.
pub fn to_stripe_amount(money: Money) -> Result<u64, String> {
    let iso = money.currency.minor_units() as u32;
    let stripe = stripe_exponent(money.currency) as u32;
    let amount = if stripe >= iso {
        money.minor.checked_mul(10u64.pow(stripe - iso))
    } else {
        let unit = 10u64.pow(iso - stripe);
        (money.minor % unit == 0).then(|| money.minor / unit)
    };
    // Three-decimal currencies: Stripe requires the last digit to be 0.
    let amount = amount.filter(|a| stripe != 3 || a % 10 == 0);
    amount.ok_or_else(|| {
        format!(
            "{money} cannot be expressed in Stripe's units of {}",
            money.currency
        )
    })
}

/// Stripe's amount back into ours, when it is a whole number of our minor units.
pub fn from_stripe_amount(amount: u64, currency: &str) -> Option<Money> {
    let currency = Currency::parse(currency)?;
    let iso = currency.minor_units() as u32;
    let stripe = stripe_exponent(currency) as u32;
    let minor = if iso >= stripe {
        amount.checked_mul(10u64.pow(iso - stripe))?
    } else {
        let unit = 10u64.pow(stripe - iso);
        (amount % unit == 0).then(|| amount / unit)?
    };
    Some(Money { minor, currency })
}

/// A Stripe failure as the trait's error: no answer, 409 (the same key in flight), 429 and 5xx
/// may have taken effect (`Unavailable`); other refusals did not act (`Refused`).
pub fn acquirer_error(e: &StripeError) -> AcquirerError {
    match e {
        StripeError::NoAnswer(m) => AcquirerError::Unavailable(format!("Stripe: {m}")),
        StripeError::InvalidId(m) => AcquirerError::Refused(m.clone()),
        StripeError::Api { status, error }
            if *status == 409 || *status == 429 || *status >= 500 =>
        {
            AcquirerError::Unavailable(describe(*status, error))
        }
        StripeError::Api { status, error } => AcquirerError::Refused(describe(*status, error)),
    }
}

/// `HTTP 400 invalid_request_error/parameter_missing: …`, with anything key-like masked.
pub fn describe(status: u16, e: &PaymentError) -> String {
    let kind = e.kind.as_deref().unwrap_or("error");
    let code = e.code.as_deref().unwrap_or("-");
    let message = redact(e.message.as_deref().unwrap_or(""));
    format!("Stripe HTTP {status} {kind}/{code}: {message}")
}

/// Masks every word that looks like a Stripe key or secret (`sk_…`, `rk_…`, `pk_…`, `whsec_…`,
/// client secrets), should an error message ever quote one.
pub fn redact(text: &str) -> String {
    let secretish = |w: &str| {
        let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
        ["sk_", "rk_", "pk_", "whsec_"]
            .iter()
            .any(|p| w.starts_with(p))
            || w.contains("_secret_")
    };
    let short: String = text.chars().take(300).collect();
    short
        .split(' ')
        .map(|w| if secretish(w) { "[redacted]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<&str>, decline: Option<&str>) -> PaymentError {
        PaymentError {
            kind: Some("card_error".into()),
            code: code.map(Into::into),
            decline_code: decline.map(Into::into),
            message: None,
        }
    }

    #[test]
    fn decline_codes() {
        use DeclineCode::*;
        let cases = [
            (
                Some("card_declined"),
                Some("insufficient_funds"),
                InsufficientFunds,
            ),
            (
                Some("card_declined"),
                Some("generic_decline"),
                GenericDecline,
            ),
            (Some("card_declined"), Some("stolen_card"), GenericDecline),
            (Some("card_declined"), Some("something_new"), GenericDecline),
            (Some("card_declined"), None, GenericDecline),
            (Some("expired_card"), None, ExpiredCard),
            (Some("incorrect_cvc"), None, IncorrectCvc),
            (Some("card_declined"), Some("invalid_cvc"), IncorrectCvc),
            (
                Some("payment_intent_authentication_failure"),
                None,
                ChallengeFailed,
            ),
            (
                Some("card_declined"),
                Some("authentication_required"),
                ChallengeFailed,
            ),
            (Some("incorrect_number"), None, GenericDecline),
            (None, None, GenericDecline),
        ];
        for (code, decline, want) in cases {
            assert_eq!(
                failure(&err(code, decline)),
                Failure::Declined(want),
                "{code:?} {decline:?}"
            );
        }
        assert_eq!(
            failure(&err(Some("processing_error"), None)),
            Failure::Transient
        );
        assert_eq!(
            decline_code(&err(Some("processing_error"), None)),
            ProcessingError
        );
    }

    fn intent(status: &str, error: Option<PaymentError>) -> PaymentIntent {
        let mut pi: PaymentIntent = serde_json::from_value(serde_json::json!({
            "id": "pi_1", "status": status, "amount": 100, "currency": "eur"
        }))
        .unwrap();
        pi.last_payment_error = error;
        pi
    }

    #[test]
    fn stages() {
        use DeclineCode::*;
        let declined = || Some(err(Some("card_declined"), Some("insufficient_funds")));
        assert_eq!(Stage::of(&intent("succeeded", None)), Stage::Succeeded);
        assert_eq!(Stage::of(&intent("processing", None)), Stage::Processing);
        assert_eq!(
            Stage::of(&intent("some_future_status", None)),
            Stage::Processing
        );
        assert_eq!(
            Stage::of(&intent("requires_action", None)),
            Stage::NeedsAction
        );
        assert_eq!(
            Stage::of(&intent("requires_confirmation", None)),
            Stage::Unconfirmed
        );
        assert_eq!(
            Stage::of(&intent("requires_payment_method", declined())),
            Stage::Failed(Failure::Declined(InsufficientFunds))
        );
        assert_eq!(
            Stage::of(&intent("canceled", declined())),
            Stage::Canceled(Some(Failure::Declined(InsufficientFunds)))
        );
        assert_eq!(Stage::of(&intent("canceled", None)), Stage::Canceled(None));
        assert!(Stage::of(&intent("requires_payment_method", declined())).cancelable());
        assert!(!Stage::of(&intent("processing", None)).cancelable());
        assert!(!Stage::of(&intent("succeeded", None)).cancelable());
    }

    fn money(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::parse(code).unwrap()).unwrap()
    }

    #[test]
    fn amounts_in_stripe_units() {
        assert_eq!(to_stripe_amount(money("12.50", "EUR")), Ok(1250));
        assert_eq!(to_stripe_amount(money("3000", "JPY")), Ok(3000));
        assert_eq!(to_stripe_amount(money("1.230", "KWD")), Ok(1230));
        assert!(to_stripe_amount(money("1.234", "KWD")).is_err());
        // ISK: whole krónur, two decimals at Stripe.
        assert_eq!(to_stripe_amount(money("500", "ISK")), Ok(50000));
        // MGA: zero-decimal at Stripe; fractions refused rather than rounded.
        assert_eq!(to_stripe_amount(money("1000.00", "MGA")), Ok(1000));
        assert!(to_stripe_amount(money("1000.50", "MGA")).is_err());
        for (amount, code) in [(1250, "eur"), (3000, "jpy"), (50000, "isk"), (1000, "mga")] {
            let m = from_stripe_amount(amount, code).unwrap();
            assert_eq!(to_stripe_amount(m), Ok(amount), "{code}");
        }
        assert_eq!(from_stripe_amount(50050, "isk"), None);
        assert_eq!(from_stripe_amount(1, "xxx"), None);
    }

    #[test]
    fn errors() {
        let api = |status| StripeError::Api {
            status,
            error: PaymentError {
                kind: Some("invalid_request_error".into()),
                code: Some("x".into()),
                decline_code: None,
                message: Some("Invalid API Key provided: sk_test_****abcd".into()),
            },
        };
        for status in [409, 429, 500, 502, 503] {
            assert!(
                matches!(acquirer_error(&api(status)), AcquirerError::Unavailable(_)),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404] {
            match acquirer_error(&api(status)) {
                AcquirerError::Refused(m) => assert!(!m.contains("sk_test"), "{m}"),
                other => panic!("{status}: {other:?}"),
            }
        }
        assert!(matches!(
            acquirer_error(&StripeError::NoAnswer("timed out".into())),
            AcquirerError::Unavailable(_)
        ));
        assert_eq!(
            redact("key sk_live_123 and (whsec_abc), pi_1_secret_x ok"),
            "key [redacted] and [redacted] [redacted] ok"
        );
    }
}
