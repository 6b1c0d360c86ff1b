//! Exact money amounts: decimal text from the portal ("1250.50", "3000", "3000.0000") to integer
//! minor units of a currency, and back. Never floats: a kopeck lost to rounding is a mismatch.

use crate::currency::Currency;
use core::fmt;

/// Largest amount accepted anywhere, in major units. Far above any card payment, far below
/// overflow, so a typo or a hostile value is refused instead of wrapping.
pub const MAX_MAJOR_UNITS: u64 = 1_000_000_000;

/// An amount in minor units of its currency (kopecks, cents; whole yen).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: u64,
    pub currency: Currency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Not a plain non-negative decimal number.
    Malformed,
    /// More fractional digits than the currency has, and they are not zeros.
    TooPrecise,
    /// Zero or negative.
    NotPositive,
    /// Above [`MAX_MAJOR_UNITS`].
    TooLarge,
}

impl Money {
    /// Parses decimal text the way the portal writes amounts: digits, an optional `.` (or `,`)
    /// and fractional digits. Surrounding whitespace is ignored; signs, exponents, thousands
    /// separators and anything else are refused.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let text = text.trim();
        let (int_part, frac_part) = text.split_once(['.', ',']).unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !digits(int_part) || !digits(frac_part) {
            return Err(AmountError::Malformed);
        }
        if text.contains('.') && frac_part.is_empty() {
            return Err(AmountError::Malformed);
        }
        let exp = currency.minor_units() as usize;
        let (kept, dropped) = frac_part
            .split_at_checked(frac_part.len().min(exp))
            .unwrap_or((frac_part, ""));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(AmountError::TooPrecise);
        }
        let int_trimmed = int_part.trim_start_matches('0');
        if int_trimmed.len() > 10 {
            return Err(AmountError::TooLarge);
        }
        let major: u64 = if int_trimmed.is_empty() {
            0
        } else {
            int_trimmed.parse().map_err(|_| AmountError::Malformed)?
        };
        if major > MAX_MAJOR_UNITS {
            return Err(AmountError::TooLarge);
        }
        let mut frac: u64 = 0;
        for i in 0..exp {
            let d = kept.as_bytes().get(i).map_or(0, |b| (b - b'0') as u64);
            frac = frac * 10 + d;
        }
        let minor = major * 10u64.pow(exp as u32) + frac;
        if minor == 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(Money { minor, currency })
    }

    /// The canonical decimal text: exactly the currency's number of fractional digits,
    /// `.` as separator ("1250.50", "3000", "12.345").
    pub fn to_decimal_string(self) -> String {
        let exp = u32::from(self.currency.minor_units());
        let scale = 10u64.pow(exp);
        let mut text = digits(self.minor / scale);
        if exp > 0 {
            let fraction = digits(self.minor % scale);
            text.push('.');
            text.extend(std::iter::repeat_n(
                '0',
                (exp as usize).saturating_sub(fraction.len()),
            ));
            text.push_str(&fraction);
        }
        text
    }
}

/// `n` in decimal digits ("0", "247"). Written out rather than `n.to_string()`, which pulls
/// `core::fmt`'s integer formatting into the widget's wasm (BENCHMARKS.md).
pub fn digits(mut n: u64) -> String {
    let mut reversed = Vec::with_capacity(20);
    loop {
        reversed.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    reversed.iter().rev().map(|&b| char::from(b)).collect()
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn parses_portal_forms() {
        assert_eq!(Money::parse("3000", c("RUB")).unwrap().minor, 300_000);
        assert_eq!(Money::parse("1250.50", c("RUB")).unwrap().minor, 125_050);
        assert_eq!(Money::parse("1250.5", c("RUB")).unwrap().minor, 125_050);
        assert_eq!(Money::parse("3000.0000", c("RUB")).unwrap().minor, 300_000);
        assert_eq!(Money::parse("1250,50", c("EUR")).unwrap().minor, 125_050);
        assert_eq!(Money::parse("500", c("JPY")).unwrap().minor, 500);
        assert_eq!(Money::parse("500.00", c("JPY")).unwrap().minor, 500);
        assert_eq!(Money::parse("1.234", c("KWD")).unwrap().minor, 1234);
        assert_eq!(Money::parse(" 0.01 ", c("USD")).unwrap().minor, 1);
    }

    #[test]
    fn refuses_bad_amounts() {
        let rub = c("RUB");
        assert_eq!(Money::parse("", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("-5", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("+5", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("1e3", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("1 000", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("12.", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse(".5", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("NaN", rub), Err(AmountError::Malformed));
        assert_eq!(Money::parse("0", rub), Err(AmountError::NotPositive));
        assert_eq!(Money::parse("0.00", rub), Err(AmountError::NotPositive));
        assert_eq!(Money::parse("10.005", rub), Err(AmountError::TooPrecise));
        assert_eq!(Money::parse("1000000001", rub), Err(AmountError::TooLarge));
        assert_eq!(
            Money::parse("99999999999999999999999", rub),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn canonical_text() {
        assert_eq!(
            Money::parse("1250.5", c("RUB"))
                .unwrap()
                .to_decimal_string(),
            "1250.50"
        );
        assert_eq!(
            Money::parse("3000", c("USD")).unwrap().to_decimal_string(),
            "3000.00"
        );
        assert_eq!(
            Money::parse("500", c("JPY")).unwrap().to_decimal_string(),
            "500"
        );
        assert_eq!(
            Money::parse("0.5", c("KWD")).unwrap().to_decimal_string(),
            "0.500"
        );
        assert_eq!(
            Money::parse("0.05", c("EUR")).unwrap().to_decimal_string(),
            "0.05"
        );
        assert_eq!(
            Money::parse("0.001", c("KWD")).unwrap().to_decimal_string(),
            "0.001"
        );
    }

    #[test]
    fn digits_are_the_decimal_text() {
        for n in [0, 7, 10, 247, 1_000_000, u64::MAX] {
            assert_eq!(digits(n), n.to_string());
        }
    }
}
