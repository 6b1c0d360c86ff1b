//! Card rules shared by the widget (live feedback while typing) and the companion (the same
//! checks again on the server, which trusts nothing the browser sends): brand detection by IIN
//! range, per-brand lengths and grouping, the Luhn check, expiry and CVC rules.

use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Brand {
    Visa,
    Mastercard,
    Mir,
    Amex,
    UnionPay,
    Jcb,
    Maestro,
    Discover,
    DinersClub,
}

impl Brand {
    pub const ALL: [Brand; 9] = [
        Brand::Visa,
        Brand::Mastercard,
        Brand::Mir,
        Brand::Amex,
        Brand::UnionPay,
        Brand::Jcb,
        Brand::Maestro,
        Brand::Discover,
        Brand::DinersClub,
    ];

    /// Stable lower-case identifier (API field values, CSS class suffixes, stored records).
    pub fn code(self) -> &'static str {
        match self {
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
            Brand::Mir => "mir",
            Brand::Amex => "amex",
            Brand::UnionPay => "unionpay",
            Brand::Jcb => "jcb",
            Brand::Maestro => "maestro",
            Brand::Discover => "discover",
            Brand::DinersClub => "diners",
        }
    }

    pub fn from_code(code: &str) -> Option<Brand> {
        Brand::ALL.into_iter().find(|b| b.code() == code)
    }

    /// The name printed on cards and shown to customers (not translated: trademarks).
    pub fn display_name(self) -> &'static str {
        match self {
            Brand::Visa => "Visa",
            Brand::Mastercard => "Mastercard",
            Brand::Mir => "Mir",
            Brand::Amex => "American Express",
            Brand::UnionPay => "UnionPay",
            Brand::Jcb => "JCB",
            Brand::Maestro => "Maestro",
            Brand::Discover => "Discover",
            Brand::DinersClub => "Diners Club",
        }
    }

    /// Valid total numbers of digits.
    pub fn lengths(self) -> &'static [usize] {
        match self {
            Brand::Visa => &[13, 16, 19],
            Brand::Mastercard => &[16],
            Brand::Mir | Brand::UnionPay | Brand::Jcb | Brand::Discover => &[16, 17, 18, 19],
            Brand::Amex => &[15],
            Brand::Maestro => &[12, 13, 14, 15, 16, 17, 18, 19],
            Brand::DinersClub => &[14, 15, 16, 17, 18, 19],
        }
    }

    pub fn max_length(self) -> usize {
        *self.lengths().last().unwrap_or(&MAX_DIGITS)
    }

    pub fn cvc_length(self) -> usize {
        match self {
            Brand::Amex => 4,
            _ => 3,
        }
    }

    /// Sizes of the digit groups as printed on the card, for a number of `len` digits.
    pub fn groups(self, len: usize) -> &'static [usize] {
        match self {
            Brand::Amex => &[4, 6, 5],
            Brand::DinersClub if len <= 14 => &[4, 6, 4],
            _ => &[4, 4, 4, 4, 3],
        }
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// The longest card number any scheme issues.
pub const MAX_DIGITS: usize = 19;
/// The shortest card number accepted when the brand is unknown.
pub const MIN_DIGITS: usize = 12;

/// IIN ranges as (low, high) inclusive prefixes of equal digit count, more specific ranges first
/// where schemes overlap (Discover's 65 vs UnionPay's 62 do not; Maestro's 6304 sits beside
/// UnionPay's 62 without overlap).
const RANGES: &[(u32, u32, Brand)] = &[
    (4, 4, Brand::Visa),
    (2200, 2204, Brand::Mir),
    (2221, 2720, Brand::Mastercard),
    (51, 55, Brand::Mastercard),
    (34, 34, Brand::Amex),
    (37, 37, Brand::Amex),
    (300, 305, Brand::DinersClub),
    (36, 36, Brand::DinersClub),
    (38, 39, Brand::DinersClub),
    (3528, 3589, Brand::Jcb),
    (62, 62, Brand::UnionPay),
    (81, 81, Brand::UnionPay),
    (6011, 6011, Brand::Discover),
    (644, 649, Brand::Discover),
    (65, 65, Brand::Discover),
    (50, 50, Brand::Maestro),
    (56, 58, Brand::Maestro),
    (6304, 6304, Brand::Maestro),
    (6390, 6390, Brand::Maestro),
    (67, 67, Brand::Maestro),
];

fn digit_count(mut n: u32) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// Detects the brand from the digits typed so far. Returns `None` while the prefix is still
/// ambiguous ("2" could be Mir or Mastercard, "3" Amex, JCB or Diners) or matches no scheme.
pub fn detect_brand(digits: &str) -> Option<Brand> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut found: Option<Brand> = None;
    for &(low, high, brand) in RANGES {
        let width = digit_count(low);
        let take = width.min(digits.len());
        let prefix: u32 = digits.get(..take)?.parse().ok()?;
        let shift = 10u32.pow((width - take) as u32);
        if prefix >= low / shift && prefix <= high / shift {
            match found {
                None => found = Some(brand),
                Some(other) if other != brand => return None,
                Some(_) => {}
            }
        }
    }
    found
}

