//! Command line and environment (`API.md`, "Server configuration"), resolved
//! into a [`Config`] the server runs with.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::db::DatabaseUrl;
use crate::secrets::{self, Source};

pub const DEFAULT_MODELS: &str =
    "openai/gpt-5.1,google/gemini-3-pro-preview,anthropic/claude-sonnet-4.5,x-ai/grok-4";
pub const DEFAULT_LEAD_MODEL: &str = "google/gemini-3-pro-preview";
pub const DEFAULT_TITLE_MODEL: &str = "google/gemini-2.5-flash";

/// `council-server [serve|migrate|gen-key]`.
#[derive(Debug, Parser)]
#[command(
    name = "council-server",
    version,
    about = "The Council's multi-user API server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log lines as text or as JSON objects (one per line); logs go to stdout.
    #[arg(long, env = "COUNCIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub args: ServerArgs,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run the API server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a new random API_KEY_ENCRYPTION_KEY.
    GenKey,
}

/// Every setting, as a flag and as an environment variable.
#[derive(Clone, Args)]
pub struct ServerArgs {
    /// Listen address.
    #[arg(
        long,
        env = "COUNCIL_BIND",
        default_value = "127.0.0.1:8001",
        global = true
    )]
    pub bind: SocketAddr,
    /// `sqlite://PATH` or `postgres://...` (default: council.db in the data dir).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Where the SQLite file and generated secrets live
    /// (default: $STATE_DIRECTORY, else the platform data dir).
    #[arg(long, env = "COUNCIL_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// HS256 secret, at least 32 bytes (default: generated into the data dir).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// 32 bytes, base64 (default: generated into the data dir).
    #[arg(
        long,
        env = "API_KEY_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub api_key_encryption_key: Option<String>,
    /// Earlier encryption keys, comma-separated: they only open keys sealed before a rotation.
    #[arg(
        long,
        env = "API_KEY_ENCRYPTION_KEY_PREVIOUS",
        hide_env_values = true,
        value_delimiter = ',',
        global = true
    )]
    pub api_key_encryption_key_previous: Vec<String>,
    /// Any OpenAI-compatible endpoint; requests go to <base>/chat/completions.
    #[arg(
        long,
        env = "OPENROUTER_BASE_URL",
        default_value = "https://openrouter.ai/api/v1",
        global = true
    )]
    pub openrouter_base_url: String,
    /// Comma-separated model catalogue.
    #[arg(long, env = "COUNCIL_MODELS", default_value = DEFAULT_MODELS, value_delimiter = ',', global = true)]
    pub models: Vec<String>,
    /// Comma-separated default council for new conversations (default: the catalogue).
    #[arg(
        long,
        env = "COUNCIL_DEFAULT_MODELS",
        value_delimiter = ',',
        global = true
    )]
    pub default_models: Vec<String>,
    /// Default lead (chairman) model.
    #[arg(long, env = "COUNCIL_LEAD_MODEL", default_value = DEFAULT_LEAD_MODEL, global = true)]
    pub lead_model: String,
    /// Model that names conversations.
    #[arg(long, env = "COUNCIL_TITLE_MODEL", default_value = DEFAULT_TITLE_MODEL, global = true)]
    pub title_model: String,
    #[arg(
        long,
        env = "ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,
    #[arg(
        long,
        env = "REFRESH_TOKEN_TTL_SECS",
        default_value_t = 604_800,
        global = true
    )]
    pub refresh_token_ttl_secs: u64,
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31), global = true)]
    pub bcrypt_cost: u32,
    /// Comma-separated allowed CORS origins.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// Per model call.
    #[arg(
        long,
        env = "UPSTREAM_TIMEOUT_SECS",
        default_value_t = 120,
        global = true
    )]
    pub upstream_timeout_secs: u64,
    /// Database connections in the pool.
    #[arg(long, env = "COUNCIL_DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,
    /// On SIGTERM/SIGINT, how long running councils may go on before they are stopped.
    #[arg(
        long,
        env = "COUNCIL_SHUTDOWN_GRACE_SECS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_grace_secs: u64,
    /// Seconds without a heartbeat after which a server instance counts as
    /// dead and its running councils are marked failed (at least 3). On
    /// PostgreSQL this is how long a crashed replica's runs stay `running`.
    #[arg(
        long,
        env = "COUNCIL_INSTANCE_STALE_SECS",
        default_value_t = 45,
        value_parser = clap::value_parser!(u64).range(3..),
        global = true
    )]
    pub instance_stale_secs: u64,
    /// Register/login attempts per client address per minute (0: no limit).
    #[arg(
        long,
        env = "COUNCIL_AUTH_RATE_PER_MINUTE",
        default_value_t = 30,
        global = true
    )]
    pub auth_rate_per_minute: u32,
}

