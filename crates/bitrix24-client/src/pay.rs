//! Marking payments paid: `sale.paysystem.pay.payment` (orders, deals, smart invoices) and
//! `sale.paysystem.pay.invoice` (legacy CRM invoices).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;
use crate::lenient::{self, Flag};
use crate::retry::Retry;

/// The acquirer's details the portal stores on the payment (`PS_*`). All optional.
#[serde_with::skip_serializing_none]
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PsExtras {
    /// The acquirer's transaction id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_invoice_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_status_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_status_description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_status_message: Option<String>,
    /// The amount the acquirer charged, as a decimal string (`"3000.00"`), kept exact.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_sum: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_currency: Option<String>,
    /// Masked card number (`424242******4242`); never the full number.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_card_number: Option<String>,
    /// A token for charging the card again. Redacted in `Debug`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ps_recurring_token: Option<String>,
}

impl fmt::Debug for PsExtras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsExtras")
            .field("ps_invoice_id", &self.ps_invoice_id)
            .field("ps_status_code", &self.ps_status_code)
            .field("ps_status_description", &self.ps_status_description)
            .field("ps_status_message", &self.ps_status_message)
            .field("ps_sum", &self.ps_sum)
            .field("ps_currency", &self.ps_currency)
            .field("ps_card_number", &self.ps_card_number)
            .field(
                "ps_recurring_token",
                &self.ps_recurring_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// `sale.paysystem.pay.payment` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PayPayment {
    #[serde(deserialize_with = "lenient::u64")]
    pub payment_id: u64,
    /// Must be the payment's pay system, else `ERROR_CHECK_FAILURE`.
    #[serde(rename = "PAY_SYSTEM_ID", deserialize_with = "lenient::u64")]
    pub paysystem_id: u64,
    #[serde(flatten)]
    pub extras: PsExtras,
}

/// Which pay system a legacy-invoice call refers to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaySystemRef {
    /// `PAY_SYSTEM_ID`.
    #[serde(rename = "PAY_SYSTEM_ID")]
    Id(#[serde(deserialize_with = "lenient::u64")] u64),
    /// `BX_REST_HANDLER`: the handler CODE (the portal picks its pay system).
    #[serde(rename = "BX_REST_HANDLER")]
    Handler(String),
}

/// `sale.paysystem.pay.invoice` parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PayInvoice {
    #[serde(deserialize_with = "lenient::u64")]
    pub invoice_id: u64,
    #[serde(flatten)]
    pub pay_system: PaySystemRef,
}

impl Client {
    /// `sale.paysystem.pay.payment`: marks the payment paid and stores the `PS_*` extras.
    ///
    /// Pass [`Retry::Safe`] only if repeating the call is harmless for you (e.g. you re-read
    /// the payment first); with [`Retry::IfNotExecuted`] an ambiguous failure (timeout,
    /// dropped connection, 5xx) is returned and `Error::may_have_executed()` is true.
    /// The portal can answer `true` even when saving failed on its side: re-read the payment
    /// (`settings_payment_get`) when it matters.
    pub async fn pay_payment(&self, pay: &PayPayment, retry: Retry) -> Result<bool, Error> {
        let Flag(ok) = self.call("sale.paysystem.pay.payment", pay, retry).await?;
        Ok(ok)
    }

    /// `sale.paysystem.pay.invoice`: marks a legacy invoice paid. Same retry rules as
    /// [`Client::pay_payment`].
    pub async fn pay_invoice(&self, pay: &PayInvoice, retry: Retry) -> Result<bool, Error> {
        let Flag(ok) = self.call("sale.paysystem.pay.invoice", pay, retry).await?;
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pay_payment_wire_shape() {
        let p = PayPayment {
            payment_id: 1,
            paysystem_id: 2,
            extras: PsExtras {
                ps_invoice_id: Some("txn_1".into()),
                ps_sum: Some("3000.00".into()),
                ps_recurring_token: Some("rec-token-value".into()),
                ..PsExtras::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"PAYMENT_ID": 1, "PAY_SYSTEM_ID": 2, "PS_INVOICE_ID": "txn_1", "PS_SUM": "3000.00",
                   "PS_RECURRING_TOKEN": "rec-token-value"})
        );
        assert!(!format!("{p:?}").contains("rec-token-value"));
        let back: PayPayment =
            serde_json::from_value(json!({"PAYMENT_ID": "1", "PAY_SYSTEM_ID": "2"})).unwrap();
        assert_eq!(back.payment_id, 1);
    }

    #[test]
    fn pay_invoice_wire_shape() {
        let by_id = PayInvoice {
            invoice_id: 2,
            pay_system: PaySystemRef::Id(31),
        };
        assert_eq!(
            serde_json::to_value(&by_id).unwrap(),
            json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": 31})
        );
        let by_code = PayInvoice {
            invoice_id: 2,
            pay_system: PaySystemRef::Handler("b24pay".into()),
        };
        assert_eq!(
            serde_json::to_value(&by_code).unwrap(),
            json!({"INVOICE_ID": 2, "BX_REST_HANDLER": "b24pay"})
        );
        let back: PayInvoice =
            serde_json::from_value(json!({"INVOICE_ID": 2, "PAY_SYSTEM_ID": 31})).unwrap();
        assert_eq!(back, by_id);
    }
}
