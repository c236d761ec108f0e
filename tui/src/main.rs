//! `council`: the terminal client of The Council.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use council_client::state::resolve_path;
use council_shared::private_file;
use council_tui::cli::{self, Command};
use council_tui::runtime::{self, Options};

/// Consult a council of LLMs from the terminal. Without a command, the
/// terminal UI starts.
#[derive(Debug, Parser)]
#[command(name = "council", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The server (e.g. https://council.example.com); without one, a
    /// private server runs in-process (local mode).
    #[arg(long, env = "COUNCIL_SERVER", global = true)]
    server: Option<String>,
    /// The state file (default: $XDG_CONFIG_HOME/council/config.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 1, not clap's usual 2: for `ask`, 2 means a
        // partial answer.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let config_path = match resolve_path(cli.config.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("council: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("council: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = Options {
        server: cli.server.filter(|s| !s.trim().is_empty()),
        config_path,
    };
    if let Some(command) = cli.command {
        return ExitCode::from(runtime.block_on(cli::run(command, options)));
    }
    match runtime.block_on(runtime::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("council: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to a file in the data directory (the local server's, or where
/// it would be): the terminal belongs to the UI, and a command's stderr to
/// its progress and errors.
fn init_logging() {
    let Some(dir) = data_dir() else { return };
    // The log may name the server and the user: owner only, like the rest
    // of the data directory.
    if private_file::create_dir(&dir).is_err() {
        return;
    }
    let Ok(file) = private_file::open_append(&dir.join("council.log")) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// The local server's data directory, as it resolves it.
#[cfg(feature = "local")]
fn data_dir() -> Option<PathBuf> {
    use clap::Parser as _;
    let cli = council_server::config::Cli::try_parse_from(["council-server"]).ok()?;
    cli.args.data_dir().ok()
}

/// Without local mode there is no server to ask: `COUNCIL_DATA_DIR`, else
/// the platform's data directory.
#[cfg(not(feature = "local"))]
fn data_dir() -> Option<PathBuf> {
    std::env::var_os("COUNCIL_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("council")))
}
