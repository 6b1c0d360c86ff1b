//! The shop's person types: `sale.persontype.list` (scope `sale`: the online store's types,
//! those of ORDER pay systems) and `crm.persontype.list` (scope `crm`: those of legacy
//! invoices), in each method's own shape.

use serde_json::{json, Value};

use super::error::RestError;
use crate::params::Params;
use crate::world::{Registry, World};

/// `{"personTypes": [{"id", "lid", "name", "code", "sort", "active"}]}`, values as strings,
/// as the portal sends them.
pub(super) fn sale_list(world: &World, _p: &Params) -> Result<Value, RestError> {
    let types: Vec<Value> = of(world, Registry::Order)
        .map(|(id, name)| {
            json!({"id": id.to_string(), "lid": "s1", "name": name, "code": "",
                   "sort": (id * 100).to_string(), "active": "Y"})
        })
        .collect();
    Ok(json!({ "personTypes": types }))
}

/// `[{"ID", "NAME"}]`.
pub(super) fn crm_list(world: &World, _p: &Params) -> Result<Value, RestError> {
    let types: Vec<Value> = of(world, Registry::CrmInvoice)
        .map(|(id, name)| json!({"ID": id.to_string(), "NAME": name}))
        .collect();
    Ok(Value::Array(types))
}

fn of(world: &World, registry: Registry) -> impl Iterator<Item = (u64, &str)> {
    world
        .person_types
        .iter()
        .filter(move |t| t.registry == registry)
        .map(|t| (t.id, t.name.as_str()))
}