impl std::fmt::Debug for ServerArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerArgs")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// A setting that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no data directory: set COUNCIL_DATA_DIR")]
    NoDataDir,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
}

/// Everything the server runs with, resolved and checked.
#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub data_dir: PathBuf,
    pub jwt_secret: SecretString,
    pub api_key_encryption_key: SecretString,
    pub api_key_encryption_key_previous: Vec<SecretString>,
    pub openrouter_base_url: String,
    pub models: ModelDefaults,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub bcrypt_cost: u32,
    pub cors_origins: Vec<String>,
    pub upstream_timeout: Duration,
    pub db_pool_size: u32,
    pub auth_rate_per_minute: u32,
    pub shutdown_grace: Duration,
    /// Silence after which another server instance counts as dead (its
    /// runs are failed); heartbeats and sweeps are derived from it.
    pub instance_stale_after: Duration,
    /// Interval of `: ping` comments on event streams (API.md: at most 15 s).
    pub sse_keep_alive: Duration,
}

impl Config {
    /// Every setting at its default, with fresh secrets held only in memory
    /// and BCRYPT_COST as given: for tests, benchmarks and in-process servers.
    pub fn with_defaults(
        database: DatabaseUrl,
        data_dir: PathBuf,
        bcrypt_cost: u32,
    ) -> Result<Self, ConfigError> {
        let split = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        Ok(Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database,
            data_dir,
            jwt_secret: SecretString::from(secrets::generate_jwt_secret()),
            api_key_encryption_key: SecretString::from(
                crate::crypto::KeySealer::generate_master_key()
                    .map_err(|e| ConfigError::Invalid(e.to_string()))?,
            ),
            api_key_encryption_key_previous: vec![],
            openrouter_base_url: "https://openrouter.ai/api/v1".into(),
            models: ModelDefaults::new(
                split(DEFAULT_MODELS),
                vec![],
                DEFAULT_LEAD_MODEL.into(),
                DEFAULT_TITLE_MODEL.into(),
            )?,
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(604_800),
            bcrypt_cost,
            cors_origins: vec![],
            upstream_timeout: Duration::from_secs(120),
            db_pool_size: 8,
            auth_rate_per_minute: 30,
            shutdown_grace: Duration::from_secs(20),
            instance_stale_after: crate::council::INSTANCE_STALE_AFTER,
            sse_keep_alive: Duration::from_secs(15),
        })
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database", &self.database)
            .field("data_dir", &self.data_dir)
            .field("models", &self.models)
            .finish_non_exhaustive()
    }
}

/// The model catalogue and the defaults of new conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDefaults {
    pub catalogue: Vec<String>,
    pub default_models: Vec<String>,
    pub lead_model: String,
    pub title_model: String,
}

impl ModelDefaults {
    /// Checks every id; the default council must itself be a valid council.
    pub fn new(
        catalogue: Vec<String>,
        default_models: Vec<String>,
        lead_model: String,
        title_model: String,
    ) -> Result<Self, ConfigError> {
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect()
        };
        let catalogue = clean(catalogue);
        let default_models = match clean(default_models) {
            d if d.is_empty() => catalogue.clone(),
            d => d,
        };
        let invalid = |what: &str, e: council_shared::validate::Invalid| {
            ConfigError::Invalid(format!("{what}: {e}"))
        };
        for m in &catalogue {
            council_shared::validate::model_id(m).map_err(|e| invalid("COUNCIL_MODELS", e))?;
        }
        let default_models = council_shared::validate::council_models(&default_models)
            .map_err(|e| invalid("COUNCIL_DEFAULT_MODELS", e))?;
        let lead_model = lead_model.trim().to_owned();
        council_shared::validate::model_id(&lead_model)
            .map_err(|e| invalid("COUNCIL_LEAD_MODEL", e))?;
        let title_model = title_model.trim().to_owned();
        council_shared::validate::model_id(&title_model)
            .map_err(|e| invalid("COUNCIL_TITLE_MODEL", e))?;
        Ok(Self {
            catalogue,
            default_models,
            lead_model,
            title_model,
        })
    }
}

