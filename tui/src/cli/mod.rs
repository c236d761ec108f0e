//! `council <command>`: the client for scripts and shells. Each command runs
//! once against the same server the terminal UI would use (`--server`, else
//! the local in-process one) with the same config file, so a session made
//! here is the UI's session and the other way round.
//!
//! Data (answers, lists, exports) goes to stdout; progress, confirmations and
//! errors go to stderr. Exit codes: 0 done, 1 failed or refused (the reason
//! on stderr), 2 only from `ask`, for a partial council; 130 interrupted.

mod account;
mod ask;
mod conversations;
mod secret;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::runtime::{self, Connection, Options};
use council_client::state::{ConfigError, ConfigFile};
use council_client::{Client, ClientError};

pub use account::{CredentialsArgs, KeySetArgs};
pub use ask::AskArgs;
pub use conversations::{ExportArgs, ExportFormat, ListArgs};

/// Exit status: the command did its work (`ask`: the council is complete).
pub const EXIT_OK: u8 = 0;
/// Exit status: the command failed or was refused; the reason is on stderr.
pub const EXIT_FAILED: u8 = 1;
/// Exit status of `ask` when the council answered but some model failed.
pub const EXIT_PARTIAL: u8 = 2;
/// Exit status after Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The subcommands; without one `council` starts the terminal UI.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an account and sign in with it (the tokens are saved).
    Register(CredentialsArgs),
    /// Sign in (the tokens are saved in the config file).
    Login(CredentialsArgs),
    /// Sign out: revoke the refresh token on the server, forget the tokens.
    Logout,
    /// Provider keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Run a council: progress on stderr, the final answer (Markdown) on stdout.
    Ask(AskArgs),
    /// List conversations, newest activity first.
    Conversations(ListArgs),
    /// Write a conversation as Markdown or JSON.
    Export(ExportArgs),
}

/// `council key …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Save (or replace) a provider key; prompted without echo unless
    /// `--key-stdin` is given.
    Set(KeySetArgs),
}

/// Why a command failed: the message for stderr (exit 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl CliError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        Self(e.to_string())
    }
}

