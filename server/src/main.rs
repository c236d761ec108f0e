//! `council-server [serve|migrate|gen-key]`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use council_server::config::{Cli, Command, LogFormat};
use council_server::systemd::{self, Notifier};
use council_server::{Server, crypto::KeySealer, db::Db};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
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
            let notifier = Notifier::from_env();
            let server = Server::start(&config).await.map_err(|e| e.to_string())?;
            // Migrations have run and the listener is bound: from here on a
            // connection is accepted, which is what units ordered after us
            // wait for. The signal handlers go in first, so that a stop
            // requested as soon as we are ready is a graceful one.
            let signal = shutdown_signal();
            notifier.ready(&format!("listening on {}", server.addr()));
            let watchdog = start_watchdog(&notifier, &server);
            let stopping = notifier.clone();
            let result = server
                .run_until(async move {
                    signal.await;
                    // Before the graceful wait, so systemd (and `systemctl
                    // status`) know the coming minutes are a stop, not a hang.
                    stopping.stopping("stopping: letting running councils finish");
                })
                .await;
            if let Some(watchdog) = watchdog {
                watchdog.abort();
            }
            result.map_err(|e| format!("server failed: {e}"))?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Logs go to stdout (the journal under systemd), filtered by RUST_LOG.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    match format {
        // Colour codes only for a person at a terminal: under systemd
        // stdout is the journal, where they would show as raw escapes.
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Pings systemd's watchdog while the database answers, when the unit has
/// `WatchdogSec=` (and notifications go anywhere at all). A server whose
/// database is gone cannot serve a request, so it lets the watchdog restart
/// it rather than answer 500s indefinitely.
fn start_watchdog(notifier: &Notifier, server: &Server) -> Option<tokio::task::JoinHandle<()>> {
    if !notifier.is_enabled() {
        return None;
    }
    let interval = systemd::watchdog_interval_from_env()?;
    tracing::info!(
        ?interval,
        "systemd watchdog: pinging while the database answers"
    );
    let db = server.state().db.clone();
    Some(systemd::spawn_watchdog(
        notifier.clone(),
        interval,
        move || {
            let db = db.clone();
            async move { db.ping().await }
        },
    ))
}

/// Resolves at the first SIGINT or SIGTERM. The handlers are installed
/// when this is called, not when the future is first polled: until then
/// SIGTERM still has its default action and would end the process on the
/// spot, without the graceful stop (and systemd may send one right after
/// READY=1).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt())
            .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)))
    };
    async move {
        #[cfg(unix)]
        match handlers {
            Ok((mut interrupt, mut term)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