impl ServerArgs {
    /// The data directory: the flag, else `$STATE_DIRECTORY` (systemd), else
    /// the platform's data directory.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        if let Some(state) = std::env::var_os("STATE_DIRECTORY").filter(|s| !s.is_empty()) {
            // systemd may pass several, colon-separated; the first is ours.
            let first = state
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            return Ok(PathBuf::from(first));
        }
        dirs::data_dir()
            .map(|d| d.join("council"))
            .ok_or(ConfigError::NoDataDir)
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database(&self, data_dir: &Path) -> Result<DatabaseUrl, ConfigError> {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => {
                DatabaseUrl::parse(url).map_err(ConfigError::Invalid)
            }
            _ => Ok(DatabaseUrl::sqlite_in(data_dir)),
        }
    }

    /// Resolves secrets (generating missing ones) and checks every setting.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let data_dir = self.data_dir()?;
        let database = self.database(&data_dir)?;
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let env_secret = |v: Option<String>| v.filter(|s| !s.is_empty()).map(SecretString::from);

        let (jwt_secret, jwt_source) = secrets::load(
            secrets::JWT_SECRET,
            env_secret(self.jwt_secret),
            credentials.as_deref(),
            &data_dir,
            secrets::generate_jwt_secret,
            secrets::check_jwt_secret,
        )?;
        log_source("JWT secret", &jwt_source);
        let (api_key_encryption_key, key_source) = secrets::load(
            secrets::API_KEY_ENCRYPTION_KEY,
            env_secret(self.api_key_encryption_key),
            credentials.as_deref(),
            &data_dir,
            || crate::crypto::KeySealer::generate_master_key().unwrap_or_default(),
            secrets::check_encryption_key,
        )?;
        log_source("API key encryption key", &key_source);
        let previous = self
            .api_key_encryption_key_previous
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(SecretString::from)
            .collect::<Vec<_>>();
        for key in &previous {
            secrets::check_encryption_key(key).map_err(|_| {
                ConfigError::Invalid(
                    "API_KEY_ENCRYPTION_KEY_PREVIOUS: every key must be 32 bytes of base64".into(),
                )
            })?;
        }

        let models = ModelDefaults::new(
            self.models,
            self.default_models,
            self.lead_model,
            self.title_model,
        )?;
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_secs == 0 {
            return Err(ConfigError::Invalid(
                "ACCESS_TOKEN_TTL_SECS and REFRESH_TOKEN_TTL_SECS must be positive".into(),
            ));
        }
        Ok(Config {
            bind: self.bind,
            database,
            data_dir,
            jwt_secret,
            api_key_encryption_key,
            api_key_encryption_key_previous: previous,
            openrouter_base_url: self.openrouter_base_url.trim_end_matches('/').to_owned(),
            models,
            access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
            bcrypt_cost: self.bcrypt_cost,
            cors_origins: self
                .cors_origins
                .into_iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            upstream_timeout: Duration::from_secs(self.upstream_timeout_secs.max(1)),
            db_pool_size: self.db_pool_size.max(1),
            auth_rate_per_minute: self.auth_rate_per_minute,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            instance_stale_after: Duration::from_secs(self.instance_stale_secs),
            sse_keep_alive: Duration::from_secs(15),
        })
    }
}

fn log_source(what: &str, source: &Source) {
    match source {
        Source::Generated(_) => tracing::warn!("{what}: {source}"),
        _ => tracing::info!("{what}: from {source}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_council_falls_back_to_the_catalogue_and_is_checked() {
        let v = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        let m = ModelDefaults::new(v(DEFAULT_MODELS), vec![], "a/lead".into(), "a/title".into())
            .expect("defaults are valid");
        assert_eq!(m.default_models, m.catalogue);
        assert!(ModelDefaults::new(v("a/b"), vec![], "a/lead".into(), "a/t".into()).is_err());
        assert!(ModelDefaults::new(v("a/b,c/d"), vec![], "bad".into(), "a/t".into()).is_err());
        assert!(ModelDefaults::new(v("a/b,nope"), vec![], "a/l".into(), "a/t".into()).is_err());
    }

    #[test]
    fn cli_parses_subcommands_and_defaults() {
        let cli = Cli::try_parse_from(["council-server", "gen-key"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::GenKey)));
        let cli = Cli::try_parse_from(["council-server", "--bcrypt-cost", "4", "migrate"])
            .expect("parses");
        assert!(matches!(cli.command, Some(Command::Migrate)));
        assert_eq!(cli.args.bcrypt_cost, 4);
        assert!(Cli::try_parse_from(["council-server", "--bcrypt-cost", "3"]).is_err());
        assert_eq!(cli.args.instance_stale_secs, 45);
        let cli =
            Cli::try_parse_from(["council-server", "--instance-stale-secs", "3"]).expect("parses");
        assert_eq!(cli.args.instance_stale_secs, 3);
        assert!(Cli::try_parse_from(["council-server", "--instance-stale-secs", "2"]).is_err());
    }
}
