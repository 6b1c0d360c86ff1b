//! The shop's person types: `sale.persontype.list` (scope `sale`) for ORDER pay systems,
//! `crm.persontype.list` (scope `crm`) for legacy invoices'.

use super::RegisterError;
use crate::store::Registry;
use bitrix24_client::{Client, Error, Retry};

/// The scopes a portal granted an app (its install's `auth[scope]`, as the OAuth server
/// repeats it): `pay_system` alone cannot list person types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// A comma- or space-separated list, e.g. `pay_system,sale`.
    pub fn parse(text: &str) -> Scopes {
        Scopes(
            text.split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
        )
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether `registry`'s person types may be listed.
    pub fn can_list(&self, registry: Registry) -> bool {
        self.has(list_method(registry).1)
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// The method listing `registry`'s person types, and its scope.
fn list_method(registry: Registry) -> (&'static str, &'static str) {
    match registry {
        Registry::Order => ("sale.persontype.list", "sale"),
        Registry::CrmInvoice => ("crm.persontype.list", "crm"),
    }
}

/// A person type of `registry` when there is exactly one; otherwise the list to choose from.
/// Listing needs the `sale` scope (`crm` for legacy invoices); without it, `--person-type` is
/// required.
pub(super) async fn choose_person_type(
    client: &Client,
    registry: Registry,
) -> Result<u64, RegisterError> {
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
pub(super) async fn person_types(
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
    let (method, _) = list_method(registry);
    let reply: Result<Reply, Error> = client
        .call(method, &serde_json::json!({}), Retry::Safe)
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
