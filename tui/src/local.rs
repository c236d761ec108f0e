//! Local mode: with no server configured, `council` runs one in-process on
//! loopback, its SQLite database and secrets in the user's data directory,
//! and signs in with an account of its own (see [`account`]), so a person
//! alone on their machine never sees a login form.

pub mod account;

use std::path::PathBuf;

use clap::Parser;
use council_server::Server;
use council_server::config::Cli;

use account::{AccountError, LocalAccount};
use council_client::{Client, ClientError};

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

/// How local mode signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSignIn {
    /// With the local account (made just now on a first start). With a
    /// `warning`, through the session saved earlier: the account file is
    /// damaged, and the warning says so.
    Account {
        email: String,
        created: bool,
        warning: Option<String>,
    },
    /// The database has accounts from before local accounts existed: the
    /// person signs in as they always did (a saved session still works).
    Existing,
    /// The local account cannot be used; the sign-in forms are the way on,
    /// and the message says why and what else to do.
    Forms { problem: String },
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

    /// Signs `client` in with the local account, making it on a first
    /// start. Never deletes anything: a damaged account file is left for
    /// the person to look at, and the forms take over.
    pub async fn sign_in(&self, client: &Client) -> LocalSignIn {
        match LocalAccount::load(&self.data_dir) {
            Err(e) => {
                // The session saved before the damage still opens the
                // account; the file is only needed when it ends.
                if client.session().is_some()
                    && let Ok(me) = client.me().await
                {
                    return LocalSignIn::Account {
                        email: me.email,
                        created: false,
                        warning: Some(damaged(&e)),
                    };
                }
                LocalSignIn::Forms {
                    problem: damaged(&e),
                }
            }
            Ok(Some(account)) => self.sign_in_with(client, &account).await,
            Ok(None) => match self.has_accounts().await {
                Ok(true) => LocalSignIn::Existing,
                Ok(false) => self.first_start(client).await,
                Err(e) => LocalSignIn::Forms {
                    problem: format!("Cannot read the local database: {e}"),
                },
            },
        }
    }

    async fn sign_in_with(&self, client: &Client, account: &LocalAccount) -> LocalSignIn {
        let signed_in = LocalSignIn::Account {
            email: account.email.clone(),
            created: false,
            warning: None,
        };
        // A saved session of the same account spares a password check.
        if client.session().is_some() && client.me().await.is_ok_and(|me| me.email == account.email)
        {
            return signed_in;
        }
        match client.login(&account.email, account.password()).await {
            Ok(_) => signed_in,
            // The database was replaced (or emptied): the account is made
            // again in it, under the same name.
            Err(ClientError::Api { status: 401, .. })
                if !self.has_accounts().await.unwrap_or(true) =>
            {
                match client.register(&account.email, account.password()).await {
                    Ok(_) => signed_in,
                    Err(e) => refused(account, &e),
                }
            }
            Err(e) => refused(account, &e),
        }
    }

    async fn first_start(&self, client: &Client) -> LocalSignIn {
        let account = LocalAccount::generate();
        // The file first: an account whose password was never written
        // down could not be used again.
        if let Err(e) = account.create(&self.data_dir) {
            return LocalSignIn::Forms {
                problem: damaged(&e),
            };
        }
        match client.register(&account.email, account.password()).await {
            Ok(_) => LocalSignIn::Account {
                email: account.email,
                created: true,
                warning: None,
            },
            Err(e) => refused(&account, &e),
        }
    }

    /// Whether the database holds any account.
    async fn has_accounts(&self) -> Result<bool, council_server::db::DbError> {
        self.server
            .state()
            .db
            .read(council_server::db::users::any)
            .await
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

fn damaged(e: &AccountError) -> String {
    format!(
        "{e}. Nothing was deleted. Sign in with an account of this database, or move \
         the file away and start council again to make a new local account."
    )
}

fn refused(account: &LocalAccount, e: &ClientError) -> LocalSignIn {
    LocalSignIn::Forms {
        problem: format!(
            "The local account {} could not sign in: {e}. Sign in or create an account here.",
            account.email
        ),
    }
}
