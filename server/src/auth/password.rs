//! bcrypt, off the async workers and bounded: hashing is deliberately slow,
//! so at most one hash per core runs at a time and the rest wait their turn
//! without holding a runtime thread.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

/// Why hashing could not be done (never the password).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hashing is shutting down")]
    Closed,
}

/// Hashes and verifies passwords at a fixed bcrypt cost.
#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so that a login costs
    /// the same whether or not the account exists.
    dummy_hash: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .finish()
    }
}

impl PasswordHasher {
    pub fn new(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            cost,
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: Arc::new(OnceCell::new()),
        }
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        let cost = self.cost;
        self.run(move || bcrypt::hash(password.expose_secret(), cost))
            .await
    }

    /// Checks `password` against `hash`; with `None` (unknown account) it
    /// does the same work against a dummy hash and answers false.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<String>,
    ) -> Result<bool, HashError> {
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => (self.dummy_hash().await?, false),
        };
        let ok = self
            .run(move || bcrypt::verify(password.expose_secret(), &hash))
            .await?;
        Ok(ok && real)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        let this = self.clone();
        self.dummy_hash
            .get_or_try_init(|| async move {
                let mut random = [0u8; 24];
                rand::fill(&mut random);
                let cost = this.cost;
                this.run(move || bcrypt::hash(random, cost)).await
            })
            .await
            .cloned()
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Closed)?;
        Ok(tokio::task::spawn_blocking(f).await??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let h = PasswordHasher::new(4);
        let pw = || SecretString::from("correct horse".to_owned());
        let hash = h.hash(pw()).await.expect("hashes");
        assert!(h.verify(pw(), Some(hash.clone())).await.expect("verifies"));
        assert!(
            !h.verify(SecretString::from("wrong".to_owned()), Some(hash))
                .await
                .expect("verifies")
        );
        assert!(!h.verify(pw(), None).await.expect("dummy verify runs"));
    }
}
