//! The account local mode signs in with: made on the first start, its
//! email and a random password kept in `local-account.toml` in the data
//! directory, readable by its owner only.

use std::fmt;
use std::path::{Path, PathBuf};

use council_shared::private_file;

/// The account file in the data directory.
pub const FILE: &str = "local-account.toml";
/// The email of the local account: one person, one machine.
pub const EMAIL: &str = "local@council.localhost";

/// The local account's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalAccount {
    pub email: String,
    password: String,
}

impl fmt::Debug for LocalAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAccount")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Why the account file cannot be used. Messages name the file and the
/// problem, never the password.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("The local account file {} cannot be read: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("The local account file {} cannot be written: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("The local account file {} is damaged ({reason})", .path.display())]
    Damaged { path: PathBuf, reason: String },
}

impl LocalAccount {
    /// A new account with a random password (244 random bits).
    pub fn generate() -> Self {
        let password = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Self {
            email: EMAIL.to_owned(),
            password,
        }
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The account of `data_dir`; `None` when there is no file yet.
    pub fn load(data_dir: &Path) -> Result<Option<Self>, AccountError> {
        let path = data_dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(AccountError::Damaged {
                    path,
                    reason: "it is not text".into(),
                });
            }
            Err(source) => return Err(AccountError::Read { path, source }),
        };
        // A file others could read is made private again (it holds a
        // password), as the server does with its secrets.
        if let Err(source) = private_file::restrict(&path) {
            return Err(AccountError::Read { path, source });
        }
        Self::parse(&text)
            .map(Some)
            .map_err(|reason| AccountError::Damaged { path, reason })
    }

    fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // The message alone: the span would quote the file.
            e.message().to_owned()
        })?;
        let field = |name: &str| -> Result<String, String> {
            match table.get(name) {
                Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                Some(_) => Err(format!("`{name}` is not a text")),
                None => Err(format!("`{name}` is missing")),
            }
        };
        let email = council_shared::validate::email(&field("email")?)
            .map_err(|_| "`email` is not an email address".to_owned())?;
        let password = field("password")?;
        if council_shared::validate::password(&password).is_err() {
            return Err("`password` is not a valid password".into());
        }
        Ok(Self { email, password })
    }

    /// Writes the account to a new file in `data_dir` (mode 0600); an
    /// existing file is never replaced.
    pub fn create(&self, data_dir: &Path) -> Result<(), AccountError> {
        let path = data_dir.join(FILE);
        let mut table = toml::Table::new();
        table.insert("email".into(), toml::Value::String(self.email.clone()));
        table.insert(
            "password".into(),
            toml::Value::String(self.password.clone()),
        );
        let text = format!(
            "# The account `council` signs in with in local mode (made on its first start).\n\
             # Keep this file private: it holds the account's password.\n{table}"
        );
        private_file::create_dir(data_dir)
            .and_then(|()| private_file::create_new(&path, text.as_bytes()))
            .map_err(|source| AccountError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_written_privately_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(LocalAccount::load(dir.path()).expect("no file").is_none());
        let account = LocalAccount::generate();
        account.create(dir.path()).expect("written");
        let back = LocalAccount::load(dir.path())
            .expect("readable")
            .expect("exists");
        assert_eq!(back, account);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never replaced: a second start keeps the first password.
        assert!(LocalAccount::generate().create(dir.path()).is_err());
        assert!(!format!("{account:?}").contains(account.password()));
    }

    #[test]
    fn a_damaged_file_is_named_with_its_problem_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(FILE);
        for (text, problem) in [
            (
                "email = \"local@council.localhost\"\npassword = \"s3cret-s3cret\"\n[[",
                "damaged",
            ),
            (
                "email = \"local@council.localhost\"\n",
                "`password` is missing",
            ),
            (
                "email = 7\npassword = \"s3cret-s3cret\"\n",
                "`email` is not a text",
            ),
            (
                "email = \"nope\"\npassword = \"s3cret-s3cret\"\n",
                "not an email address",
            ),
            (
                "email = \"a@b.io\"\npassword = \"short\"\n",
                "not a valid password",
            ),
        ] {
            std::fs::write(&path, text).expect("write");
            let e = LocalAccount::load(dir.path()).expect_err(text);
            let message = e.to_string();
            assert!(message.contains(problem), "{message}");
            assert!(message.contains(FILE), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
            assert_eq!(std::fs::read_to_string(&path).expect("kept"), text);
        }
        std::fs::write(&path, [0xff, 0xfe, 0x00]).expect("write");
        let e = LocalAccount::load(dir.path()).expect_err("binary");
        assert!(e.to_string().contains("not text"), "{e}");
    }
}
