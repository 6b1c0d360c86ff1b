//! The ids that travel between the portal, the widget, the companion and the store, each parsed
//! once at the edge where it enters and carried typed from there on.
//!
//! Portal ids (payment, pay system, invoice) are positive integers that the portal serialises as
//! decimal text (`"247"`); they are kept canonical (`"0247"` is `247`), so one payment is one key
//! everywhere. Attempt ids are the companion's own (`pa_` + 32 lower-case hex digits).

use core::fmt;
use core::str::FromStr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text is not an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidId;

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a valid id")
    }
}

/// Parses a portal id: 1 to 19 decimal digits (no sign, no spaces), a positive value that fits
/// the portal's signed 64-bit ids. Numbers as the portal may post them (`247`) are accepted by
/// callers that hold a JSON number, through [`portal_id_from_u64`].
fn parse_portal_id(text: &str) -> Result<u64, InvalidId> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidId);
    }
    match text.parse::<u64>() {
        Ok(n) if n > 0 && n <= i64::MAX as u64 => Ok(n),
        _ => Err(InvalidId),
    }
}

fn portal_id_from_u64(n: u64) -> Result<u64, InvalidId> {
    if n > 0 && n <= i64::MAX as u64 {
        Ok(n)
    } else {
        Err(InvalidId)
    }
}

macro_rules! portal_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            /// Decimal text, as the portal and the API carry it.
            pub fn parse(text: &str) -> Result<$name, InvalidId> {
                parse_portal_id(text).map($name)
            }
            /// A number, as a JSON message may carry it.
            pub fn from_u64(n: u64) -> Result<$name, InvalidId> {
                portal_id_from_u64(n).map($name)
            }
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(text: &str) -> Result<$name, InvalidId> {
                $name::parse(text)
            }
        }

        /// As decimal text: the portal's ids are strings on the wire.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = String::deserialize(d)?;
                $name::parse(&text).map_err(|_| {
                    serde::de::Error::custom(concat!(stringify!($name), ": a positive integer as decimal text"))
                })
            }
        }
    };
}

portal_id! {
    /// `BX_SYSTEM_PARAMS.PAYMENT_ID`: a payment of an order (or of a legacy invoice).
    PaymentId
}
portal_id! {
    /// `BX_SYSTEM_PARAMS.PAYSYSTEM_ID`.
    PaySystemId
}
portal_id! {
    /// A legacy CRM invoice's id (`ORDER.ID` of a `CRM_INVOICE` pay system).
    InvoiceId
}

/// The companion's id of one payment attempt: `pa_` and 32 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptId(String);

impl AttemptId {
    pub const PREFIX: &'static str = "pa_";

    pub fn parse(text: &str) -> Result<AttemptId, InvalidId> {
        let valid = text.len() == 35
            && text.starts_with(Self::PREFIX)
            && text[3..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(AttemptId(text.to_owned()))
        } else {
            Err(InvalidId)
        }
    }

    /// The id for 128 random bits (the companion draws them).
    pub fn from_random(bits: u128) -> AttemptId {
        AttemptId(format!("{}{bits:032x}", Self::PREFIX))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for AttemptId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AttemptId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AttemptId, D::Error> {
        let text = String::deserialize(d)?;
        AttemptId::parse(&text).map_err(|_| serde::de::Error::custom("not an attempt id"))
    }
}

crate::wire_enum! {
    /// Which portal call marks a payment paid, after the pay system's `ENTITY_REGISTRY_TYPE`.
    pub enum Registry {
        /// `sale.paysystem.pay.payment` (orders, deals, smart invoices).
        Order = "ORDER",
        /// `sale.paysystem.pay.invoice` (legacy CRM invoices).
        CrmInvoice = "CRM_INVOICE",
    }
}

impl Registry {
    /// As the portal or an operator may write it: any case, surrounding spaces.
    pub fn parse_loose(text: &str) -> Option<Registry> {
        let text = text.trim();
        Registry::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_ids_are_canonical_positive_integers() {
        assert_eq!(PaymentId::parse("0247").unwrap().to_string(), "247");
        assert_eq!(
            PaymentId::parse("9223372036854775807").unwrap().get(),
            i64::MAX as u64
        );
        for bad in [
            "",
            "0",
            "-1",
            "1.5",
            "abc",
            " 1",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert_eq!(PaymentId::parse(bad), Err(InvalidId), "{bad:?}");
        }
        assert!(PaySystemId::from_u64(0).is_err());
        let json = serde_json::to_string(&InvoiceId::parse("17").unwrap()).unwrap();
        assert_eq!(json, "\"17\"");
        assert!(serde_json::from_str::<InvoiceId>("\"x\"").is_err());
    }

    #[test]
    fn attempt_ids() {
        let id = AttemptId::from_random(0x0123456789abcdef0123456789abcdef);
        assert_eq!(id.as_str(), "pa_0123456789abcdef0123456789abcdef");
        assert_eq!(AttemptId::parse(id.as_str()), Ok(id));
        assert!(AttemptId::parse("pa_0123456789ABCDEF0123456789abcdef").is_err());
        assert!(AttemptId::parse("../etc/passwd").is_err());
    }

    #[test]
    fn registries() {
        assert_eq!(
            Registry::parse_loose(" crm_invoice "),
            Some(Registry::CrmInvoice)
        );
        assert_eq!(Registry::from_code("ORDER"), Some(Registry::Order));
        assert_eq!(Registry::parse_loose("INVOICE"), None);
    }
}
