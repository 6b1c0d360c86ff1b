//! What the handler and the pay system are set to: the handler's CODES and IFRAME FIELDS, and
//! the pay system's settings values.

use super::RegisterOptions;
use crate::portal::{codes, Mode};
use b24pay_protocol::fields;
use bitrix24_client::{
    CodeSpec, DefaultValue, EnumOptions, FieldSpec, HandlerSettings, IframeData, InputSpec,
    Provider, SettingValue, Settings,
};
use std::collections::BTreeMap;

/// Where a setting's value comes from, when the admin has not set one.
enum Source {
    /// Typed in by the admin.
    Typed,
    /// One of the options, defaulting to the first.
    Choice(&'static [(&'static str, &'static str)]),
    /// A field of the payment (`PAYMENT.<field>`).
    Payment(&'static str),
    /// A field of the order (`ORDER.<field>`; the invoice for legacy invoices).
    Order(&'static str),
}

/// The handler's CODES: code, name shown to the admin, sort, source.
const CODES: &[(&str, &str, i64, Source)] = &[
    (codes::SHOP_ID, "Shop ID", 100, Source::Typed),
    (codes::SECRET_KEY, "Secret key", 200, Source::Typed),
    (
        codes::MODE,
        "Mode",
        300,
        Source::Choice(&[("TEST", "Test"), ("LIVE", "Live")]),
    ),
    (
        codes::LANGUAGE,
        "Widget language (optional)",
        400,
        Source::Typed,
    ),
    (
        codes::ASK_HOLDER,
        "Ask for the name on the card",
        450,
        Source::Choice(&[("N", "No"), ("Y", "Yes")]),
    ),
    (
        codes::PAYMENT_SUM,
        "Payment amount",
        500,
        Source::Payment("SUM"),
    ),
    (
        codes::PAYMENT_CURRENCY,
        "Payment currency",
        510,
        Source::Payment("CURRENCY"),
    ),
    (
        codes::PAYMENT_PAID,
        "Payment paid",
        520,
        Source::Payment("PAID"),
    ),
    (
        codes::PAYMENT_NUMBER,
        "Payment number",
        530,
        Source::Payment("ACCOUNT_NUMBER"),
    ),
    (
        codes::ORDER_ID,
        "Order or invoice id",
        540,
        Source::Order("ID"),
    ),
    (codes::PAYMENT_ID, "Payment id", 550, Source::Payment("ID")),
];

/// The FIELDS the portal posts to the widget, and the CODES they come from. Only what the
/// customer's browser may see: never the secret key. The mode is there for the widget's
/// test-mode notice only (the server reads the mode from the portal itself); the payment number
/// is what the customer knows the payment by; legacy invoices are read by invoice id, which the
/// widget passes back as `invoice_id`.
const FIELDS: &[(&str, &str)] = &[
    (fields::SHOP_ID, codes::SHOP_ID),
    (fields::LANG, codes::LANGUAGE),
    (fields::PAYMENT_NUMBER, codes::PAYMENT_NUMBER),
    (fields::INVOICE_ID, codes::ORDER_ID),
    (fields::MODE, codes::MODE),
    (fields::HOLDER, codes::ASK_HOLDER),
];

fn code_spec(name: &str, sort: i64, source: &Source) -> CodeSpec {
    let default = |provider_key, value: &str| {
        Some(DefaultValue {
            provider_key,
            provider_value: value.into(),
        })
    };
    let base = CodeSpec {
        name: Some(name.into()),
        sort: Some(sort),
        ..CodeSpec::default()
    };
    match source {
        Source::Typed => base,
        Source::Choice(options) => CodeSpec {
            input: Some(InputSpec::enumeration(EnumOptions::new(
                options.iter().copied(),
            ))),
            default: default(Provider::Value, options[0].0),
            ..base
        },
        Source::Payment(field) => CodeSpec {
            group: Some("PAYMENT".into()),
            default: default(Provider::Payment, field),
            ..base
        },
        Source::Order(field) => CodeSpec {
            group: Some("ORDER".into()),
            default: default(Provider::Order, field),
            ..base
        },
    }
}

/// The handler's SETTINGS: CODES and IFRAME_DATA.
pub fn handler_settings(widget_url: &url::Url) -> HandlerSettings {
    let codes = CODES
        .iter()
        .map(|(code, name, sort, source)| (code.to_string(), code_spec(name, *sort, source)))
        .collect();
    let fields: BTreeMap<String, FieldSpec> = FIELDS
        .iter()
        .map(|(field, code)| (field.to_string(), FieldSpec::setting(*code)))
        .collect();
    HandlerSettings::iframe(
        codes,
        IframeData {
            action_uri: widget_url.to_string(),
            fields,
        },
    )
}

/// The pay system's settings values.
pub fn paysystem_settings(o: &RegisterOptions) -> Settings {
    let mut s = Settings::new();
    s.insert(
        codes::MODE.into(),
        SettingValue::value(match o.mode {
            Mode::Test => "TEST",
            Mode::Live => "LIVE",
        }),
    );
    s.insert(
        codes::SHOP_ID.into(),
        SettingValue::value(o.shop_id.clone().unwrap_or_default()),
    );
    s.insert(
        codes::SECRET_KEY.into(),
        SettingValue::value(o.secret_key.clone().unwrap_or_default()),
    );
    s.insert(
        codes::LANGUAGE.into(),
        SettingValue::value(o.language.clone().unwrap_or_default()),
    );
    s.insert(
        codes::ASK_HOLDER.into(),
        SettingValue::value(if o.ask_holder { "Y" } else { "N" }),
    );
    s.insert(codes::PAYMENT_SUM.into(), SettingValue::from_payment("SUM"));
    s.insert(
        codes::PAYMENT_CURRENCY.into(),
        SettingValue::from_payment("CURRENCY"),
    );
    s.insert(
        codes::PAYMENT_PAID.into(),
        SettingValue::from_payment("PAID"),
    );
    s.insert(
        codes::PAYMENT_NUMBER.into(),
        SettingValue::from_payment("ACCOUNT_NUMBER"),
    );
    s.insert(codes::ORDER_ID.into(), SettingValue::from_order("ID"));
    s.insert(codes::PAYMENT_ID.into(), SettingValue::from_payment("ID"));
    s
}
