//! The test acquirer's cards (README's table): the numbers people already know from the
//! industry's test modes, any future expiry, any CVC. One table for the test acquirer, the
//! companion's tests, the end-to-end tests and the README. (The widget never uses it, so none
//! of it reaches the wasm.)

use crate::api::DeclineCode;

pub const APPROVED: &str = "4242424242424242";
pub const APPROVED_MASTERCARD: &str = "5555555555554444";
pub const APPROVED_AMEX: &str = "378282246310005";
pub const DECLINED: &str = "4000000000000002";
pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
pub const EXPIRED_CARD: &str = "4000000000000069";
pub const INCORRECT_CVC: &str = "4000000000000127";
pub const PROCESSING_ERROR: &str = "4000000000000119";
pub const CHALLENGE: &str = "4000002760003184";
/// The code that approves [`CHALLENGE`]; any other declines it.
pub const CHALLENGE_CODE: &str = "123";
/// Fails the Luhn check: the widget catches it before anything is sent.
pub const LUHN_FAILURE: &str = "4242424242424241";

/// Stripe test-mode cards beyond the table, for the Stripe adapter's tests against localstripe
/// and the preview's Stripe banner (the test acquirer declines them as unknown numbers).
pub mod stripe {
    /// Declined when charged (localstripe: on confirm; Stripe: `card_declined`).
    pub const DECLINED_ON_CHARGE: &str = "4000000000000341";
    /// 3-D Secure, then declined (Stripe: insufficient funds).
    pub const THREE_DS_THEN_DECLINED: &str = "4000008260003178";
}

/// What the test acquirer does with a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Approve,
    Decline(DeclineCode),
    /// A transient processing error: nothing charged, retrying is safe.
    ProcessingError,
    /// Asks for a code inline ([`CHALLENGE_CODE`] approves).
    Challenge,
}

/// Every card of the table with its behaviour, in the README's order.
pub const TABLE: &[(&str, Behaviour)] = &[
    (APPROVED, Behaviour::Approve),
    (APPROVED_MASTERCARD, Behaviour::Approve),
    (APPROVED_AMEX, Behaviour::Approve),
    (DECLINED, Behaviour::Decline(DeclineCode::GenericDecline)),
    (
        INSUFFICIENT_FUNDS,
        Behaviour::Decline(DeclineCode::InsufficientFunds),
    ),
    (EXPIRED_CARD, Behaviour::Decline(DeclineCode::ExpiredCard)),
    (INCORRECT_CVC, Behaviour::Decline(DeclineCode::IncorrectCvc)),
    (PROCESSING_ERROR, Behaviour::ProcessingError),
    (CHALLENGE, Behaviour::Challenge),
];

/// What the table says about a number. Every number outside it is declined: test mode moves no
/// real money, so a real card is refused rather than "approved".
pub fn behaviour(number: &str) -> Behaviour {
    TABLE
        .iter()
        .find(|(n, _)| *n == number)
        .map_or(Behaviour::Decline(DeclineCode::GenericDecline), |(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card;

    #[test]
    fn every_number_is_a_valid_card_but_the_luhn_failure() {
        for (number, _) in TABLE {
            assert!(card::validate_number(number).is_ok(), "{number}");
        }
        assert!(card::validate_number(LUHN_FAILURE).is_err());
    }

    #[test]
    fn real_cards_are_declined() {
        assert_eq!(
            behaviour("4111111111111111"),
            Behaviour::Decline(DeclineCode::GenericDecline)
        );
        assert_eq!(behaviour(CHALLENGE), Behaviour::Challenge);
    }

    /// The README's test-card table says what this table does.
    #[test]
    fn the_readme_table_says_the_same() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let row = |number: &str| {
            readme
                .lines()
                .take_while(|l| !l.starts_with("## Stripe"))
                .find(|l| l.starts_with('|') && l.replace(' ', "").contains(number))
                .unwrap_or_else(|| panic!("README has no test-card row for {number}"))
                .to_string()
        };
        for (number, behaviour) in TABLE {
            let row = row(number);
            let says = match behaviour {
                Behaviour::Approve => "approved",
                Behaviour::Decline(_) => "declined",
                Behaviour::ProcessingError => "processing error",
                Behaviour::Challenge => CHALLENGE_CODE,
            };
            assert!(row.contains(says), "{number}: {row}");
        }
        assert!(row(LUHN_FAILURE).contains("Luhn"));
    }
}
