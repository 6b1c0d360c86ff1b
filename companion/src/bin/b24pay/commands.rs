//! The operator's subcommands: each opens what it needs from the configuration and prints
//! its report.

use crate::cli::{
    AttemptsCommand, ModeArg, OutboxCommand, PortalsCommand, RefundArgs, RegisterArgs, RegistryArg,
};
use b24pay_companion::config::FileConfig;
use b24pay_companion::portal::Mode;
use b24pay_companion::register::{register, RegisterOptions};
use b24pay_companion::store::{AttemptFilter, Registry};

pub(crate) async fn run_register(file: FileConfig, args: RegisterArgs) -> anyhow::Result<()> {
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

pub(crate) async fn attempts_command(file: FileConfig, c: AttemptsCommand) -> anyhow::Result<()> {
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

pub(crate) async fn outbox_command(file: FileConfig, c: OutboxCommand) -> anyhow::Result<()> {
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

pub(crate) async fn portals_command(file: FileConfig, c: PortalsCommand) -> anyhow::Result<()> {
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

pub(crate) async fn refund_command(file: FileConfig, args: RefundArgs) -> anyhow::Result<()> {
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
