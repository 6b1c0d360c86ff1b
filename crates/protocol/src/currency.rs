//! ISO 4217 currency codes and their minor units.
//!
//! Both sides need this: the widget refuses a `CURRENCY` the portal could not have meant, and
//! the companion converts decimal amounts to minor units before comparing them with the portal's.

use core::fmt;

/// Active ISO 4217 codes, each followed by its number of minor-unit digits (the exponent) and
/// a space, sorted by code so lookups can binary-search. One string rather than a slice of
/// `(&str, u8)` pairs: every customer's wasm carries this table, and a pair costs 12 bytes of
/// pointers where a code costs 5 (BENCHMARKS.md, "Widget weight").
const TABLE: &str = "\
    AED2 AFN2 ALL2 AMD2 ANG2 AOA2 ARS2 AUD2 AWG2 AZN2 BAM2 BBD2 \
    BDT2 BGN2 BHD3 BIF0 BMD2 BND2 BOB2 BOV2 BRL2 BSD2 BTN2 BWP2 \
    BYN2 BZD2 CAD2 CDF2 CHE2 CHF2 CHW2 CLF4 CLP0 CNY2 COP2 COU2 \
    CRC2 CUP2 CVE2 CZK2 DJF0 DKK2 DOP2 DZD2 EGP2 ERN2 ETB2 EUR2 \
    FJD2 FKP2 GBP2 GEL2 GHS2 GIP2 GMD2 GNF0 GTQ2 GYD2 HKD2 HNL2 \
    HTG2 HUF2 IDR2 ILS2 INR2 IQD3 IRR2 ISK0 JMD2 JOD3 JPY0 KES2 \
    KGS2 KHR2 KMF0 KPW2 KRW0 KWD3 KYD2 KZT2 LAK2 LBP2 LKR2 LRD2 \
    LSL2 LYD3 MAD2 MDL2 MGA2 MKD2 MMK2 MNT2 MOP2 MRU2 MUR2 MVR2 \
    MWK2 MXN2 MXV2 MYR2 MZN2 NAD2 NGN2 NIO2 NOK2 NPR2 NZD2 OMR3 \
    PAB2 PEN2 PGK2 PHP2 PKR2 PLN2 PYG0 QAR2 RON2 RSD2 RUB2 RWF0 \
    SAR2 SBD2 SCR2 SDG2 SEK2 SGD2 SHP2 SLE2 SOS2 SRD2 SSP2 STN2 \
    SVC2 SYP2 SZL2 THB2 TJS2 TMT2 TND3 TOP2 TRY2 TTD2 TWD2 TZS2 \
    UAH2 UGX0 USD2 USN2 UYI0 UYU2 UYW4 UZS2 VED2 VES2 VND0 VUV0 \
    WST2 XAF0 XCD2 XCG2 XOF0 XPF0 YER2 ZAR2 ZMW2 ZWG2 \
";
const ENTRY: usize = 5;

/// The code of entry `index`.
fn code_at(index: usize) -> &'static str {
    TABLE
        .get(index * ENTRY..index * ENTRY + 3)
        .unwrap_or_default()
}

fn entries() -> usize {
    TABLE.len() / ENTRY
}

/// A validated ISO 4217 alphabetic code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    index: u16,
}

impl Currency {
    /// Parses an ISO 4217 code. Accepts surrounding whitespace and lower case, because portal
    /// admins type these by hand; rejects anything that is not an active code.
    pub fn parse(text: &str) -> Option<Currency> {
        let code = text.trim();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let upper = code.to_ascii_uppercase();
        let (mut low, mut high) = (0, entries());
        while low < high {
            let mid = (low + high) / 2;
            match code_at(mid).cmp(upper.as_str()) {
                core::cmp::Ordering::Less => low = mid + 1,
                core::cmp::Ordering::Greater => high = mid,
                core::cmp::Ordering::Equal => return Some(Currency { index: mid as u16 }),
            }
        }
        None
    }

    pub fn code(self) -> &'static str {
        code_at(self.index as usize)
    }

    /// Number of digits after the decimal point in this currency's amounts.
    pub fn minor_units(self) -> u8 {
        TABLE.as_bytes()[self.index as usize * ENTRY + 3] - b'0'
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::parse(v).ok_or_else(|| E::custom("unknown currency"))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert_eq!(TABLE.len() % ENTRY, 0);
        for entry in TABLE.as_bytes().chunks(ENTRY) {
            assert!(entry[..3].iter().all(u8::is_ascii_uppercase), "{entry:?}");
            assert!(
                matches!(entry[3], b'0'..=b'4') && entry[4] == b' ',
                "{entry:?}"
            );
        }
        assert!((1..entries()).all(|i| code_at(i - 1) < code_at(i)));
        assert_eq!(entries(), 166);
    }

    #[test]
    fn parses_known_codes() {
        assert_eq!(Currency::parse("RUB").unwrap().code(), "RUB");
        assert_eq!(Currency::parse(" usd ").unwrap().code(), "USD");
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::parse("EUR").unwrap().minor_units(), 2);
    }

    #[test]
    fn rejects_unknown_or_malformed() {
        for bad in ["", "RU", "RUBL", "XXX", "ZZZ", "R1B", "руб", "<s>"] {
            assert!(Currency::parse(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn serde_round_trip() {
        let c: Currency = serde_json::from_str("\"KZT\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"KZT\"");
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
    }
}
