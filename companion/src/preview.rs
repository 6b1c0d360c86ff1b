//! The preview (`b24pay preview`, or `b24pay` with no configuration): an embedded sandbox portal
//! on `127.0.0.1:8081`, the companion on `localhost:8080`, the handler and pay systems
//! registered in the sandbox through the real `register` path over HTTP, and a few demo
//! payments whose store pages are printed. A second sandbox portal (the next port) installs
//! the companion as a Market application ([`app_portal`]) and pays at its own widget URL.

mod app_portal;

use crate::config::{FileConfig, FileOutbox, FilePayments, FilePortal, Secret};
use crate::portal::Mode;
use crate::register::{register, RegisterOptions, RegisterReport};
use crate::store::Registry;
use crate::Server;
use app_portal::AppPortal;
use b24pay_sandbox::{NewPayment, Platform, PlatformHandle, Sandbox, SandboxHandle};
use bitrix24_client::{Auth, Client};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct PreviewOptions {
    /// The companion (serves the widget: the handler's ACTION_URI).
    pub listen: String,
    /// The embedded sandbox portal.
    pub sandbox_listen: String,
    /// The second sandbox portal, where b24pay is a Market application (default: the port
    /// after `sandbox_listen`'s; `:0` lets the OS choose).
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

pub struct Preview {
    pub server: Server,
    /// The first portal (webhook mode); the second is `platform.portal(1)`.
    pub sandbox: SandboxHandle,
    pub platform: PlatformHandle,
    pub registrations: Vec<RegisterReport>,
    pub payments: Vec<DemoPayment>,
    pub app_portal: AppPortal,
    /// Keeps the throwaway store alive until the preview stops.
    _data: tempfile::TempDir,
}

impl Preview {
    pub async fn start(options: PreviewOptions) -> anyhow::Result<Preview> {
        let app_secret = format!("preview-app-{:016x}", rand::random::<u64>());
        let public_url = url::Url::parse(&public_url(&options))?;
        let app_listen = options
            .app_sandbox_listen
            .clone()
            .unwrap_or_else(|| next_port(&options.sandbox_listen));
        let platform = Platform::builder()
            .portal(Sandbox::builder().bind(options.sandbox_listen.clone()))
            .portal(
                Sandbox::builder()
                    .bind(app_listen.clone())
                    .store_name(app_portal::STORE_NAME),
            )
            .app(app_portal::app(&public_url, &app_secret))
            .start()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "sandbox portals on {} and {app_listen}: {e}",
                    options.sandbox_listen
                )
            })?;
        let sandbox = platform.portal(0).clone();
        let webhook = sandbox.webhook_url();
        let portal_origin = sandbox.base_url();

        // The sandbox forgets everything when it stops, so the companion's store must too.
        // Owner-only like every data directory (tempfile's default follows the umask).
        let mut data = tempfile::Builder::new();
        data.prefix("b24pay-preview-");
        #[cfg(unix)]
        data.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let data = data.tempdir()?;
        let mut file = preview_config(&options, &webhook, &portal_origin, data.path());
        app_portal::configure(&mut file, &platform, platform.portal(1), &app_secret);
        // `B24PAY_STRIPE_*` (e.g. pointed at localstripe) adds a LIVE pay system charging
        // through Stripe; without them the preview moves no money at all.
        file.acquirer.stripe =
            FileConfig::layered("", "the environment", &crate::config::process_env())?
                .acquirer
                .stripe;
        let config = file.clone().validate()?;
        let stripe = config.stripe.is_some();
        let widget_url = config.public_url;
        let client = Client::builder(Auth::webhook(&webhook)?)
            .rate_limit(None)
            .build()?;
        let registrations = register_demo(&client, &widget_url, stripe).await?;
        let pay_systems: Vec<u64> = registrations.iter().map(|r| r.paysystem_id).collect();
        let payments = demo_payments(&sandbox, &pay_systems)?;
        // Opened on its own, the widget shows the first demo payment: the standalone preview.
        let sample = data.path().join("preview-sample.json");
        std::fs::write(&sample, portal_message(&payments[0].pay_url).await?)?;
        file.preview_sample = Some(sample);
        let server = Server::start(file.validate()?).await?;
        let app_portal = app_portal::install(&server, platform.portal(1)).await?;
        Ok(Preview {
            server,
            sandbox,
            platform,
            registrations,
            payments,
            app_portal,
            _data: data,
        })
    }

    /// What to tell the person who started the preview.
    pub fn banner(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "b24pay preview\n  companion (widget + API): {}\n  sandbox portal:           {}\n  sandbox admin page:       {}\n",
            self.server.public_url,
            self.sandbox.base_url(),
            self.sandbox.admin_url()
        ));
        if !self.server.services.widget.is_built() {
            out.push_str(
                "\n  WARNING: the widget is not built; run `trunk build --release` first.\n",
            );
        }
        out.push_str(&format!(
            "\nThe widget on its own (standalone preview of \"{}\"): {}\n",
            self.payments[0].label, self.server.public_url
        ));
        out.push_str("\nStore payment pages (open one in a browser):\n");
        for p in &self.payments {
            out.push_str(&format!("  {:<34} {}\n", p.label, p.pay_url));
        }
        use b24pay_protocol::test_cards::{APPROVED, CHALLENGE, CHALLENGE_CODE, DECLINED};
        let second = self.platform.portal(1);
        out.push_str(&format!(
            "\nThe second sandbox portal, {:?}, has b24pay installed as a Market application\n(its ONAPPINSTALL, tokens checked with the sandbox's OAuth server):\n  sandbox portal:           {}\n  sandbox admin page:       {}\n  its widget URL:           {}\nIts store payment pages:\n",
            app_portal::STORE_NAME,
            second.base_url(),
            second.admin_url(),
            self.app_portal.widget_url
        ));
        for p in &self.app_portal.payments {
            out.push_str(&format!("  {:<34} {}\n", p.label, p.pay_url));
        }
        out.push_str("\nTest cards (any future expiry, any CVC):\n");
        for (number, what) in [
            (APPROVED, "approved".to_string()),
            (DECLINED, "declined".to_string()),
            (CHALLENGE, format!("challenge, code {CHALLENGE_CODE}")),
        ] {
            out.push_str(&format!("  {}  {what}\n", grouped(number)));
        }
        out.push_str("\nCtrl-C stops everything.\n");
        if self.payments.iter().any(|p| p.label.starts_with("Stripe")) {
            use b24pay_protocol::test_cards::stripe::DECLINED_ON_CHARGE;
            out.push_str(&format!(
                "\nThe Stripe pay system charges through [acquirer.stripe] (B24PAY_STRIPE_*): with\nlocalstripe, {} approved, {} declined; 3-D Secure cards\nneed the widget's Stripe.js step (see README: Stripe).\n",
                grouped(APPROVED),
                grouped(DECLINED_ON_CHARGE),
            ));
        }
        out
    }

    pub async fn stop(self) {
        self.server.stop().await;
        drop(self.sandbox);
        self.platform.shutdown().await;
    }
}

