//! The client's state file (API.md "Terminal client configuration"): the
//! server URL, the signed-in email and the two tokens, kept in a TOML file
//! that only its owner may read.
//!
//! Here rather than in the terminal client so that every client (the TUI,
//! the `council` subcommands, scripts built on this crate) finds, reads and
//! writes sessions the same way. Its errors are [`ConfigError`], not
//! [`crate::ClientError`]: they are about a local file (a path and an I/O
//! error, which cannot be cloned or compared), not about the server.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use council_shared::private_file;
use serde::{Deserialize, Serialize};

/// Environment variable naming the state file (overridden by `--config`).
pub const CONFIG_ENV: &str = "COUNCIL_CONFIG";

/// The state file below the configuration directory.
const FILE_IN_CONFIG_DIR: &str = "council/config.toml";

/// The client's state file (API.md "Terminal client configuration").
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Base URL of the server last used, e.g. `http://127.0.0.1:8001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Email of the signed-in (or last signed-in) user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The current access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The current refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tokens are as good as a password: only say whether they exist.
        let shown = |t: &Option<String>| if t.is_some() { "<redacted>" } else { "None" };
        f.debug_struct("ConfigFile")
            .field("server", &self.server)
            .field("email", &self.email)
            .field("access_token", &shown(&self.access_token))
            .field("refresh_token", &shown(&self.refresh_token))
            .finish()
    }
}

/// Why the state file cannot be found, read or written. Messages name the
/// file and the problem, never a value from it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither a flag nor the environment names the file, and there is no
    /// home directory to put it in.
    #[error(
        "cannot find the home directory for the configuration file: use --config PATH or set {CONFIG_ENV}"
    )]
    NoHome,
    /// The file exists but cannot be read.
    #[error("{}: cannot read it: {source}", show(.path))]
    Read {
        /// The state file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file or its directory cannot be written.
    #[error("{}: cannot write it: {source}", show(.path))]
    Write {
        /// The state file.
        path: PathBuf,
        /// Why writing (or creating its directory) failed.
        source: std::io::Error,
    },
    /// Other users may read the file and its mode cannot be changed.
    #[error(
        "{} is readable by other users and its permissions cannot be changed to 0600: {source}",
        show(.path)
    )]
    Permissions {
        /// The state file.
        path: PathBuf,
        /// Why its mode could not be changed.
        source: std::io::Error,
    },
    /// The file is not valid TOML or a setting has the wrong type.
    #[error("{}{}: {message}", show(.path), location(*.line, *.column))]
    Invalid {
        /// The state file.
        path: PathBuf,
        /// 1-based line of the problem, where known.
        line: Option<usize>,
        /// 1-based column of the problem, where known.
        column: Option<usize>,
        /// What is wrong, without any value from the file.
        message: String,
    },
}

/// `path` as the user would type it: the home directory shown as `~`.
fn show(path: &Path) -> String {
    if let Some(home) = dirs::home_dir().filter(|h| !h.as_os_str().is_empty())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

/// ` line 3, column 7`, ` line 3` or nothing.
fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l}, column {c}"),
        (Some(l), None) => format!(" line {l}"),
        _ => String::new(),
    }
}

/// The state file's path: `flag` (`--config`), else `$COUNCIL_CONFIG`, else
/// `$XDG_CONFIG_HOME/council/config.toml`, else `~/.config/council/config.toml`.
pub fn resolve_path(flag: Option<&Path>) -> Result<PathBuf, ConfigError> {
    resolve_path_from(flag, |name| std::env::var_os(name), dirs::home_dir())
}

/// [`resolve_path`] with the environment and the home directory given, so the
/// precedence can be checked without changing the process's environment.
/// Empty variables count as unset; a relative `XDG_CONFIG_HOME` is ignored,
/// as the XDG base directory specification asks.
pub fn resolve_path_from(
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
    home: Option<PathBuf>,
) -> Result<PathBuf, ConfigError> {
    if let Some(path) = flag {
        return Ok(path.to_owned());
    }
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(path) = set(CONFIG_ENV) {
        return Ok(PathBuf::from(path));
    }
    if let Some(dir) = set("XDG_CONFIG_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Ok(dir.join(FILE_IN_CONFIG_DIR));
    }
    home.filter(|h| !h.as_os_str().is_empty())
        .map(|h| h.join(".config").join(FILE_IN_CONFIG_DIR))
        .ok_or(ConfigError::NoHome)
}

impl ConfigFile {
    /// Reads the file at `path`. A missing file is an empty configuration.
    /// Returns the configuration and warnings to show the user (a file other
    /// users could read has its mode fixed to 0600, and says so).
    pub fn load(path: &Path) -> Result<(ConfigFile, Vec<String>), ConfigError> {
        let read_error = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((ConfigFile::default(), Vec::new()));
            }
            Err(e) => return Err(read_error(e)),
        };
        let warnings = restrict_permissions(path)?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError::Invalid {
            path: path.to_owned(),
            line: None,
            column: None,
            message: "the file is not UTF-8 text".into(),
        })?;
        Ok((parse(path, &text)?, warnings))
    }

    /// Writes the configuration to `path` atomically and privately
    /// ([`private_file::write_atomic`]: mode 0600, flushed, renamed over the
    /// old file, so a crash leaves either the old or the new file, never
    /// half of one). A missing directory is created with mode 0700.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let write_error = |source| ConfigError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_file::create_dir(dir).map_err(write_error)?;
        }
        let text = toml::to_string(self).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            line: None,
            column: None,
            // Serialising plain strings cannot fail in practice; the message
            // of the toml crate names no value.
            message: e.to_string(),
        })?;
        private_file::write_atomic(path, text.as_bytes()).map_err(write_error)
    }

    /// True when both tokens are present.
    pub fn signed_in(&self) -> bool {
        self.access_token.is_some() && self.refresh_token.is_some()
    }

    /// Keeps a new session's tokens with the server that issued them
    /// (`None`: the local server), so that a later run without `--server`
    /// goes back to that server.
    pub fn remember_session(&mut self, access: String, refresh: String, server: Option<&str>) {
        self.access_token = Some(access);
        self.refresh_token = Some(refresh);
        self.server = server.map(str::to_owned);
    }

    /// Whether the saved tokens may be shown to `server` (`None`: local
    /// mode): they were issued by it, or by an unrecorded server (files
    /// written before the server was recorded).
    pub fn session_is_for(&self, server: Option<&str>) -> bool {
        let normalise = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
        match (&self.server, server) {
            (None, _) => true,
            (Some(saved), Some(chosen)) => normalise(saved) == normalise(chosen),
            (Some(_), None) => false,
        }
    }

    /// Forgets the tokens; the server and email stay, to prefill a later sign-in.
    pub fn clear_session(&mut self) {
        self.access_token = None;
        self.refresh_token = None;
    }
}

/// Parses the file's text. Only the known keys are read (others are ignored,
/// so a newer client's file still loads), each of which must be a string; an
/// empty string counts as absent.
fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_column(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            // The toml crate's Display quotes the offending line, which may
            // hold a token; its bare message describes only the grammar.
            message: e.message().trim().to_owned(),
        }
    })?;
    let value = |key: &str| match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) if s.is_empty() => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        // Name the key and the type found, never the value.
        Some(other) => Err(ConfigError::Invalid {
            path: path.to_owned(),
            line: None,
            column: None,
            message: format!("`{key}` must be a string, not {}", other.type_str()),
        }),
    };
    Ok(ConfigFile {
        server: value("server")?,
        email: value("email")?,
        access_token: value("access_token")?,
        refresh_token: value("refresh_token")?,
    })
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = (0..=at.min(text.len()))
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Makes a file that others can read or write private (0600) and returns a
/// warning saying so; refuses the file if its mode cannot be changed.
fn restrict_permissions(path: &Path) -> Result<Vec<String>, ConfigError> {
    match private_file::restrict(path) {
        Ok(false) => Ok(Vec::new()),
        Ok(true) => Ok(vec![format!(
            "{} was readable by other users; its permissions are now 0600",
            show(path)
        )]),
        Err(source) => Err(ConfigError::Permissions {
            path: path.to_owned(),
            source,
        }),
    }
}
