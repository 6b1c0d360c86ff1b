//! What a Market app install sets up with the portal's own tokens.

use super::ensure::{ensure_handler, ensure_pay_system, ensure_settings, registry_type};
use super::person_types::{person_types, Scopes};
use super::{Action, RegisterError, RegisterOptions, RegisterReport};
use crate::portal::HANDLER_CODE;
use bitrix24_client::{Client, EntityRegistryType, ListQuery};

/// What an app install sets up with the portal's own tokens: the handler (its ACTION_URI is the
/// portal's own widget URL), and the pay system with its settings only when the portal has
/// none of ours yet, in TEST mode: a reinstall keeps what the merchant chose since (LIVE mode,
/// keys, the name). The shop's person types are listed only when `scopes` allow it (a call
/// the portal would refuse is not made).
pub async fn register_on_install(
    client: &Client,
    o: &RegisterOptions,
    scopes: &Scopes,
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
    // report names the first. Without a scope that lists them (`pay_system` alone), the
    // handler is there and the merchant adds a pay system of it in the portal's settings.
    let listed = match o.person_type {
        Some(p) => Ok(vec![p]),
        None if scopes.can_list(o.registry) => {
            let types = person_types(client, o.registry).await;
            types
                .map(|t| t.into_iter().map(|(id, _)| id).collect())
                .map_err(|e| {
                    tracing::warn!(error = %e, "listing the shop's person types failed");
                    e.to_string()
                })
        }
        None => Err(format!("the app was granted {scopes} only")),
    };
    let types = match listed {
        Ok(types) => types,
        Err(why) => {
            tracing::info!(%why, "no pay system created on install: the merchant adds one from the b24pay handler");
            return Ok(RegisterReport {
                handler_id,
                handler,
                paysystem_id: 0,
                paysystem: Action::Unchanged,
                person_type_id: 0,
                settings: Action::Unchanged,
            });
        }
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
