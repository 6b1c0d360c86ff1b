//! `b24pay portals list|forget`: the portals that installed the app, as the store has them
//! (never a token, never the `application_token`'s hash: only whether tokens are held), and
//! the operator's way to stop serving one (its tokens dropped, its payments refused at once by
//! every instance, which read the portal's row on each request).

use super::at;
use crate::portal::PublicId;
use crate::store::{now_ms, PortalRow, SharedStore};
use std::fmt::Write;

fn line(p: &PortalRow) -> String {
    let since = match p.uninstalled_at {
        Some(t) => format!("uninstalled {}", at(t)),
        None => format!("installed {}", at(p.installed_at)),
    };
    let tokens = if p.tokens.is_some() {
        "tokens held (sealed)"
    } else {
        "no tokens"
    };
    let origin = if p.origin.is_empty() {
        "(location wiped)"
    } else {
        p.origin.as_str()
    };
    format!(
        "{id}  {state:<11} {origin}  member {member}  {since}  {tokens}",
        id = p.public_id,
        state = p.state,
        member = p.member_id,
    )
}

/// Every portal that ever installed the app, newest first.
pub async fn list_portals(store: &SharedStore) -> anyhow::Result<String> {
    let portals = store.portals().await?;
    let mut out = String::new();
    if portals.is_empty() {
        writeln!(out, "no portal has installed the app")?;
    }
    for p in &portals {
        writeln!(out, "{}", line(p))?;
    }
    Ok(out)
}

/// Forgets the installed portal `id` names (its public id, or its `member_id`).
pub async fn forget_portal(store: &SharedStore, id: &str) -> anyhow::Result<String> {
    let row = match PublicId::parse(id) {
        Some(public) => store.portal_by_public_id(public.as_str()).await?,
        None => store.portal_by_member(id).await?,
    };
    let Some(row) = row else {
        anyhow::bail!("no portal {id:?} (see `b24pay portals list`)");
    };
    if !store.portal_forget(&row.member_id, now_ms()).await? {
        anyhow::bail!(
            "portal {} is not installed ({}): nothing to forget",
            row.public_id,
            row.state
        );
    }
    Ok(format!(
        "portal {} ({}) forgotten: its tokens are dropped and its customers' payments refused \
         from now on; charges already taken stay in the store and its outbox calls cannot be \
         sent any more (`b24pay outbox list`). Installing the app again from the portal brings \
         it back under the same URL.",
        row.public_id, row.origin
    ))
}
