//! The methods the sandbox implements, listed once: name, whether it changes the world, and
//! how its parameter names are normalised.

use serde_json::{Map, Value};

use super::error::RestError;
use super::{handlers, pay, paysystem_list, paysystems, person_types, settings};
use crate::params::{self, Params};
use crate::world::World;

/// What a method answers.
pub(crate) type Outcome = Result<Value, RestError>;

/// What a method that changes the world works with.
pub(crate) struct Call<'w> {
    pub world: &'w mut World,
    /// Unix seconds.
    pub now: i64,
    /// An injected [`Fault::TrueWithoutSaving`](crate::Fault::TrueWithoutSaving): the pay
    /// methods answer `true` unsaved.
    pub unsaved: bool,
}

/// A method's body. Readers get the world read-only; writers run inside
/// [`AppState::mutate`](crate::state::AppState::mutate), so what they change is persisted.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    Read(fn(&World, &Params) -> Outcome),
    Write(fn(&mut Call, &Params) -> Outcome),
}

/// How a method's parameter names are normalised (see [`crate::params`]).
#[derive(Clone, Copy)]
pub(crate) enum Names {
    /// `sale.paysystem.handler.*`: top level, plus the structure of `SETTINGS`.
    Handler,
    /// Everything else: every depth.
    Deep,
}

/// One implemented method.
#[derive(Clone, Copy)]
pub(crate) struct Method {
    pub name: &'static str,
    pub run: Run,
    pub names: Names,
    /// The scope an OAuth token needs for it ([`super::scope`]).
    pub scope: &'static str,
}

macro_rules! methods {
    ($($name:literal => $kind:ident($f:path), $names:ident, $scope:literal;)+) => {
        const TABLE: &[Method] = &[
            $(Method { name: $name, run: Run::$kind($f), names: Names::$names, scope: $scope },)+
        ];

        /// The method names the sandbox implements (besides `batch`).
        pub const METHODS: &[&str] = &[$($name,)+];
    };
}

methods! {
    "sale.paysystem.handler.add" => Write(handlers::add), Handler, "pay_system";
    "sale.paysystem.handler.update" => Write(handlers::update), Handler, "pay_system";
    "sale.paysystem.handler.delete" => Write(handlers::delete), Handler, "pay_system";
    "sale.paysystem.handler.list" => Read(handlers::list), Handler, "pay_system";
    "sale.paysystem.add" => Write(paysystems::add), Deep, "pay_system";
    "sale.paysystem.update" => Write(paysystems::update), Deep, "pay_system";
    "sale.paysystem.delete" => Write(paysystems::delete), Deep, "pay_system";
    "sale.paysystem.list" => Read(paysystem_list::list), Deep, "pay_system";
    "sale.paysystem.settings.get" => Read(settings::get), Deep, "pay_system";
    "sale.paysystem.settings.update" => Write(settings::update), Deep, "pay_system";
    "sale.paysystem.settings.payment.get" => Read(settings::payment_get), Deep, "pay_system";
    "sale.paysystem.settings.invoice.get" => Read(settings::invoice_get), Deep, "pay_system";
    "sale.paysystem.pay.payment" => Write(pay::payment), Deep, "pay_system";
    "sale.paysystem.pay.invoice" => Write(pay::invoice), Deep, "pay_system";
    "sale.persontype.list" => Read(person_types::sale_list), Deep, "sale";
    "crm.persontype.list" => Read(person_types::crm_list), Deep, "crm";
}

/// The method of a lower-case name without `.json`.
pub(crate) fn lookup(name: &str) -> Option<Method> {
    TABLE.iter().find(|m| m.name == name).copied()
}

impl Method {
    /// The method's view of raw parameters (`auth` already taken out).
    pub(crate) fn params(&self, raw: Map<String, Value>) -> Params {
        match self.names {
            Names::Deep => match params::upper_keys_deep(Value::Object(raw)) {
                Value::Object(map) => Params(map),
                _ => unreachable!("an object stays an object"),
            },
            Names::Handler => Params(handler_names(raw)),
        }
    }
}

fn handler_names(raw: Map<String, Value>) -> Map<String, Value> {
    let mut map = params::upper_keys(raw);
    if let Some(settings) = map.remove("SETTINGS") {
        map.insert(
            "SETTINGS".into(),
            params::normalize_handler_settings(settings),
        );
    }
    if let Some(Value::Object(fields)) = map.remove("FIELDS") {
        let mut fields = params::upper_keys(fields);
        if let Some(settings) = fields.remove("SETTINGS") {
            fields.insert(
                "SETTINGS".into(),
                params::normalize_handler_settings(settings),
            );
        }
        map.insert("FIELDS".into(), Value::Object(fields));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_method_is_found() {
        for name in METHODS {
            assert_eq!(lookup(name).map(|m| m.name), Some(*name));
        }
        assert!(lookup("batch").is_none());
        assert!(lookup("sale.paysystem.nope").is_none());
    }
}
