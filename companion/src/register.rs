//! `b24pay register`: sets a portal up for b24pay, idempotently. It reads what exists first and
//! writes only what differs, so running it twice changes nothing the second time (and says so).
//!
//! 1. The IFRAME handler (CODE `b24pay`, ACTION_URI = the widget's public URL). Its FIELDS carry
//!    only non-secret values (`b24pay_protocol::fields`: shop id, language, payment number,
//!    invoice id, mode, whether to ask for the cardholder); the secret key stays a server-side
//!    setting.
//! 2. The pay system bound to it (`ACTIVE=Y`, registry ORDER or CRM_INVOICE, a person type of
//!    that registry).
//! 3. The pay system's settings (`settings.update`): mode, shop id, secret key, and the
//!    PAYMENT/ORDER mappings the server verifies payments with.

use crate::portal::{codes, Mode, HANDLER_CODE};
use crate::store::Registry;
use b24pay_protocol::fields;
use bitrix24_client::{
    Client, CodeSpec, DefaultValue, EntityRegistryType, EnumOptions, Error, FieldSpec, HandlerAdd,
    HandlerSettings, HandlerUpdate, IframeData, InputSpec, ListQuery, PaySystemAdd,
    PaySystemUpdate, Provider, Retry, SettingValue, Settings, SettingsUpdate,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug)]
pub struct RegisterOptions {
    /// The widget's public URL: the handler's IFRAME ACTION_URI.
    pub widget_url: url::Url,
    pub registry: Registry,
    /// Chosen person type; when `None`, the only one the registry has is used.
    pub person_type: Option<u64>,
    pub mode: Mode,
    pub shop_id: Option<String>,
    pub secret_key: Option<String>,
    /// Forces the widget's language (`B24PAY_LANGUAGE`), e.g. "ru".
    pub language: Option<String>,
    /// Asks the customer for the name on the card (`B24PAY_ASK_HOLDER`).
    pub ask_holder: bool,
    /// The pay system's name as customers see it.
    pub name: String,
}

impl RegisterOptions {
    /// No default mode: whether a pay system takes real money is always said out loud.
    pub fn new(widget_url: url::Url, mode: Mode) -> RegisterOptions {
        RegisterOptions {
            widget_url,
            registry: Registry::Order,
            person_type: None,
            mode,
            shop_id: None,
            secret_key: None,
            language: None,
            ask_holder: false,
            name: "Bank card (b24pay)".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        })
    }
}

/// What `register` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterReport {
    pub handler_id: u64,
    pub handler: Action,
    pub paysystem_id: u64,
    pub paysystem: Action,
    pub person_type_id: u64,
    pub settings: Action,
}

impl RegisterReport {
    pub fn changed_nothing(&self) -> bool {
        [self.handler, self.paysystem, self.settings]
            .iter()
            .all(|a| *a == Action::Unchanged)
    }
}

