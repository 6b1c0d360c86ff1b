//! The preview (`b24pay preview`, or `b24pay` with no configuration): two sandbox portals
//! (`127.0.0.1:8081` and the next port) and the companion on `localhost:8080` as a Market
//! application. Each portal installs the app the way the platform does ([`app_portal`]: its
//! `ONAPPINSTALL`, the handler and a TEST pay system set up with that portal's own tokens),
//! a few demo payments are created ([`demo`]) and their store pages printed ([`banner`]).
//! Webhook deployments are the tests' (and `b24pay register`'s) business, not the preview's.

mod app_portal;
mod banner;
mod demo;

use crate::config::{FileConfig, FileOutbox, FilePayments, FilePortal};
use crate::Server;
use app_portal::Installed;
use b24pay_sandbox::{Platform, PlatformHandle, Sandbox, SandboxHandle};
use bitrix24_client::{Auth, Client};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct PreviewOptions {
    /// The companion (serves the widget: the handlers' ACTION_URIs).
    pub listen: String,
    /// The first sandbox portal.
    pub sandbox_listen: String,
    /// The second sandbox portal (default: the port after `sandbox_listen`'s; `:0` lets the
    /// OS choose).
    pub app_sandbox_listen: Option<String>,
    /// Where the widget's build is (default: as for `serve`).
    pub dist_dir: Option<PathBuf>,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions {
            listen: "127.0.0.1:8080".into(),
            sandbox_listen: "127.0.0.1:8081".into(),
            app_sandbox_listen: None,
            dist_dir: None,
        }
    }
}

/// A demo payment ready to be paid.
#[derive(Clone, Debug)]
pub struct DemoPayment {
    pub label: String,
    pub payment_id: u64,
    pub pay_url: String,
}

/// One preview portal with the app installed, and its demo payments.
pub struct PreviewPortal {
    pub sandbox: SandboxHandle,
    /// Our public id for it, and its widget URL (`{public_url}p/{public id}/`).
    pub public_id: String,
    pub widget_url: url::Url,
    pub payments: Vec<DemoPayment>,
}

/// The second portal's shop name.
pub const SECOND_STORE_NAME: &str = "Harbour Street Market";

pub struct Preview {
    pub server: Server,
    pub platform: PlatformHandle,
    /// Both portals, in the order they were started.
    pub portals: Vec<PreviewPortal>,
    /// Keeps the throwaway store alive until the preview stops.
    _data: tempfile::TempDir,
}

impl Preview {
    pub async fn start(options: PreviewOptions) -> anyhow::Result<Preview> {
        let app_secret = format!("preview-app-{:016x}", rand::random::<u64>());
        let public_url = url::Url::parse(&public_url(&options))?;
        let platform = start_portals(&options, &public_url, &app_secret).await?;
        // The sandbox forgets everything when it stops, so the companion's store must too.
        // Owner-only like every data directory (tempfile's default follows the umask).
        let mut data = tempfile::Builder::new();
        data.prefix("b24pay-preview-");
        #[cfg(unix)]
        data.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let data = data.tempdir()?;
        let mut file = preview_config(&options, platform.portal(0), data.path());
        app_portal::configure(&mut file, &platform, &app_secret);
        // `B24PAY_STRIPE_*` (e.g. pointed at localstripe) adds a LIVE pay system charging
        // through Stripe; without them the preview moves no money at all.
        file.acquirer.stripe =
            FileConfig::layered("", "the environment", &crate::config::process_env())?
                .acquirer
                .stripe;
        let config = file.clone().validate()?;
        let stripe = config.stripe.is_some();
        let server = Server::start(config).await?;
        let (first, second) = (platform.portal(0), platform.portal(1));
        let a = app_portal::install(&server, first).await?;
        let b = app_portal::install(&server, second).await?;
        let extra = demo::merchant_pay_systems(first, &a.widget_url, stripe).await?;
        let live = extra.get(1).map(|r| r.paysystem_id);
        let first_payments = demo::first_portal(first, a.pay_system, extra[0].paysystem_id, live)?;
        let second_payments = demo::second_portal(second, b.pay_system)?;
        // Opened on its own, the widget shows the first demo payment and pays it through the
        // first portal's API (the standalone preview): the page says so only once the install
        // named that portal, hence the restart.
        server.stop().await;
        let sample = data.path().join("preview-sample.json");
        std::fs::write(&sample, portal_message(&first_payments[0].pay_url).await?)?;
        file.preview_sample = Some(sample);
        file.api_base = Some(format!(
            "{}{}",
            a.widget_url.path().trim_end_matches('/'),
            b24pay_protocol::api::API_PREFIX
        ));
        let server = Server::start(file.validate()?).await?;
        let portals = vec![
            portal(first, a, first_payments),
            portal(second, b, second_payments),
        ];
        Ok(Preview {
            server,
            platform,
            portals,
            _data: data,
        })
    }