/// Runs one command; returns the process's exit status. Ctrl-C ends any
/// command with 130. A council keeps running on a remote server; in local
/// mode it ends with the process and is stored `failed` at the next start.
pub async fn run(command: Command, options: Options) -> u8 {
    // Listening for SIGINT replaces its default action (ending the process
    // at once). That matters for the password prompt: its terminal, echo
    // off, is restored before the process ends.
    #[cfg(unix)]
    let mut interrupt =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                None
            }
        };
    let work = dispatch(command, &options);
    #[cfg(unix)]
    let interrupted = async {
        match &mut interrupt {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let interrupted = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = tokio::select! {
        result = work => result,
        () = interrupted => {
            eprintln!();
            eprintln!("council: interrupted");
            return EXIT_INTERRUPTED;
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("council: {e}");
            EXIT_FAILED
        }
    }
}

async fn dispatch(command: Command, options: &Options) -> Result<u8, CliError> {
    match command {
        Command::Register(args) => account::register(options, args).await,
        Command::Login(args) => account::login(options, args).await,
        Command::Logout => account::logout(options).await,
        Command::Key(KeyCommand::Set(args)) => account::key_set(options, args).await,
        Command::Ask(args) => ask::run(options, args).await,
        Command::Conversations(args) => conversations::list(options, args).await,
        Command::Export(args) => conversations::export(options, args).await,
    }
}

/// The config file, shared with the client's session callback, which saves
/// every new pair of tokens at once (a refresh rotates the refresh token:
/// losing the new one would sign the user out).
pub(crate) struct Store {
    path: PathBuf,
    config: Mutex<ConfigFile>,
    /// The first failure to save from the callback, reported at the end.
    save_error: Mutex<Option<String>>,
}

impl Store {
    /// Reads the config file; its warnings go to stderr.
    pub(crate) fn load(path: PathBuf) -> Result<Arc<Store>, CliError> {
        let (config, warnings) = ConfigFile::load(&path)?;
        for w in warnings {
            eprintln!("council: warning: {w}");
        }
        Ok(Arc::new(Store {
            path,
            config: Mutex::new(config),
            save_error: Mutex::new(None),
        }))
    }

    /// A copy of the configuration as it is now.
    pub(crate) fn get(&self) -> ConfigFile {
        self.config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the configuration and saves it.
    pub(crate) fn update(&self, change: impl FnOnce(&mut ConfigFile)) -> Result<(), ConfigError> {
        let mut config = self.config.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut config);
        config.save(&self.path)
    }

    /// Saves the client's sessions as they change.
    fn watch(self: &Arc<Self>, client: &Client, server: Option<String>) {
        let store = Arc::clone(self);
        client.on_session_change(Arc::new(move |session| {
            let saved = store.update(|c| match session {
                Some(s) => c.remember_session(s.access_token, s.refresh_token, server.as_deref()),
                None => c.clear_session(),
            });
            if let Err(e) = saved {
                tracing::warn!(error = %e, "could not save the session");
                store
                    .save_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert_with(|| e.to_string());
            }
        }));
    }

    fn take_save_error(&self) -> Option<String> {
        self.save_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// A command's connection: the client (its session from the config file,
/// saved back as it changes) and, in local mode, the server run here.
pub(crate) struct Context {
    pub(crate) client: Client,
    pub(crate) store: Arc<Store>,
    connection: Connection,
}

impl Context {
    /// Connects exactly as the terminal UI does. With `signed_in`, refuses
    /// first (before starting a local server) when there is no session.
    async fn connect(options: &Options, signed_in: bool) -> Result<Context, CliError> {
        let store = Store::load(options.config_path.clone())?;
        let config = store.get();
        let server = runtime::chosen_server(options.server.clone(), &config);
        let local = server.is_none() && cfg!(feature = "local");
        // Local mode signs in by itself, once its server runs.
        if signed_in && !local && !(config.signed_in() && config.session_is_for(server.as_deref()))
        {
            return Err(not_signed_in(&config));
        }
        let connection = runtime::connect(options.server.clone(), &config)
            .await
            .map_err(|e| CliError::new(format!("{e:#}")))?;
        store.watch(&connection.client, connection.server.clone());
        if let Some(warning) = connection.local_warning() {
            eprintln!("council: warning: {warning}");
        }
        if let Some(session) = connection.client.session()
            && connection.local_account().is_some()
        {
            // Signed in before the watch began: saved here.
            store
                .update(|c| c.remember_session(session.access_token, session.refresh_token, None))
                .map_err(CliError::from)?;
        }
        let context = Context {
            client: connection.client.clone(),
            store,
            connection,
        };
        if signed_in && context.client.session().is_none() {
            let problem = context.connection.local_problem().map(str::to_owned);
            let config = context.store.get();
            context.finish().await?;
            return Err(match problem {
                Some(p) => CliError::new(p),
                None => not_signed_in(&config),
            });
        }
        Ok(context)
    }

    /// A client error as the user should read it here.
    pub(crate) fn error(&self, e: ClientError) -> CliError {
        match e {
            ClientError::SessionExpired => CliError::new(format!(
                "your session has expired: {}",
                login_hint(&self.store.get())
            )),
            other => CliError::new(other.to_string()),
        }
    }

    /// Stops the local server, if any, and reports a session that could not
    /// be saved.
    async fn finish(self) -> Result<(), CliError> {
        self.connection.close().await;
        match self.store.take_save_error() {
            Some(e) => Err(CliError::new(format!(
                "the session could not be saved: {e}"
            ))),
            None => Ok(()),
        }
    }
}

/// Runs `work` with a connection, then closes it (also after a failure).
/// `signed_in`: the command needs a session.
pub(crate) async fn with_context<T>(
    options: &Options,
    signed_in: bool,
    work: impl AsyncFnOnce(&Context) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let context = Context::connect(options, signed_in).await?;
    let result = work(&context).await;
    let finished = context.finish().await;
    let value = result?;
    finished?;
    Ok(value)
}

/// Refuses early, before a prompt or reading stdin, when there is no
/// session to use.
pub(crate) fn ensure_signed_in(options: &Options) -> Result<(), CliError> {
    let config = Store::load(options.config_path.clone())?.get();
    let local = runtime::chosen_server(options.server.clone(), &config).is_none();
    // Local mode signs in with its own account once its server runs.
    if config.signed_in() || local && cfg!(feature = "local") {
        Ok(())
    } else {
        Err(not_signed_in(&config))
    }
}

fn not_signed_in(config: &ConfigFile) -> CliError {
    CliError::new(format!("not signed in: {}", login_hint(config)))
}

/// "run `council login --email a@x.io`", with the last email if known.
fn login_hint(config: &ConfigFile) -> String {
    match &config.email {
        Some(email) => format!("run `council login --email {email}`"),
        None => "run `council login --email EMAIL` (or `council register`)".to_owned(),
    }
}

/// Writes `text` to stdout. A closed pipe (`council … | head`) is not an
/// error: the reader has what it wanted.
pub(crate) fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::new(format!("cannot write to stdout: {e}"))),
    }
}
