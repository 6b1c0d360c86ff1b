//! `b24pay-sandbox`: run the sandbox portal on its own.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use b24pay_sandbox::{
    App, NewPayment, Platform, RateLimit, Registry, Sandbox, SandboxBuilder, SandboxHandle,
    DEFAULT_OAUTH_CLIENT_ID, DEFAULT_OAUTH_CLIENT_SECRET, DEFAULT_WEBHOOK_CODE,
};
use clap::{Parser, ValueEnum};

/// A local stand-in for a Bitrix24 portal: pay-system REST methods, OAuth token endpoint,
/// and the seller's payment page.
#[derive(Debug, Parser)]
#[command(name = "b24pay-sandbox", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "SANDBOX_LISTEN", default_value = "127.0.0.1:8081")]
    listen: String,
    /// The secret part of the webhook URL `/rest/1/<code>/`.
    #[arg(long, env = "SANDBOX_WEBHOOK_CODE", default_value = DEFAULT_WEBHOOK_CODE)]
    webhook_code: String,
    /// Keep the state in this JSON file (created if missing); in memory otherwise.
    #[arg(long, env = "SANDBOX_DATA_FILE")]
    data_file: Option<PathBuf>,
    /// The portal's leaky bucket (2 calls/s, burst 50).
    #[arg(long, value_enum, env = "SANDBOX_RATE_LIMIT", default_value = "off")]
    rate_limit: OnOff,
    /// The URL the sandbox is reached at, for links and RETURN_URL (default: http://<listen>).
    #[arg(long, env = "SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
    /// Serve HTTPS (plain HTTP otherwise), with a certificate signed by a local CA made on
    /// first start and kept in `--tls-dir`.
    #[arg(long, env = "SANDBOX_HTTPS")]
    https: bool,
    /// Where the local CA and the server certificate are kept (with `--https`).
    #[arg(long, env = "SANDBOX_TLS_DIR", default_value = "sandbox-tls")]
    tls_dir: PathBuf,
    /// Run this many portals, on consecutive ports from `--listen`'s, with the OAuth server
    /// they share (the stand-in for oauth.bitrix.info) on the next port.
    #[arg(long, env = "SANDBOX_PORTALS", default_value_t = 1)]
    portals: usize,
    /// Where the shared OAuth server listens (with `--portals` above 1).
    #[arg(long, env = "SANDBOX_OAUTH_LISTEN")]
    oauth_listen: Option<String>,
    /// A Market application the portals can install: where they POST its events
    /// (ONAPPINSTALL, ONAPPUNINSTALL).
    #[arg(long, env = "SANDBOX_APP_HANDLER")]
    app_handler: Option<String>,
    /// The application's install page (default: the handler URL).
    #[arg(long, env = "SANDBOX_APP_INSTALL_URL")]
    app_install_url: Option<String>,
    /// The application's OAuth client id (with `--app-handler`).
    #[arg(long, env = "SANDBOX_APP_CLIENT_ID", default_value = DEFAULT_OAUTH_CLIENT_ID)]
    app_client_id: String,
    /// The application's OAuth client secret (with `--app-handler`).
    #[arg(long, env = "SANDBOX_APP_CLIENT_SECRET", default_value = DEFAULT_OAUTH_CLIENT_SECRET)]
    app_client_secret: String,
    /// The scopes the portals grant the application (`auth[scope]`), comma-separated; its
    /// tokens may call only these scopes' methods (`insufficient_scope` otherwise).
    #[arg(long, env = "SANDBOX_APP_SCOPE", default_value = "pay_system")]
    app_scope: String,
    /// Create a payment at start (in every portal): `SUM:CURRENCY`, optionally `:invoice` and/or `:ps=ID`
    /// (e.g. `1250.50:EUR` or `990:USD:invoice`). Repeatable.
    #[arg(long = "create-payment", value_name = "SUM:CURRENCY[:invoice][:ps=ID]")]
    create_payment: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OnOff {
    On,
    Off,
}

fn parse_new_payment(spec: &str) -> Result<NewPayment, String> {
    let mut parts = spec.split(':');
    let (Some(sum), Some(currency)) = (parts.next(), parts.next()) else {
        return Err(format!("--create-payment {spec:?}: expected SUM:CURRENCY"));
    };
    let mut new = NewPayment::order(sum, currency);
    for part in parts {
        if part.eq_ignore_ascii_case("invoice") {
            new.registry = Registry::CrmInvoice;
        } else if let Some(id) = part.strip_prefix("ps=") {
            let id = id
                .parse()
                .map_err(|_| format!("--create-payment {spec:?}: bad pay system id"))?;
            new.pay_system_id = Some(id);
        } else {
            return Err(format!("--create-payment {spec:?}: unknown part {part:?}"));
        }
    }
    Ok(new)
}

