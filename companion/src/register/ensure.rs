//! The three steps, each reading what the portal holds and writing only what differs.

use super::person_types::choose_person_type;
use super::settings::{handler_settings, paysystem_settings};
use super::{Action, RegisterError, RegisterOptions};
use crate::portal::HANDLER_CODE;
use crate::store::Registry;
use bitrix24_client::{
    Client, EntityRegistryType, HandlerAdd, HandlerUpdate, ListQuery, PaySystemAdd,
    PaySystemUpdate, Retry, SettingsUpdate,
};
use serde::Serialize;

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

pub(super) fn registry_type(r: Registry) -> EntityRegistryType {
    match r {
        Registry::Order => EntityRegistryType::Order,
        Registry::CrmInvoice => EntityRegistryType::CrmInvoice,
    }
}

/// 1. The handler.
pub(super) async fn ensure_handler(
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
pub(super) async fn ensure_pay_system(
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
pub(super) async fn ensure_settings(
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
