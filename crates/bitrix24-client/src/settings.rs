//! A pay system's settings: `sale.paysystem.settings.get/update` (how each setting is
//! sourced) and `settings.payment.get` / `settings.invoice.get` (the values resolved for one
//! payment: this is how a server learns a payment's true sum, currency and paid state, and
//! its secret settings).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;
use crate::lenient::{self, Flag, FlatMap};
use crate::pay::PaySystemRef;
use crate::paysystem::Settings;
use crate::retry::Retry;

/// `sale.paysystem.settings.update` parameters.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct SettingsUpdate {
    #[serde(deserialize_with = "lenient::u64")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub person_type_id: Option<u64>,
    /// Must not be empty (the portal answers `ERROR_HANDLER_NOT_FOUND`).
    pub settings: Settings,
}

#[derive(Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct SettingsGet {
    id: u64,
    person_type_id: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct PaymentSettingsGet {
    payment_id: u64,
    pay_system_id: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct InvoiceSettingsGet<'a> {
    invoice_id: u64,
    #[serde(flatten)]
    pay_system: &'a PaySystemRef,
}

#[derive(Deserialize)]
struct SettingsReply(#[serde(deserialize_with = "lenient::map_or_empty_array")] Settings);

impl Client {
    /// `sale.paysystem.settings.get` → `{CODE: {TYPE, VALUE}}` for one payer type.
    pub async fn settings_get(
        &self,
        paysystem_id: u64,
        person_type_id: u64,
    ) -> Result<Settings, Error> {
        let params = SettingsGet {
            id: paysystem_id,
            person_type_id,
        };
        let SettingsReply(settings) = self
            .call("sale.paysystem.settings.get", &params, Retry::Safe)
            .await?;
        Ok(settings)
    }

    /// `sale.paysystem.settings.update` (replaces the given codes). Idempotent.
    pub async fn settings_update(&self, update: &SettingsUpdate) -> Result<bool, Error> {
        let Flag(ok) = self
            .call("sale.paysystem.settings.update", update, Retry::Safe)
            .await?;
        Ok(ok)
    }

    /// `sale.paysystem.settings.payment.get` → `{CODE: resolved value}` for one payment,
    /// e.g. `{"B24PAY_PAYMENT_SUM": "3000", "B24PAY_PAYMENT_PAID": "N", …}`.
    pub async fn settings_payment_get(
        &self,
        payment_id: u64,
        paysystem_id: u64,
    ) -> Result<BTreeMap<String, String>, Error> {
        let params = PaymentSettingsGet {
            payment_id,
            pay_system_id: paysystem_id,
        };
        let FlatMap(map) = self
            .call("sale.paysystem.settings.payment.get", &params, Retry::Safe)
            .await?;
        Ok(map)
    }

    /// `sale.paysystem.settings.invoice.get` → `{CODE: resolved value}` for a legacy invoice.
    pub async fn settings_invoice_get(
        &self,
        invoice_id: u64,
        pay_system: &PaySystemRef,
    ) -> Result<BTreeMap<String, String>, Error> {
        let params = InvoiceSettingsGet {
            invoice_id,
            pay_system,
        };
        let FlatMap(map) = self
            .call("sale.paysystem.settings.invoice.get", &params, Retry::Safe)
            .await?;
        Ok(map)
    }
}
