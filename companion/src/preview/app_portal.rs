//! Installing b24pay on a preview portal as a Market application, the way the platform does
//! it: the portal POSTs `ONAPPINSTALL` to the running companion, whose `[app]` (a client made
//! up for this run) checks the tokens with the sandbox's shared OAuth server and sets the
//! portal up with the portal's own tokens: the handler at its own widget URL
//! (`{public_url}p/{public id}/`) and a TEST pay system per person type (the app is granted
//! `pay_system` and `sale`, which lists them).

use crate::config::{FileConfig, Secret};
use crate::Server;
use b24pay_sandbox::{App, PlatformHandle, SandboxHandle};
use bitrix24_client::ListQuery;

/// The app's `client_id` in the preview (the vendor account would issue one).
pub const CLIENT_ID: &str = "app.b24pay.preview";

/// What the preview's app asks the portals for (see README: Publishing as a Market
/// application).
pub const SCOPE: &str = "pay_system,sale";

/// The app as the platform knows it; the secret is made up for this run.
pub fn app(public_url: &url::Url, secret: &str) -> App {
    let at = |path: &str| public_url.join(path).expect("a relative path").to_string();
    App::new(CLIENT_ID, secret, at("app/events"))
        .with_install_url(at("app/install"))
        .with_scope(SCOPE)
}

/// `[app]` for the companion: tokens are checked with the platform's shared OAuth server,
/// and install pages load the portals' stand-in for the BX24 library.
pub fn configure(file: &mut FileConfig, platform: &PlatformHandle, secret: &str) {
    file.app.client_id = Some(CLIENT_ID.into());
    file.app.client_secret = Some(Secret::new(secret));
    file.app.token_endpoint = Some(platform.oauth_token_endpoint());
    file.app.bx24_script = Some(platform.portal(0).bx24_script_url());
}

/// A portal with the app installed.
pub struct Installed {
    pub public_id: String,
    /// The handler's ACTION_URI on that portal.
    pub widget_url: url::Url,
    /// The TEST pay system the install created for person type 1 (individuals).
    pub pay_system: u64,
}

/// Installs the app on `portal` (its `ONAPPINSTALL` to the running companion) and finds
/// what the install set up there.
pub async fn install(server: &Server, portal: &SandboxHandle) -> anyhow::Result<Installed> {
    let installed = portal
        .install_app()
        .await
        .map_err(|e| anyhow::anyhow!("installing the app on {}: {e}", portal.base_url()))?;
    if installed.event.status != Some(200) {
        anyhow::bail!(
            "the companion refused the ONAPPINSTALL of {}: {:?}",
            portal.base_url(),
            installed.event
        );
    }
    let row = server
        .services
        .store
        .portal_by_member(&portal.member_id())
        .await?
        .filter(|r| r.is_installed())
        .ok_or_else(|| anyhow::anyhow!("{} is not stored as installed", portal.base_url()))?;
    let widget_url = server.public_url.join(&format!("p/{}/", row.public_id))?;
    let pay_system = installed_pay_system(portal, 1).await?;
    Ok(Installed {
        public_id: row.public_id,
        widget_url,
        pay_system,
    })
}

/// The pay system of ours the install created for `person_type` (ORDER), as the portal lists
/// it to its admin (the portal's webhook stands in for its settings page).
async fn installed_pay_system(portal: &SandboxHandle, person_type: u64) -> anyhow::Result<u64> {
    let list = super::webhook_client(portal)?
        .paysystem_list(&ListQuery::all())
        .await?;
    list.iter()
        .find(|p| {
            p.handler_code() == Some(crate::portal::HANDLER_CODE)
                && p.person_type_id == Some(person_type)
        })
        .and_then(|p| p.id)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the install created no pay system for person type {person_type} on {}",
                portal.base_url()
            )
        })
}