/// Keeps only the digits of what the customer typed or pasted ("4242 4242-4242 4242").
pub fn digits_only(input: &str) -> String {
    input.chars().filter(char::is_ascii_digit).collect()
}

/// The Luhn (mod 10) checksum every card scheme uses.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Formats digits in the brand's groups: "4242 4242 4242 4242", "3782 822463 10005".
pub fn format_number(digits: &str) -> String {
    let brand = detect_brand(digits);
    let groups: &[usize] = match brand {
        Some(b) => b.groups(digits.len()),
        None => &[4, 4, 4, 4, 3],
    };
    let mut out = String::with_capacity(digits.len() + groups.len());
    let mut rest = digits;
    for (i, &size) in groups.iter().enumerate() {
        if rest.is_empty() {
            break;
        }
        if i > 0 {
            out.push(' ');
        }
        let take = if i == groups.len() - 1 {
            rest.len()
        } else {
            size.min(rest.len())
        };
        let (group, tail) = rest.split_at_checked(take).unwrap_or((rest, ""));
        out.push_str(group);
        rest = tail;
    }
    out
}

/// Maximum digits the number field should accept for what has been typed so far.
pub fn max_digits_for(digits: &str) -> usize {
    detect_brand(digits).map_or(MAX_DIGITS, Brand::max_length)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    /// Fewer digits than any length the brand issues.
    Incomplete,
    /// A length the brand does not issue, or more than 19 digits.
    BadLength,
    /// Fails the Luhn check: a typo.
    Checksum,
}

/// Validates a complete card number (digits only). Numbers of schemes not detected here still
/// pass with `None` when their length and Luhn check are plausible: the acquirer decides.
pub fn validate_number(digits: &str) -> Result<Option<Brand>, NumberError> {
    if digits.is_empty() {
        return Err(NumberError::Empty);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::BadLength);
    }
    let len = digits.len();
    let brand = detect_brand(digits);
    let (min, ok_len) = match brand {
        Some(b) => (b.lengths()[0], b.lengths().contains(&len)),
        None => (MIN_DIGITS, (MIN_DIGITS..=MAX_DIGITS).contains(&len)),
    };
    if len < min {
        return Err(NumberError::Incomplete);
    }
    if !ok_len {
        return Err(NumberError::BadLength);
    }
    if !luhn_valid(digits) {
        return Err(NumberError::Checksum);
    }
    Ok(brand)
}

/// Latest expiry accepted, in years after the current one. Cards are issued for at most
/// about ten years; twenty leaves room without accepting typos like 2099.
pub const MAX_YEARS_AHEAD: u16 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryError {
    Incomplete,
    BadMonth,
    Past,
    TooFar,
}

/// Parses what is in the expiry field ("12 / 30", "1230", "12/2030") into (month, full year).
pub fn parse_expiry(input: &str) -> Result<(u8, u16), ExpiryError> {
    let digits = digits_only(input);
    if digits.len() != 4 && digits.len() != 6 {
        return Err(ExpiryError::Incomplete);
    }
    let (m, y) = digits.split_at_checked(2).ok_or(ExpiryError::Incomplete)?;
    let month: u8 = m.parse().map_err(|_| ExpiryError::BadMonth)?;
    if !(1..=12).contains(&month) {
        return Err(ExpiryError::BadMonth);
    }
    let year: u16 = y.parse().map_err(|_| ExpiryError::Incomplete)?;
    let year = if y.len() == 2 { 2000 + year } else { year };
    Ok((month, year))
}

