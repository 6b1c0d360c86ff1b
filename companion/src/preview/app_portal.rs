//! The preview's second portal, where b24pay is a Market application: the companion runs with
//! `[app]` (a client made up for this run), the portal installs the app the way the platform
//! does (its `ONAPPINSTALL` event, tokens checked with the sandbox's shared OAuth server), and
//! then pays at its own widget URL, `{public_url}p/{public id}/`.

use super::DemoPayment;
use crate::config::{FileConfig, Secret};
use crate::portal::Mode;
use crate::register::{register, RegisterOptions};
use crate::Server;
use b24pay_sandbox::{App, NewPayment, PlatformHandle, SandboxHandle};
use bitrix24_client::{Auth, Client};

/// The app's `client_id` in the preview (the vendor account would issue one).
pub const CLIENT_ID: &str = "app.b24pay.preview";

/// The second portal's shop name.
pub const STORE_NAME: &str = "Harbour Street Market";

/// The app as the platform knows it; the secret is made up for this run.
pub fn app(public_url: &url::Url, secret: &str) -> App {
    let at = |path: &str| public_url.join(path).expect("a relative path").to_string();
    App::new(CLIENT_ID, secret, at("app/events")).with_install_url(at("app/install"))
}

/// `[app]` for the companion: tokens are checked with the platform's shared OAuth server,
/// and install pages load the portal's stand-in for the BX24 library.
pub fn configure(
    file: &mut FileConfig,
    platform: &PlatformHandle,
    portal: &SandboxHandle,
    secret: &str,
) {
    file.app.client_id = Some(CLIENT_ID.into());
    file.app.client_secret = Some(Secret::new(secret));
    file.app.token_endpoint = Some(platform.oauth_token_endpoint());
    file.app.bx24_script = Some(portal.bx24_script_url());
}

/// The installed portal: its widget URL and demo payments.
pub struct AppPortal {
    pub widget_url: url::Url,
    pub payments: Vec<DemoPayment>,
}

/// Installs the app on `portal` (its `ONAPPINSTALL` to the running companion), then adds the
/// pay system the merchant adds in the portal's settings (the `pay_system` scope alone
/// cannot list person types), and demo payments.
pub async fn install(server: &Server, portal: &SandboxHandle) -> anyhow::Result<AppPortal> {
    let installed = portal
        .install_app()
        .await
        .map_err(|e| anyhow::anyhow!("installing the app on the second portal: {e}"))?;
    if installed.event.status != Some(200) {
        anyhow::bail!(
            "the companion refused the second portal's ONAPPINSTALL: {:?}",
            installed.event
        );
    }
    let row = server
        .services
        .store
        .portal_by_member(&portal.member_id())
        .await?
        .filter(|r| r.is_installed())
        .ok_or_else(|| anyhow::anyhow!("the second portal is not stored as installed"))?;
    let widget_url = server.public_url.join(&format!("p/{}/", row.public_id))?;
    // The merchant's step, through the portal's webhook standing in for its settings page.
    let client = Client::builder(Auth::webhook(&portal.webhook_url())?)
        .rate_limit(None)
        .build()?;
    let mut o = RegisterOptions::new(widget_url.clone(), Mode::Test);
    o.person_type = Some(1);
    let ps = register(&client, &o).await?.paysystem_id;
    let mut payments = Vec::new();
    for (label, new) in [
        ("Harbour: linen apron", NewPayment::order("35", "EUR")),
        (
            "Harbour: espresso cups, 6",
            NewPayment::order("2400", "RUB"),
        ),
    ] {
        let created = portal
            .create_payment(new.with_pay_system(ps).with_topic(label))
            .map_err(|e| anyhow::anyhow!("creating a demo payment: {e}"))?;
        payments.push(DemoPayment {
            label: label.to_string(),
            payment_id: created.payment_id,
            pay_url: created.pay_url,
        });
    }
    Ok(AppPortal {
        widget_url,
        payments,
    })
}
