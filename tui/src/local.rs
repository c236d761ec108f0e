//! Local mode: with no server configured, `council` runs one in-process on
//! loopback, its SQLite database and secrets in the user's data directory.

use std::path::PathBuf;

use clap::Parser;
use council_server::Server;
use council_server::config::Cli;

/// The in-process server.
#[derive(Debug)]
pub struct LocalServer {
    server: Server,
    pub url: String,
    pub data_dir: PathBuf,
}

/// Why the local server could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("local server: {0}")]
    Config(#[from] council_server::config::ConfigError),
    #[error("local server: {0}")]
    Start(#[from] council_server::StartError),
    #[error("local server: {0}")]
    Args(String),
}

impl LocalServer {
    /// Starts the server with its usual configuration (environment
    /// variables such as `OPENROUTER_BASE_URL` or `COUNCIL_MODELS` apply),
    /// on a free loopback port.
    pub async fn start() -> Result<Self, LocalError> {
        let cli =
            Cli::try_parse_from(["council-server"]).map_err(|e| LocalError::Args(e.to_string()))?;
        let mut config = cli.args.resolve()?;
        config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        // One user at a time: a short grace is enough at exit.
        config.shutdown_grace = std::time::Duration::from_secs(2);
        let server = Server::start(&config).await?;
        let url = format!("http://{}", server.addr());
        Ok(Self {
            server,
            url,
            data_dir: config.data_dir,
        })
    }

    /// The data directory's log file for the in-process server (the
    /// terminal belongs to the UI).
    pub fn log_path(data_dir: &std::path::Path) -> PathBuf {
        data_dir.join("council.log")
    }

    pub async fn stop(self) {
        if let Err(e) = self.server.shutdown().await {
            tracing::warn!(error = %e, "local server did not stop cleanly");
        }
    }
}
