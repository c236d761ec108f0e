//! `council-server [serve|migrate|gen-key]`.

use std::process::ExitCode;

use clap::Parser;
use council_server::config::{Cli, Command};
use council_server::{Server, crypto::KeySealer, db::Db};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("council-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("council-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::GenKey => {
            let key = KeySealer::generate_master_key().map_err(|e| e.to_string())?;
            println!("{key}");
            Ok(())
        }
        Command::Migrate => {
            let data_dir = cli.args.data_dir().map_err(|e| e.to_string())?;
            let url = cli.args.database(&data_dir).map_err(|e| e.to_string())?;
            let db = Db::connect(&url, 1).map_err(|e| e.to_string())?;
            let applied = db.migrate().await.map_err(|e| e.to_string())?;
            if applied.is_empty() {
                println!("{url}: up to date");
            } else {
                for version in applied {
                    println!("{url}: applied {version}");
                }
            }
            Ok(())
        }
        Command::Serve => {
            let config = cli.args.resolve().map_err(|e| e.to_string())?;
            let server = Server::start(&config).await.map_err(|e| e.to_string())?;
            server
                .run_until(shutdown_signal())
                .await
                .map_err(|e| format!("server failed: {e}"))?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down");
}