/// The preview's companion: the sandbox's webhook, TEST mode allowed, a throwaway store.
fn preview_config(
    options: &PreviewOptions,
    webhook: &str,
    portal_origin: &str,
    data: &std::path::Path,
) -> FileConfig {
    FileConfig {
        listen: Some(options.listen.clone()),
        public_url: Some(public_url(options)),
        allowed_origins: Some(vec![portal_origin.to_string()]),
        data_dir: Some(data.to_path_buf()),
        dist_dir: options.dist_dir.clone(),
        portal: FilePortal {
            webhook_url: Some(Secret::new(webhook)),
            // The sandbox has no rate limit in the preview; neither has its client.
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

/// The handler and the TEST pay systems (ORDER, then CRM_INVOICE), and a LIVE one when Stripe is
/// configured, registered through the real `register` path.
async fn register_demo(
    client: &Client,
    widget_url: &url::Url,
    stripe: bool,
) -> anyhow::Result<Vec<RegisterReport>> {
    let mut registrations = Vec::new();
    for (registry, person_type) in [(Registry::Order, 1), (Registry::CrmInvoice, 3)] {
        let mut o = RegisterOptions::new(widget_url.clone(), Mode::Test);
        o.registry = registry;
        o.person_type = Some(person_type);
        o.shop_id = Some("demo-shop".into());
        o.secret_key = Some(format!("preview-{:016x}", rand::random::<u64>()));
        let report = register(client, &o).await?;
        registrations.push(report);
    }
    if stripe {
        let mut o = RegisterOptions::new(widget_url.clone(), Mode::Live);
        o.person_type = Some(2);
        let report = register(client, &o).await?;
        registrations.push(report);
    }
    Ok(registrations)
}

/// `4242 4242 4242 4242`, as printed on a card.
fn grouped(number: &str) -> String {
    let digits: Vec<&str> = (0..number.len())
        .step_by(4)
        .map(|i| &number[i..(i + 4).min(number.len())])
        .collect();
    digits.join(" ")
}

/// The demo payments, created in the sandbox for the registered pay systems (ORDER, then
/// CRM_INVOICE).
fn demo_payments(sandbox: &SandboxHandle, pay_systems: &[u64]) -> anyhow::Result<Vec<DemoPayment>> {
    let demos = [
        (
            "Coffee beans, 1 kg",
            NewPayment::order("3000", "RUB"),
            pay_systems[0],
        ),
        (
            "Wool scarf",
            NewPayment::order("1250.50", "EUR"),
            pay_systems[0],
        ),
        (
            "Notebook set",
            NewPayment::order("49.99", "USD"),
            pay_systems[0],
        ),
        (
            "Tea ceremony kit",
            NewPayment::order("4500", "JPY"),
            pay_systems[0],
        ),
        (
            "Consulting (legacy CRM invoice)",
            NewPayment::invoice("12500", "RUB"),
            pay_systems[1],
        ),
    ];
    let stripe = pay_systems.get(2).map(|ps| {
        let new = NewPayment::order("19.90", "EUR");
        ("Stripe: LIVE pay system", new, *ps)
    });
    let mut payments = Vec::new();
    for (label, new, ps) in demos.into_iter().chain(stripe) {
        let created = sandbox
            .create_payment(new.with_pay_system(ps).with_topic(label))
            .map_err(|e| anyhow::anyhow!("creating a demo payment: {e}"))?;
        payments.push(DemoPayment {
            label: label.to_string(),
            payment_id: created.payment_id,
            pay_url: created.pay_url,
        });
    }
    Ok(payments)
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

/// Runs the preview until Ctrl-C.
pub async fn run(options: PreviewOptions) -> anyhow::Result<()> {
    let preview = Preview::start(options).await?;
    println!("{}", preview.banner());
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    preview.stop().await;
    Ok(())
}
