//! `b24pay`: the companion server's command line.

use b24pay_companion::config::{process_env, FileConfig};
use b24pay_companion::portal::Mode;
use b24pay_companion::register::{register, RegisterOptions};
use b24pay_companion::store::{AttemptFilter, Registry};
use b24pay_companion::Server;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Bitrix24 IFRAME pay-system companion: serves the payment widget, verifies and charges
/// payments, and marks them paid in Bitrix24 exactly once.
///
/// With no configuration at all (no --config, no B24PAY_WEBHOOK_URL / B24PAY_OAUTH_*), runs
/// the preview: an embedded sandbox portal with demo payments.
#[derive(Parser, Debug)]
#[command(name = "b24pay", version, about, long_about)]
struct Cli {
    /// TOML configuration file; B24PAY_* environment variables override its values.
    #[arg(long, global = true, env = "B24PAY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (needs a configured portal).
    Serve,
    /// Run against an embedded sandbox portal (127.0.0.1:8081) with demo payments.
    Preview {
        /// Companion address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Sandbox portal address.
        #[arg(long, default_value = "127.0.0.1:8081")]
        sandbox_listen: String,
        /// The second sandbox portal, where b24pay is installed as a Market application
        /// (default: the port after --sandbox-listen's; port 0: the OS chooses).
        #[arg(long)]
        app_sandbox_listen: Option<String>,
        /// The widget's build (trunk's dist/).
        #[arg(long, env = "B24PAY_DIST_DIR")]
        dist_dir: Option<PathBuf>,
    },
    /// Set up (or update) the IFRAME handler, the pay system and its settings on a portal.
    /// Idempotent: a second run changes nothing.
    Register(RegisterArgs),
    /// Check the configuration and print it (secrets hidden).
    CheckConfig,
    /// Payment attempts in the store: what is unsettled, what needs a person, one's history.
    #[command(subcommand)]
    Attempts(AttemptsCommand),
    /// The outbox of portal calls: list them, re-queue one that was given up.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Refund (part of) a charged payment through the acquirer that charged it, record it, and
    /// queue the portal's status update. Idempotent: the same command never refunds twice.
    Refund(RefundArgs),
    /// The portals that installed the app: list them, forget one.
    #[command(subcommand)]
    Portals(PortalsCommand),
}

#[derive(Subcommand, Debug)]
enum PortalsCommand {
    /// Lists every portal that ever installed the app (no secrets).
    List,
    /// Stops serving a portal: drops its tokens, refuses its payments from now on.
    Forget {
        /// Its public id (as in `b24pay portals list`) or its member_id.
        id: String,
    },
}

#[derive(clap::Args, Debug)]
struct RefundArgs {
    /// The portal payment id (as in `b24pay attempts list`).
    #[arg(long)]
    payment: u64,
    /// The pay system, when the payment was charged through several.
    #[arg(long)]
    paysystem: Option<u64>,
    /// The installed portal's public id (`b24pay portals list`), when payments of several
    /// portals carry this id; `configured` for the portal in the configuration.
    #[arg(long)]
    portal: Option<String>,
    /// How much, in the charge's currency (e.g. 10.50). Default: everything not refunded yet.
    #[arg(long)]
    amount: Option<String>,
    /// The refund's idempotency key (8-64 of A-Z a-z 0-9 _ -). Default: derived from the
    /// charge and the amount, so repeating a command never refunds twice; a second refund of
    /// the same amount needs a new key.
    #[arg(long)]
    key: Option<String>,
}

