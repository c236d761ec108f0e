//! `council-server`: accounts, sealed provider keys and conversations over
//! HTTP, on SQLite or PostgreSQL. See `API.md` for the contract.

pub mod auth;
pub mod config;
pub mod convert;
pub mod council;
pub mod crypto;
pub mod db;
pub mod error;
pub mod http;
pub mod routes;
pub mod secrets;
pub mod state;
// Service-manager notifications for `serve` (used by main.rs only).
pub mod systemd;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::Config;
pub use state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Database(#[from] db::DbError),
    #[error("API key encryption: {0}")]
    Crypto(#[from] crypto::CryptoError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Pending connections the listener queues (the kernel caps it at
/// somaxconn); the default of 128 drops connections in a burst.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// A server listening and serving in the background.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    shutdown_grace: std::time::Duration,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Connects to the database, applies migrations, binds `config.bind`
    /// (port 0 picks a free one) and starts serving.
    pub async fn start(config: &Config) -> Result<Self, StartError> {
        let db = db::Db::connect(&config.database, config.db_pool_size)?;
        let applied = db.migrate().await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied database migrations");
        }
        let upstream = council::upstream::UpstreamClient::new(
            &config.openrouter_base_url,
            config.upstream_timeout,
            council::upstream::RetryPolicy::default(),
        )?;
        let council = council::Council::start(
            db.clone(),
            upstream,
            config.models.title_model.clone(),
            config.instance_stale_after,
        )
        .await?;
        let state = AppState::new(config, db, council)?;
        auth::cache::spawn_poller(&state.users, state.db.clone());
        let listener = listen(config.bind).map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = http::layered(routes::router(state.clone()), &config.cors_origins)
            .into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%addr, database = %config.database, "listening");
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            shutdown_grace: config.shutdown_grace,
            task,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state handlers share (for tests and tools that seed data).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves, then stops gracefully.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        tokio::select! {
            result = &mut self.task => return result.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            () = signal => {}
        }
        self.shutdown().await
    }

    /// Stops accepting connections, gives running councils up to the
    /// configured grace to finish (the rest end `failed`, their finished
    /// stages kept), and waits for in-flight requests.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.council.shutdown(self.shutdown_grace).await;
        (&mut self.task)
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}