/// Store names for the portals after the first.
const STORES: &[&str] = &[
    "Linden Street Goods",
    "Harbor Lane Books",
    "Maple Court Crafts",
    "Birch Hill Coffee",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "b24pay_sandbox=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let new_payments = cli
        .create_payment
        .iter()
        .map(|spec| parse_new_payment(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let builders = (0..cli.portals.max(1))
        .map(|index| portal_builder(&cli, index))
        .collect::<Result<Vec<_>, _>>()?;
    let (portals, platform) = if builders.len() == 1 {
        let portal = builders.into_iter().next().expect("one").start().await?;
        (vec![portal], None)
    } else {
        let mut platform = Platform::builder().oauth_bind(oauth_bind(&cli)?);
        for builder in builders {
            platform = platform.portal(builder);
        }
        let platform = platform.start().await?;
        (platform.portals().to_vec(), Some(platform))
    };
    for portal in &portals {
        for new in &new_payments {
            let created = portal.create_payment(new.clone())?;
            println!(
                "created payment {} ({} #{}): {}",
                created.payment_id, created.registry, created.order_id, created.pay_url
            );
        }
    }
    for portal in &portals {
        print_portal(portal);
    }
    if let Some(platform) = &platform {
        println!(
            "Shared OAuth server (oauth.bitrix.info) on {}",
            platform.oauth_url()
        );
        println!("  token endpoint: {}", platform.oauth_token_endpoint());
    }
    tokio::signal::ctrl_c().await?;
    match platform {
        Some(platform) => platform.shutdown().await,
        None => {
            for portal in portals {
                portal.shutdown().await;
            }
        }
    }
    Ok(())
}

/// The `index`-th portal: the next port, its own store name and data file.
fn portal_builder(cli: &Cli, index: usize) -> Result<SandboxBuilder, String> {
    let mut builder = Sandbox::builder()
        .bind(nth_listen(cli, index)?)
        .webhook_code(cli.webhook_code.clone())
        .rate_limit(match cli.rate_limit {
            OnOff::On => Some(RateLimit::PORTAL),
            OnOff::Off => None,
        });
    if index > 0 {
        builder = builder.store_name(STORES[index % STORES.len()]);
    }
    if let Some(path) = &cli.data_file {
        builder = builder.data_file(numbered(path, index));
    }
    if let (Some(url), 0) = (&cli.public_url, index) {
        builder = builder.public_url(url.clone());
    }
    if cli.https {
        builder = builder.https(cli.tls_dir.clone());
    }
    if let Some(handler) = &cli.app_handler {
        let mut app = App::new(&cli.app_client_id, &cli.app_client_secret, handler)
            .with_scope(cli.app_scope.clone());
        if let Some(url) = &cli.app_install_url {
            app = app.with_install_url(url);
        }
        builder = builder.app(app);
    }
    Ok(builder)
}

/// `data.json` for the first portal, `data-2.json`, `data-3.json`, … for the others.
fn numbered(path: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    path.with_file_name(name)
}

/// The shared OAuth server: `--oauth-listen`, else the port after the last portal's.
fn oauth_bind(cli: &Cli) -> Result<String, String> {
    if let Some(addr) = &cli.oauth_listen {
        return Ok(addr.clone());
    }
    nth_listen(cli, cli.portals)
}

/// `--listen`'s port plus `n` (or any free port when `--listen` says port 0).
fn nth_listen(cli: &Cli, n: usize) -> Result<String, String> {
    let listen: SocketAddr = cli
        .listen
        .parse()
        .map_err(|_| format!("--listen {:?}: expected HOST:PORT", cli.listen))?;
    let port = if listen.port() == 0 {
        0
    } else {
        listen.port() + n as u16
    };
    Ok(SocketAddr::new(listen.ip(), port).to_string())
}

fn print_portal(sandbox: &SandboxHandle) {
    let tokens = sandbox.issue_oauth_tokens();
    println!("Sandbox portal on {}", sandbox.base_url());
    println!("  member_id:      {}", sandbox.member_id());
    println!("  webhook:        {}", sandbox.webhook_url());
    println!(
        "  OAuth REST:     {}  (auth={})",
        sandbox.rest_url(),
        tokens.access_token
    );
    println!(
        "  token endpoint: {}?grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        sandbox.oauth_token_endpoint(),
        sandbox.oauth_client_id(),
        sandbox.oauth_client_secret(),
        tokens.refresh_token
    );
    println!("  admin:          {}", sandbox.admin_url());
    println!("  payment page:   {}", sandbox.pay_page_url(1));
    println!("  control API:    {}/sandbox/api", sandbox.base_url());
    if let Ok(app) = sandbox.app_status() {
        println!(
            "  application:    {} (events to {}; install page {})",
            app.client_id,
            app.handler_url,
            sandbox.app_install_page_url()
        );
    }
    if let Some(path) = sandbox.data_file() {
        println!("  data file:      {}", path.display());
    }
    if let Some(ca) = sandbox.ca_certificate() {
        let ca = std::fs::canonicalize(&ca).unwrap_or(ca);
        println!("  CA certificate: {}", ca.display());
        println!(
            "                  trust it: curl --cacert FILE, SSL_CERT_FILE=FILE (Python), NODE_EXTRA_CA_CERTS=FILE (Node)"
        );
    }
}
