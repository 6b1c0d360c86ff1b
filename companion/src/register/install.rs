//! What a Market app install sets up with the portal's own tokens.

use super::ensure::{ensure_handler, ensure_pay_system, ensure_settings, registry_type};
use super::person_types::person_types;
use super::{Action, RegisterError, RegisterOptions, RegisterReport};
use crate::portal::HANDLER_CODE;
use bitrix24_client::{Client, EntityRegistryType, ListQuery};

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
