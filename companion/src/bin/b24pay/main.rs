//! `b24pay`: the companion server's command line.

use b24pay_companion::config::{process_env, FileConfig};
use b24pay_companion::Server;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;
mod commands;

use cli::{Cli, Command};
use commands::{attempts_command, outbox_command, portals_command, refund_command, run_register};

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