    /// What to tell the person who started the preview.
    pub fn banner(&self) -> String {
        banner::banner(self)
    }

    pub async fn stop(self) {
        self.server.stop().await;
        drop(self.portals);
        self.platform.shutdown().await;
    }
}

fn portal(
    sandbox: &SandboxHandle,
    installed: Installed,
    payments: Vec<DemoPayment>,
) -> PreviewPortal {
    PreviewPortal {
        sandbox: sandbox.clone(),
        public_id: installed.public_id,
        widget_url: installed.widget_url,
        payments,
    }
}

/// Both portals, on one platform (a shared OAuth server, as `oauth.bitrix.info`) that knows
/// the app.
async fn start_portals(
    options: &PreviewOptions,
    public_url: &url::Url,
    app_secret: &str,
) -> anyhow::Result<PlatformHandle> {
    let second = options
        .app_sandbox_listen
        .clone()
        .unwrap_or_else(|| next_port(&options.sandbox_listen));
    Platform::builder()
        .portal(Sandbox::builder().bind(options.sandbox_listen.clone()))
        .portal(
            Sandbox::builder()
                .bind(second.clone())
                .store_name(SECOND_STORE_NAME),
        )
        .app(app_portal::app(public_url, app_secret))
        .start()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "sandbox portals on {} and {second}: {e}",
                options.sandbox_listen
            )
        })
}

/// The portal's webhook: the preview's stand-in for what its admin clicks in its settings.
fn webhook_client(portal: &SandboxHandle) -> anyhow::Result<Client> {
    Ok(Client::builder(Auth::webhook(&portal.webhook_url())?)
        .rate_limit(None)
        .build()?)
}

/// The preview's companion: a Market app only (no `[portal]`), TEST mode allowed, a
/// throwaway store. The root page (the standalone preview) may be framed by the first portal.
fn preview_config(
    options: &PreviewOptions,
    first: &SandboxHandle,
    data: &std::path::Path,
) -> FileConfig {
    FileConfig {
        listen: Some(options.listen.clone()),
        public_url: Some(public_url(options)),
        allowed_origins: Some(vec![first.base_url()]),
        data_dir: Some(data.to_path_buf()),
        dist_dir: options.dist_dir.clone(),
        portal: FilePortal {
            // The sandbox has no rate limit in the preview; neither have the portals' clients.
            rate_limit_per_second: Some(0.0),
            timeout_ms: Some(10_000),
            ..FilePortal::default()
        },
        outbox: FileOutbox {
            base_backoff_ms: Some(250),
            max_backoff_ms: Some(5_000),
            ..FileOutbox::default()
        },
        // The preview's pay systems are TEST ones: no money moves.
        payments: FilePayments {
            allow_test_mode: Some(true),
            ..FilePayments::default()
        },
        ..FileConfig::default()
    }
}

/// `http://localhost:{the companion's port}/`.
fn public_url(options: &PreviewOptions) -> String {
    let port = options
        .listen
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(8080);
    format!("http://localhost:{port}/")
}

/// `host:{port + 1}` (`host:0` stays: the OS chooses).
fn next_port(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(0) => listen.to_string(),
            Ok(p) => format!("{host}:{}", p.saturating_add(1)),
            Err(_) => format!("{host}:0"),
        },
        None => format!("{listen}:0"),
    }
}

/// The message the sandbox's store page posts to the widget for a payment, as the page
/// embeds it (`<script type="application/json" id="sandbox-iframe-data">`, without the
/// computed style, which only a browser can compute).
async fn portal_message(pay_url: &str) -> anyhow::Result<String> {
    let page = reqwest::get(pay_url)
        .await?
        .error_for_status()?
        .text()
        .await?;
    let json = page
        .split("id=\"sandbox-iframe-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .ok_or_else(|| anyhow::anyhow!("no portal message on the store page {pay_url}"))?;
    let message: serde_json::Value = serde_json::from_str(json)?;
    Ok(message.to_string())
}
