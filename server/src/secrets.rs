//! Where the two server secrets come from: the environment, else systemd's
//! `$CREDENTIALS_DIRECTORY`, else a file in the data directory that is
//! generated (mode 0600) on first start. Only paths are ever logged.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use council_shared::private_file;
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::KeySealer;

/// The seed prototype's default, which must never protect a real server.
pub const PLACEHOLDER: &str = "change-me-in-production";
pub const JWT_SECRET_MIN_BYTES: usize = 32;

/// One of the two secrets, with the names it is found under.
#[derive(Debug, Clone, Copy)]
pub struct SecretSpec {
    /// Environment variable.
    pub env: &'static str,
    /// File name in the credentials and data directories.
    pub file: &'static str,
}

pub const JWT_SECRET: SecretSpec = SecretSpec {
    env: "JWT_SECRET",
    file: "jwt_secret",
};
pub const API_KEY_ENCRYPTION_KEY: SecretSpec = SecretSpec {
    env: "API_KEY_ENCRYPTION_KEY",
    file: "api_key_encryption_key",
};

/// Where a secret was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Environment,
    Credential(PathBuf),
    DataDir(PathBuf),
    Generated(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => f.write_str("the environment"),
            Self::Credential(p) => write!(f, "credential {}", p.display()),
            Self::DataDir(p) => write!(f, "{}", p.display()),
            Self::Generated(p) => write!(f, "{} (generated now, mode 0600)", p.display()),
        }
    }
}

/// Why a secret cannot be used; names the variable, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{name} is the placeholder `{PLACEHOLDER}`; set a real secret (or unset it to have one generated)"
    )]
    Placeholder { name: &'static str },
    #[error("{name} must be at least {JWT_SECRET_MIN_BYTES} bytes long")]
    TooShort { name: &'static str },
    #[error("{name}: {source}")]
    Invalid {
        name: &'static str,
        source: crate::crypto::CryptoError,
    },
    #[error("{name}: cannot read or create {path}: {source}")]
    Io {
        name: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Finds a secret (see the module doc); `generate` makes a new value when
/// none exists, `check` refuses an unusable one.
pub fn load(
    spec: SecretSpec,
    from_env: Option<SecretString>,
    credentials_dir: Option<&Path>,
    data_dir: &Path,
    generate: impl Fn() -> String,
    check: impl Fn(&SecretString) -> Result<(), SecretError>,
) -> Result<(SecretString, Source), SecretError> {
    let io = |path: &Path, source| SecretError::Io {
        name: spec.env,
        path: path.to_owned(),
        source,
    };
    let found = if let Some(value) = from_env {
        (value, Source::Environment)
    } else if let Some(path) = credentials_dir
        .map(|d| d.join(spec.file))
        .filter(|p| p.is_file())
    {
        let value = read_secret_file(&path).map_err(|e| io(&path, e))?;
        (value, Source::Credential(path))
    } else {
        let path = data_dir.join(spec.file);
        match create_secret_file(&path, &generate()) {
            Ok(()) => {
                let value = read_secret_file(&path).map_err(|e| io(&path, e))?;
                (value, Source::Generated(path))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                tighten_permissions(&path).map_err(|e| io(&path, e))?;
                let value = read_secret_file(&path).map_err(|e| io(&path, e))?;
                (value, Source::DataDir(path))
            }
            Err(e) => return Err(io(&path, e)),
        }
    };
    if found.0.expose_secret().trim() == PLACEHOLDER {
        return Err(SecretError::Placeholder { name: spec.env });
    }
    check(&found.0)?;
    Ok(found)
}

/// JWT secrets: at least 32 bytes.
pub fn check_jwt_secret(value: &SecretString) -> Result<(), SecretError> {
    if value.expose_secret().len() < JWT_SECRET_MIN_BYTES {
        return Err(SecretError::TooShort {
            name: JWT_SECRET.env,
        });
    }
    Ok(())
}

/// Encryption keys: 32 bytes of base64.
pub fn check_encryption_key(value: &SecretString) -> Result<(), SecretError> {
    KeySealer::new(value, &[])
        .map(drop)
        .map_err(|source| SecretError::Invalid {
            name: API_KEY_ENCRYPTION_KEY.env,
            source,
        })
}

/// A new JWT secret: 48 random bytes, URL-safe base64 (64 characters).
pub fn generate_jwt_secret() -> String {
    let mut raw = [0u8; 48];
    rand::fill(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

fn read_secret_file(path: &Path) -> std::io::Result<SecretString> {
    let text = fs::read_to_string(path)?;
    Ok(SecretString::from(
        text.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// Writes a new secret file that nobody but the owner can read, failing
/// with `AlreadyExists` if another process got there first.
fn create_secret_file(path: &Path, value: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    private_file::create_new(path, format!("{value}\n").as_bytes())
}

/// Creates the data directory (mode 0700 when new).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    private_file::create_dir(dir)
}

/// A secret file readable by others is made private again, with a warning.
fn tighten_permissions(path: &Path) -> std::io::Result<()> {
    if private_file::restrict(path)? {
        tracing::warn!(path = %path.display(), "secret file was readable by others; its mode is now 0600");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_jwt(
        env: Option<&str>,
        creds: Option<&Path>,
        data: &Path,
    ) -> Result<(SecretString, Source), SecretError> {
        load(
            JWT_SECRET,
            env.map(|v| SecretString::from(v.to_owned())),
            creds,
            data,
            generate_jwt_secret,
            check_jwt_secret,
        )
    }

    #[test]
    fn environment_then_credentials_then_generated_file() {
        let data = tempfile::tempdir().expect("tempdir");
        let creds = tempfile::tempdir().expect("tempdir");
        let long = "x".repeat(40);

        let (v, src) = load_jwt(Some(&long), Some(creds.path()), data.path()).expect("env works");
        assert_eq!(
            (v.expose_secret(), src),
            (long.as_str(), Source::Environment)
        );

        fs::write(
            creds.path().join("jwt_secret"),
            format!("{}\n", "c".repeat(32)),
        )
        .expect("write");
        let (v, src) = load_jwt(None, Some(creds.path()), data.path()).expect("credential works");
        assert_eq!(v.expose_secret(), "c".repeat(32));
        assert!(matches!(src, Source::Credential(_)));

        let (first, src) = load_jwt(None, None, data.path()).expect("generated");
        assert!(matches!(src, Source::Generated(_)));
        let (second, src) = load_jwt(None, None, data.path()).expect("reused");
        assert!(matches!(src, Source::DataDir(_)));
        assert_eq!(
            first.expose_secret(),
            second.expose_secret(),
            "generated once, then reused"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.path().join("jwt_secret"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn placeholder_and_short_secrets_are_refused() {
        let data = tempfile::tempdir().expect("tempdir");
        let err = load_jwt(Some(PLACEHOLDER), None, data.path()).expect_err("refused");
        assert!(err.to_string().contains("placeholder"));
        assert!(!err.to_string().contains(&"x".repeat(10)));
        let err = load_jwt(Some("short-secret"), None, data.path()).expect_err("refused");
        assert!(err.to_string().contains("at least 32 bytes"));
        assert!(
            !err.to_string().contains("short-secret"),
            "the value is never echoed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_secret_file_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().expect("tempdir");
        let path = data.path().join("jwt_secret");
        fs::write(&path, "k".repeat(40)).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        load_jwt(None, None, data.path()).expect("loads");
        assert_eq!(
            fs::metadata(&path).expect("exists").permissions().mode() & 0o777,
            0o600
        );
    }
}