/// Checks an expiry against today's (year, month): a card is valid through the end of its
/// expiry month.
pub fn check_expiry(
    month: u8,
    year: u16,
    today_year: u16,
    today_month: u8,
) -> Result<(), ExpiryError> {
    if !(1..=12).contains(&month) {
        return Err(ExpiryError::BadMonth);
    }
    if (year, month) < (today_year, today_month) {
        return Err(ExpiryError::Past);
    }
    if year > today_year + MAX_YEARS_AHEAD {
        return Err(ExpiryError::TooFar);
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvcError {
    Empty,
    BadLength,
}

/// CVC/CVV: 3 digits, 4 for American Express. With the brand unknown, 3 or 4.
pub fn validate_cvc(cvc: &str, brand: Option<Brand>) -> Result<(), CvcError> {
    if cvc.is_empty() {
        return Err(CvcError::Empty);
    }
    let ok_digits = cvc.bytes().all(|b| b.is_ascii_digit());
    let ok_len = match brand {
        Some(b) => cvc.len() == b.cvc_length(),
        None => cvc.len() == 3 || cvc.len() == 4,
    };
    if ok_digits && ok_len {
        Ok(())
    } else {
        Err(CvcError::BadLength)
    }
}

/// "•••• 4242": what may be shown, stored and sent to the portal (`PS_CARD_NUMBER`).
pub fn mask(digits: &str) -> String {
    let last4 = digits
        .get(digits.len().saturating_sub(4)..)
        .unwrap_or(digits);
    ["•••• ", last4].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_brands_of_full_numbers() {
        let cases = [
            ("4242424242424242", Brand::Visa),
            ("5555555555554444", Brand::Mastercard),
            ("2221000000000009", Brand::Mastercard),
            ("2200000000000004", Brand::Mir),
            ("378282246310005", Brand::Amex),
            ("6200000000000005", Brand::UnionPay),
            ("3530111333300000", Brand::Jcb),
            ("6759649826438453", Brand::Maestro),
            ("6011111111111117", Brand::Discover),
            ("36227206271667", Brand::DinersClub),
            ("30569309025904", Brand::DinersClub),
        ];
        for (number, brand) in cases {
            assert_eq!(detect_brand(number), Some(brand), "{number}");
        }
    }

    #[test]
    fn detects_brand_as_the_customer_types() {
        assert_eq!(detect_brand("4"), Some(Brand::Visa));
        assert_eq!(detect_brand("2"), None, "Mir or Mastercard");
        assert_eq!(detect_brand("22"), None, "Mir or Mastercard");
        assert_eq!(detect_brand("220"), Some(Brand::Mir));
        assert_eq!(detect_brand("222"), Some(Brand::Mastercard));
        assert_eq!(detect_brand("3"), None);
        assert_eq!(detect_brand("37"), Some(Brand::Amex));
        assert_eq!(detect_brand("35"), Some(Brand::Jcb));
        assert_eq!(detect_brand("353"), Some(Brand::Jcb));
        assert_eq!(detect_brand("351"), None, "below JCB's 3528");
        assert_eq!(detect_brand("5"), None, "Mastercard or Maestro");
        assert_eq!(detect_brand("53"), Some(Brand::Mastercard));
        assert_eq!(detect_brand("6"), None);
        assert_eq!(detect_brand("9"), None);
        assert_eq!(detect_brand(""), None);
        assert_eq!(detect_brand("4x"), None);
    }

    #[test]
    fn groups_by_brand() {
        assert_eq!(format_number("4242424242424242"), "4242 4242 4242 4242");
        assert_eq!(format_number("378282246310005"), "3782 822463 10005");
        assert_eq!(format_number("36227206271667"), "3622 720627 1667");
        assert_eq!(
            format_number("4242424242424242424"),
            "4242 4242 4242 4242 424"
        );
        assert_eq!(format_number("42424"), "4242 4");
        assert_eq!(format_number(""), "");
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("42a2"));
    }

    #[test]
    fn validates_numbers() {
        assert_eq!(validate_number("4242424242424242"), Ok(Some(Brand::Visa)));
        assert_eq!(
            validate_number("4242424242424241"),
            Err(NumberError::Checksum)
        );
        assert_eq!(validate_number("424242"), Err(NumberError::Incomplete));
        assert_eq!(
            validate_number("37828224631000"),
            Err(NumberError::Incomplete)
        );
        assert_eq!(
            validate_number("55555555555544440"),
            Err(NumberError::BadLength)
        );
        assert_eq!(validate_number(""), Err(NumberError::Empty));
    }

    #[test]
    fn expiry() {
        assert_eq!(parse_expiry("12 / 30"), Ok((12, 2030)));
        assert_eq!(parse_expiry("0130"), Ok((1, 2030)));
        assert_eq!(parse_expiry("12/2031"), Ok((12, 2031)));
        assert_eq!(parse_expiry("13/30"), Err(ExpiryError::BadMonth));
        assert_eq!(parse_expiry("00/30"), Err(ExpiryError::BadMonth));
        assert_eq!(parse_expiry("1/3"), Err(ExpiryError::Incomplete));
        assert_eq!(
            check_expiry(11, 2026, 2026, 11),
            Ok(()),
            "valid through its month"
        );
        assert_eq!(check_expiry(10, 2026, 2026, 11), Err(ExpiryError::Past));
        assert_eq!(check_expiry(1, 2047, 2026, 11), Err(ExpiryError::TooFar));
        assert_eq!(check_expiry(12, 2046, 2026, 11), Ok(()));
    }

    #[test]
    fn cvc() {
        assert_eq!(validate_cvc("123", Some(Brand::Visa)), Ok(()));
        assert_eq!(
            validate_cvc("1234", Some(Brand::Visa)),
            Err(CvcError::BadLength)
        );
        assert_eq!(validate_cvc("1234", Some(Brand::Amex)), Ok(()));
        assert_eq!(
            validate_cvc("123", Some(Brand::Amex)),
            Err(CvcError::BadLength)
        );
        assert_eq!(validate_cvc("12a", None), Err(CvcError::BadLength));
        assert_eq!(validate_cvc("", None), Err(CvcError::Empty));
    }

    #[test]
    fn masks() {
        assert_eq!(mask("4242424242424242"), "•••• 4242");
    }
}