impl fmt::Display for RegisterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "handler {HANDLER_CODE:?}: {} (id {})",
            self.handler, self.handler_id
        )?;
        writeln!(
            f,
            "pay system: {} (id {}, person type {})",
            self.paysystem, self.paysystem_id, self.person_type_id
        )?;
        writeln!(f, "settings: {}", self.settings)?;
        if self.changed_nothing() {
            write!(f, "nothing to do: the portal was already set up")
        } else {
            write!(f, "done")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("portal call failed: {0}")]
    Portal(#[from] Error),
    #[error("{0}")]
    PersonType(String),
    #[error("several pay systems use handler {HANDLER_CODE:?} in registry {0}: {1:?}; pass --person-type to pick one")]
    AmbiguousPaySystem(&'static str, Vec<u64>),
}

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

/// Compares what the portal holds with what we would write, as JSON, so the portal's habit of
/// sending numbers as strings or adding empty fields does not count as a difference.
fn same<A: Serialize, B: Serialize>(a: &A, b: &B) -> bool {
    fn normalise(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) => Value::String(n.to_string()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.to_ascii_uppercase(), normalise(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
            other => other,
        }
    }
    let a = serde_json::to_value(a).map(normalise).ok();
    let b = serde_json::to_value(b).map(normalise).ok();
    a.is_some() && a == b
}

fn registry_type(r: Registry) -> EntityRegistryType {
    match r {
        Registry::Order => EntityRegistryType::Order,
        Registry::CrmInvoice => EntityRegistryType::CrmInvoice,
    }
}

/// Sets the portal up, in the module docs' three steps.
pub async fn register(
    client: &Client,
    o: &RegisterOptions,
) -> Result<RegisterReport, RegisterError> {
    let (handler_id, handler) = ensure_handler(client, o).await?;
    let (paysystem_id, paysystem, person_type_id) = ensure_pay_system(client, o).await?;
    let settings = ensure_settings(client, o, paysystem_id, person_type_id, paysystem).await?;
    Ok(RegisterReport {
        handler_id,
        handler,
        paysystem_id,
        paysystem,
        person_type_id,
        settings,
    })
}

/// What an app install sets up with the portal's own tokens: the handler (its ACTION_URI is the
/// portal's own widget URL), and the pay system with its settings only when the portal has
/// none of ours yet, in TEST mode: a reinstall keeps what the merchant chose since (LIVE mode,
/// keys, the name).
pub async fn register_on_install(
    client: &Client,
    o: &RegisterOptions,
) -> Result<RegisterReport, RegisterError> {
    let (handler_id, handler) = ensure_handler(client, o).await?;
    let registry = registry_type(o.registry);
    let all = client.paysystem_list(&ListQuery::all()).await?;
    let existing = all.iter().find(|p| {
        p.handler_code() == Some(HANDLER_CODE)
            && p.registry().unwrap_or(EntityRegistryType::CrmInvoice) == registry
    });
    if let Some(p) = existing {
        return Ok(RegisterReport {
            handler_id,
            handler,
            paysystem_id: p.id.unwrap_or_default(),
            paysystem: Action::Unchanged,
            person_type_id: p.person_type_id.unwrap_or_default(),
            settings: Action::Unchanged,
        });
    }
    // One pay system per person type (a shop's private and business buyers alike); the
    // report names the first.
    let types = match o.person_type {
        Some(p) => vec![p],
        None => match person_types(client, o.registry).await {
            Ok(types) => types.into_iter().map(|(id, _)| id).collect(),
            // An app with the `pay_system` scope alone cannot list person types: the handler
            // is there, and the merchant adds a pay system of it in the portal's settings.
            Err(e) => {
                tracing::info!(error = %e, "no pay system created on install: the merchant adds one from the b24pay handler");
                return Ok(RegisterReport {
                    handler_id,
                    handler,
                    paysystem_id: 0,
                    paysystem: Action::Unchanged,
                    person_type_id: 0,
                    settings: Action::Unchanged,
                });
            }
        },
    };
    let mut first = None;
    for person_type in types {
        let one = RegisterOptions {
            person_type: Some(person_type),
            ..o.clone()
        };
        let (paysystem_id, paysystem, person_type_id) = ensure_pay_system(client, &one).await?;
        let settings =
            ensure_settings(client, &one, paysystem_id, person_type_id, paysystem).await?;
        first.get_or_insert((paysystem_id, paysystem, person_type_id, settings));
    }
    let (paysystem_id, paysystem, person_type_id, settings) = first.ok_or_else(|| {
        RegisterError::PersonType(format!(
            "registry {} has no person types",
            o.registry.as_str()
        ))
    })?;
    Ok(RegisterReport {
        handler_id,
        handler,
        paysystem_id,
        paysystem,
        person_type_id,
        settings,
    })
}

/// 1. The handler.
async fn ensure_handler(
    client: &Client,
    o: &RegisterOptions,
) -> Result<(u64, Action), RegisterError> {
    let wanted = handler_settings(&o.widget_url);
    let handlers = client.handler_list().await?;
    if let Some(h) = handlers.iter().find(|h| h.code == HANDLER_CODE) {
        let settings_same = h.settings.as_ref().is_some_and(|s| same(s, &wanted));
        if settings_same && h.name == o.name {
            return Ok((h.id, Action::Unchanged));
        }
        let update = HandlerUpdate {
            name: Some(o.name.clone()),
            settings: Some(wanted),
            ..HandlerUpdate::default()
        };
        client.handler_update(h.id, &update).await?;
        return Ok((h.id, Action::Updated));
    }
    let add = HandlerAdd {
        name: o.name.clone(),
        code: HANDLER_CODE.into(),
        sort: Some(100),
        settings: wanted,
    };
    // A repeat after an ambiguous failure would only meet ERROR_HANDLER_ALREADY_EXIST;
    // re-running `register` then finds and updates the handler.
    let id = client.handler_add(&add, Retry::IfNotExecuted).await?;
    Ok((id, Action::Created))
}

/// 2. The pay system: ours in this registry (and person type), created or brought in line.
async fn ensure_pay_system(
    client: &Client,
    o: &RegisterOptions,
) -> Result<(u64, Action, u64), RegisterError> {
    let registry = registry_type(o.registry);
    let all = client.paysystem_list(&ListQuery::all()).await?;
    let ours: Vec<_> = all
        .iter()
        .filter(|p| p.handler_code() == Some(HANDLER_CODE))
        .filter(|p| p.registry().unwrap_or(EntityRegistryType::CrmInvoice) == registry)
        .filter(|p| o.person_type.is_none() || p.person_type_id == o.person_type)
        .collect();
    if ours.len() > 1 && o.person_type.is_none() {
        return Err(RegisterError::AmbiguousPaySystem(
            o.registry.as_str(),
            ours.iter().filter_map(|p| p.id).collect(),
        ));
    }
    let person_type_id = match (o.person_type, ours.first()) {
        (Some(p), _) => p,
        (None, Some(existing)) => existing.person_type_id.ok_or_else(|| {
            RegisterError::PersonType("the existing pay system reports no person type".into())
        })?,
        (None, None) => choose_person_type(client, o.registry).await?,
    };
    if let Some(p) = ours.first() {
        let id = p.id.unwrap_or_default();
        if p.name.as_deref() == Some(o.name.as_str())
            && p.active == Some(true)
            && p.person_type_id == Some(person_type_id)
        {
            return Ok((id, Action::Unchanged, person_type_id));
        }
        let update = PaySystemUpdate {
            name: Some(o.name.clone()),
            active: Some(true),
            ..PaySystemUpdate::new(HANDLER_CODE, person_type_id)
        };
        client.paysystem_update(id, &update).await?;
        return Ok((id, Action::Updated, person_type_id));
    }
    let add = PaySystemAdd {
        name: o.name.clone(),
        person_type_id,
        bx_rest_handler: HANDLER_CODE.into(),
        entity_registry_type: Some(registry),
        active: Some(true),
        ..PaySystemAdd::default()
    };
    // Not retried after an ambiguous failure: that could create a second pay system.
    let id = client.paysystem_add(&add, Retry::IfNotExecuted).await?;
    Ok((id, Action::Created, person_type_id))
}

/// 3. The settings, written only when they differ.
async fn ensure_settings(
    client: &Client,
    o: &RegisterOptions,
    paysystem_id: u64,
    person_type_id: u64,
    paysystem: Action,
) -> Result<Action, RegisterError> {
    let settings = paysystem_settings(o);
    let current = client.settings_get(paysystem_id, person_type_id).await?;
    let differs = settings
        .iter()
        .any(|(k, v)| current.get(k).is_none_or(|c| !same(c, v)));
    if !differs {
        return Ok(Action::Unchanged);
    }
    client
        .settings_update(&SettingsUpdate {
            id: paysystem_id,
            person_type_id: Some(person_type_id),
            settings,
        })
        .await?;
    Ok(if paysystem == Action::Created {
        Action::Created
    } else {
        Action::Updated
    })
}

/// A person type of `registry` when there is exactly one; otherwise the list to choose from.
/// Listing needs the `sale` scope (`sale.persontype.list`); without it, `--person-type` is
/// required.
async fn choose_person_type(client: &Client, registry: Registry) -> Result<u64, RegisterError> {
    let matching = person_types(client, registry).await?;
    match matching.as_slice() {
        [(id, _)] => Ok(*id),
        [] => Err(RegisterError::PersonType(format!(
            "registry {} has no person types",
            registry.as_str()
        ))),
        many => Err(RegisterError::PersonType(format!(
            "registry {} has several person types; pass --person-type with one of: {}",
            registry.as_str(),
            many.iter()
                .map(|(id, name)| format!("{id} ({name})"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The registry's person types (id, name).
async fn person_types(
    client: &Client,
    registry: Registry,
) -> Result<Vec<(u64, String)>, RegisterError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Reply {
        Wrapped {
            #[serde(alias = "personTypes")]
            person_types: Vec<PersonType>,
        },
        Plain(Vec<PersonType>),
    }
    let reply: Result<Reply, Error> = client
        .call("sale.persontype.list", &serde_json::json!({}), Retry::Safe)
        .await;
    let types = match reply {
        Ok(Reply::Wrapped { person_types }) | Ok(Reply::Plain(person_types)) => person_types,
        Err(e) => {
            return Err(RegisterError::PersonType(format!(
            "cannot list person types ({}); pass --person-type with a person type of registry {}",
            e.code(),
            registry.as_str()
        )))
        }
    };
    Ok(matching_types(types, registry))
}

fn matching_types(types: Vec<PersonType>, registry: Registry) -> Vec<(u64, String)> {
    types
        .into_iter()
        .filter(|t| {
            t.registry
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case(registry.as_str()))
        })
        .filter_map(|t| {
            let id = match &t.id {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            }?;
            Some((id, t.name.unwrap_or_default()))
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct PersonType {
    #[serde(alias = "ID", alias = "id")]
    id: serde_json::Value,
    #[serde(alias = "NAME", alias = "name", default)]
    name: Option<String>,
    #[serde(alias = "ENTITY_REGISTRY_TYPE", alias = "entityRegistryType", default)]
    registry: Option<String>,
}