#[derive(Subcommand, Debug)]
enum AttemptsCommand {
    /// Lists attempts (default: the unsettled ones).
    List {
        /// Only attempts listed for manual review (unknown for longer than payments.review_after_ms).
        #[arg(long)]
        review: bool,
        /// The newest attempts, whatever their state.
        #[arg(long, conflicts_with = "review")]
        recent: bool,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One attempt and its history (every state change and portal call).
    Show { id: String },
}

#[derive(Subcommand, Debug)]
enum OutboxCommand {
    /// Lists portal calls (default: pending and dead ones).
    List {
        /// Only the ones given up after permanent refusals.
        #[arg(long)]
        dead: bool,
        /// Every row, delivered ones too.
        #[arg(long, conflicts_with = "dead")]
        all: bool,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Puts a dead (or pending) portal call back in the queue, due now.
    Retry { id: i64 },
}

#[derive(clap::Args, Debug)]
struct RegisterArgs {
    /// Incoming webhook URL (https://PORTAL/rest/USER_ID/CODE/) with scope pay_system.
    /// Default: the configured portal.webhook_url.
    #[arg(long, env = "B24PAY_WEBHOOK_URL", hide_env_values = true)]
    webhook: Option<String>,
    /// The widget's public URL (the handler's ACTION_URI). Default: the configured public_url.
    #[arg(long)]
    widget_url: Option<String>,
    /// Which registry the pay system serves: ORDER (orders, deals, smart invoices) or
    /// CRM_INVOICE (legacy invoices).
    #[arg(long, value_enum, default_value = "ORDER")]
    registry: RegistryArg,
    /// Person type id of that registry (listed when ambiguous).
    #[arg(long)]
    person_type: Option<u64>,
    /// TEST (the built-in test acquirer: no money moves; the companion must allow it with
    /// payments.allow_test_mode) or LIVE (the configured live acquirer). No default.
    #[arg(long, value_enum)]
    mode: ModeArg,
    /// Ask the customer for the name on the card.
    #[arg(long)]
    ask_holder: bool,
    /// Shop id (non-secret; sent to the widget as `shopId`).
    #[arg(long)]
    shop_id: Option<String>,
    /// Secret key (kept in the pay system's settings, never sent to the browser).
    #[arg(long, env = "B24PAY_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Forces the widget's language (e.g. ru, en).
    #[arg(long)]
    language: Option<String>,
    /// Pay system name shown to customers.
    #[arg(long, default_value = "Bank card (b24pay)")]
    name: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
enum RegistryArg {
    Order,
    CrmInvoice,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "UPPER")]
enum ModeArg {
    Test,
    Live,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("B24PAY_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

fn load(cli: &Cli) -> anyhow::Result<FileConfig> {
    Ok(FileConfig::load(cli.config.as_deref(), &process_env())?)
}

async fn serve(file: FileConfig) -> anyhow::Result<()> {
    let config = file.validate()?;
    let server = Server::start(config).await?;
    println!(
        "b24pay listening on {} (widget at {})",
        server.url(),
        server.public_url
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// `b24pay preview`'s addresses (the type exists in builds without the preview too).
#[cfg_attr(not(feature = "preview"), allow(dead_code))]
struct PreviewArgs {
    listen: String,
    sandbox_listen: String,
    app_sandbox_listen: Option<String>,
    dist_dir: Option<PathBuf>,
}

#[cfg(feature = "preview")]
async fn preview(options: PreviewArgs) -> anyhow::Result<()> {
    use b24pay_companion::preview::{Preview, PreviewOptions};
    let preview = Preview::start(PreviewOptions {
        listen: options.listen,
        sandbox_listen: options.sandbox_listen,
        app_sandbox_listen: options.app_sandbox_listen,
        dist_dir: options.dist_dir,
    })
    .await?;
    println!("{}", preview.banner());
    shutdown_signal().await;
    println!("stopping…");
    preview.stop().await;
    Ok(())
}

#[cfg(not(feature = "preview"))]
async fn preview(_: PreviewArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "this build has no preview (a production build; scripts/preview.sh builds one with the \
         `preview` feature): configure a portal and run `b24pay serve`"
    )
}

async fn run_register(file: FileConfig, args: RegisterArgs) -> anyhow::Result<()> {
    let webhook = match args.webhook.or_else(|| {
        file.portal
            .webhook_url
            .as_ref()
            .map(|s| s.expose().to_string())
    }) {
        Some(w) => w,
        None => anyhow::bail!("register needs --webhook (or portal.webhook_url in the config)"),
    };
    let widget_url = match args.widget_url.or(file.public_url.clone()) {
        Some(u) => u,
        None => anyhow::bail!("register needs --widget-url (or public_url in the config)"),
    };
    let widget_url = url::Url::parse(&widget_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| anyhow::anyhow!("--widget-url {widget_url:?} is not an http(s) URL"))?;
    let client = bitrix24_client::Client::new(bitrix24_client::Auth::webhook(&webhook)?)?;
    let options = RegisterOptions {
        widget_url,
        registry: match args.registry {
            RegistryArg::Order => Registry::Order,
            RegistryArg::CrmInvoice => Registry::CrmInvoice,
        },
        person_type: args.person_type,
        mode: match args.mode {
            ModeArg::Test => Mode::Test,
            ModeArg::Live => Mode::Live,
        },
        shop_id: args.shop_id,
        secret_key: args.secret_key,
        language: args.language,
        ask_holder: args.ask_holder,
        name: args.name,
    };
    let report = register(&client, &options).await?;
    println!("{report}");
    Ok(())
}

async fn attempts_command(file: FileConfig, c: AttemptsCommand) -> anyhow::Result<()> {
    use b24pay_companion::operator;
    let store = b24pay_companion::store::open(&file.store_location()?).await?;
    match c {
        AttemptsCommand::List {
            review,
            recent,
            limit,
        } => {
            let filter = match (review, recent) {
                (true, _) => AttemptFilter::Review,
                (_, true) => AttemptFilter::Recent,
                _ => AttemptFilter::Unsettled,
            };
            print!("{}", operator::list_attempts(&store, filter, limit).await?);
        }
        AttemptsCommand::Show { id } => print!("{}", operator::show_attempt(&store, &id).await?),
    }
    Ok(())
}

async fn outbox_command(file: FileConfig, c: OutboxCommand) -> anyhow::Result<()> {
    use b24pay_companion::operator;
    let store = b24pay_companion::store::open(&file.store_location()?).await?;
    match c {
        OutboxCommand::List { dead, all, limit } => {
            let which = match (dead, all) {
                (true, _) => operator::OutboxListing::Dead,
                (_, true) => operator::OutboxListing::All,
                _ => operator::OutboxListing::Owed,
            };
            print!("{}", operator::list_outbox(&store, which, limit).await?);
        }
        OutboxCommand::Retry { id } => println!("{}", operator::requeue(&store, id).await?),
    }
    Ok(())
}

async fn portals_command(file: FileConfig, c: PortalsCommand) -> anyhow::Result<()> {
    use b24pay_companion::operator;
    let store = b24pay_companion::store::open(&file.store_location()?).await?;
    match c {
        PortalsCommand::List => print!("{}", operator::list_portals(&store).await?),
        PortalsCommand::Forget { id } => {
            println!("{}", operator::forget_portal(&store, &id).await?)
        }
    }
    Ok(())
}

async fn refund_command(file: FileConfig, args: RefundArgs) -> anyhow::Result<()> {
    use b24pay_companion::payments::RefundCommand;
    use b24pay_companion::portal::{PortalKey, PublicId};
    use b24pay_protocol::ids::{PaySystemId, PaymentId};
    let store = b24pay_companion::store::open(&file.store_location()?).await?;
    let command = RefundCommand {
        payment_id: PaymentId::from_u64(args.payment)
            .map_err(|_| anyhow::anyhow!("--payment {} is not a payment id", args.payment))?,
        paysystem_id: match args.paysystem {
            Some(p) => Some(
                PaySystemId::from_u64(p)
                    .map_err(|_| anyhow::anyhow!("--paysystem {p} is not a pay system id"))?,
            ),
            None => None,
        },
        portal: match args.portal.as_deref() {
            None => None,
            Some("configured") => Some(PortalKey::configured()),
            Some(p) => Some(PortalKey::installed(&PublicId::parse(p).ok_or_else(
                || anyhow::anyhow!("--portal {p:?} is not a portal's public id"),
            )?)),
        },
        amount: args.amount,
        key: args.key,
    };
    let stripe = file.acquirer.stripe.as_ref();
    b24pay_companion::operator::refund(store, stripe, &command).await
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    // B24PAY_WORKER_THREADS: async worker threads (default: one per core).
    if let Some(n) = std::env::var("B24PAY_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        runtime.worker_threads(n);
    }
    match runtime.build() {
        Ok(rt) => rt.block_on(run(cli)),
        Err(e) => {
            eprintln!("b24pay: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    let result = async {
        let file = load(&cli)?;
        match cli.command {
            Some(Command::Serve) => serve(file).await,
            Some(Command::Preview {
                listen,
                sandbox_listen,
                app_sandbox_listen,
                dist_dir,
            }) => {
                preview(PreviewArgs {
                    listen,
                    sandbox_listen,
                    app_sandbox_listen,
                    dist_dir,
                })
                .await
            }
            Some(Command::Register(args)) => run_register(file, args).await,
            Some(Command::CheckConfig) => {
                let config = file.validate()?;
                println!("{config:#?}");
                println!("{}", b24pay_companion::acquirer::describe_live(&config));
                Ok(())
            }
            Some(Command::Attempts(c)) => attempts_command(file, c).await,
            Some(Command::Outbox(c)) => outbox_command(file, c).await,
            Some(Command::Refund(args)) => refund_command(file, args).await,
            Some(Command::Portals(c)) => portals_command(file, c).await,
            None if cli.config.is_none() && !file.has_portal() => {
                preview(PreviewArgs {
                    listen: "127.0.0.1:8080".into(),
                    sandbox_listen: "127.0.0.1:8081".into(),
                    app_sandbox_listen: None,
                    dist_dir: file.dist_dir.clone(),
                })
                .await
            }
            None => serve(file).await,
        }
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("b24pay: {e:#}");
            ExitCode::FAILURE
        }
    }
}
