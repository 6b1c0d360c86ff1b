//! The command line's arguments, as clap parses them.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Bitrix24 IFRAME pay-system companion: serves the payment widget, verifies and charges
/// payments, and marks them paid in Bitrix24 exactly once.
///
/// With no configuration at all (no --config, no B24PAY_WEBHOOK_URL / B24PAY_OAUTH_*), runs
/// the preview: an embedded sandbox portal with demo payments.
#[derive(Parser, Debug)]
#[command(name = "b24pay", version, about, long_about)]
pub(crate) struct Cli {
    /// TOML configuration file; B24PAY_* environment variables override its values.
    #[arg(long, global = true, env = "B24PAY_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
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
pub(crate) enum PortalsCommand {
    /// Lists every portal that ever installed the app (no secrets).
    List,
    /// Stops serving a portal: drops its tokens, refuses its payments from now on.
    Forget {
        /// Its public id (as in `b24pay portals list`) or its member_id.
        id: String,
    },
}

#[derive(clap::Args, Debug)]
pub(crate) struct RefundArgs {
    /// The portal payment id (as in `b24pay attempts list`).
    #[arg(long)]
    pub(crate) payment: u64,
    /// The pay system, when the payment was charged through several.
    #[arg(long)]
    pub(crate) paysystem: Option<u64>,
    /// The installed portal's public id (`b24pay portals list`), when payments of several
    /// portals carry this id; `configured` for the portal in the configuration.
    #[arg(long)]
    pub(crate) portal: Option<String>,
    /// How much, in the charge's currency (e.g. 10.50). Default: everything not refunded yet.
    #[arg(long)]
    pub(crate) amount: Option<String>,
    /// The refund's idempotency key (8-64 of A-Z a-z 0-9 _ -). Default: derived from the
    /// charge and the amount, so repeating a command never refunds twice; a second refund of
    /// the same amount needs a new key.
    #[arg(long)]
    pub(crate) key: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum AttemptsCommand {
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
pub(crate) enum OutboxCommand {
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
pub(crate) struct RegisterArgs {
    /// Incoming webhook URL (https://PORTAL/rest/USER_ID/CODE/) with scope pay_system.
    /// Default: the configured portal.webhook_url.
    #[arg(long, env = "B24PAY_WEBHOOK_URL", hide_env_values = true)]
    pub(crate) webhook: Option<String>,
    /// The widget's public URL (the handler's ACTION_URI). Default: the configured public_url.
    #[arg(long)]
    pub(crate) widget_url: Option<String>,
    /// Which registry the pay system serves: ORDER (orders, deals, smart invoices) or
    /// CRM_INVOICE (legacy invoices).
    #[arg(long, value_enum, default_value = "ORDER")]
    pub(crate) registry: RegistryArg,
    /// Person type id of that registry (listed when ambiguous).
    #[arg(long)]
    pub(crate) person_type: Option<u64>,
    /// TEST (the built-in test acquirer: no money moves; the companion must allow it with
    /// payments.allow_test_mode) or LIVE (the configured live acquirer). No default.
    #[arg(long, value_enum)]
    pub(crate) mode: ModeArg,
    /// Ask the customer for the name on the card.
    #[arg(long)]
    pub(crate) ask_holder: bool,
    /// Shop id (non-secret; sent to the widget as `shopId`).
    #[arg(long)]
    pub(crate) shop_id: Option<String>,
    /// Secret key (kept in the pay system's settings, never sent to the browser).
    #[arg(long, env = "B24PAY_SECRET_KEY", hide_env_values = true)]
    pub(crate) secret_key: Option<String>,
    /// Forces the widget's language (e.g. ru, en).
    #[arg(long)]
    pub(crate) language: Option<String>,
    /// Pay system name shown to customers.
    #[arg(long, default_value = "Bank card (b24pay)")]
    pub(crate) name: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum RegistryArg {
    Order,
    CrmInvoice,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "UPPER")]
pub(crate) enum ModeArg {
    Test,
    Live,
}
