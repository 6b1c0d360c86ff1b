//! `b24pay-sandbox`: run the sandbox portal on its own.

use std::path::PathBuf;

use b24pay_sandbox::{NewPayment, RateLimit, Registry, Sandbox, DEFAULT_WEBHOOK_CODE};
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
    /// Create a payment at start: `SUM:CURRENCY`, optionally `:invoice` and/or `:ps=ID`
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

    let mut builder = Sandbox::builder()
        .bind(cli.listen.clone())
        .webhook_code(cli.webhook_code)
        .rate_limit(match cli.rate_limit {
            OnOff::On => Some(RateLimit::PORTAL),
            OnOff::Off => None,
        });
    if let Some(path) = cli.data_file {
        builder = builder.data_file(path);
    }
    if let Some(url) = cli.public_url {
        builder = builder.public_url(url);
    }
    if cli.https {
        builder = builder.https(cli.tls_dir);
    }
    let sandbox = builder.start().await?;
    for new in new_payments {
        let created = sandbox.create_payment(new)?;
        println!(
            "created payment {} ({} #{}): {}",
            created.payment_id, created.registry, created.order_id, created.pay_url
        );
    }
    let tokens = sandbox.issue_oauth_tokens();
    println!("Sandbox portal on {}", sandbox.base_url());
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

    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
