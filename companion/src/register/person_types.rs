//! The shop's person types (`sale.persontype.list`, scope `sale`).

use super::RegisterError;
use crate::store::Registry;
use bitrix24_client::{Client, Error, Retry};

/// A person type of `registry` when there is exactly one; otherwise the list to choose from.
/// Listing needs the `sale` scope (`sale.persontype.list`); without it, `--person-type` is
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
