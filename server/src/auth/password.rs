//! bcrypt, off the async workers and bounded: hashing is deliberately slow,
//! so it gets all cores but one (at least one hash at a time), each hash on
//! a thread of its own at idle CPU priority, and the rest wait their turn
//! without holding a thread.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

/// Why hashing could not be done (never the password).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("cannot start a password hashing thread: {0}")]
    Thread(std::io::Error),
    #[error("password hashing thread failed")]
    Panicked,
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
        // One core is left to everything else: with a hash on every core, a
        // login flood made the other requests wait for a core (p99 of
        // `GET /api/auth/me` 5x its idle p99 on 2 cores; council-bench row 2).
        let hashers = cores.saturating_sub(1).max(1);
        Self {
            cost,
            permits: Arc::new(Semaphore::new(hashers)),
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
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Closed)?;
        // A thread per hash, not the blocking pool: its priority is lowered
        // for good, and a hash takes hundreds of milliseconds anyway. The
        // thread holds the turn until the hash ends, even if the request
        // that asked for it is gone.
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("bcrypt".into())
            .spawn(move || {
                let _permit = permit;
                idle_priority();
                let _ = done.send(f());
            })
            .map_err(HashError::Thread)?;
        Ok(result.await.map_err(|_| HashError::Panicked)??)
    }
}

/// Moves the calling thread to the SCHED_IDLE class: it runs only on a core
/// that nothing else wants, and a request that wakes up takes the core from
/// it at once. Fewer hashers alone did not do it: a waking request thread
/// still waited up to a scheduler tick behind a hash (p99 of `GET
/// /api/auth/me` during a login flood 5-10x its idle p99; council-bench
/// row 2; nice 19 did no better). Skipped under a seccomp filter, where the
/// call may be forbidden and a forbidden call ends the process (the shipped
/// systemd unit denies `@resources`); hashing then runs at normal priority.
fn idle_priority() {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    let filtered = std::fs::read_to_string("/proc/thread-self/status").map_or(true, |s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Seccomp:"))
            .is_none_or(|mode| mode.trim() != "0")
    });
    let outcome = if filtered {
        Err("a seccomp filter is active (or no /proc)".to_owned())
    } else {
        set_idle_policy()
    };
    if let Err(why) = outcome {
        REPORTED.call_once(|| {
            tracing::info!(%why, "password hashing runs at normal CPU priority");
        });
    }
}

#[cfg(target_os = "linux")]
fn set_idle_policy() -> Result<(), String> {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    )
    .map_err(|e| format!("{e:?}"))
}

#[cfg(not(target_os = "linux"))]
fn set_idle_policy() -> Result<(), String> {
    Err("SCHED_IDLE is Linux only".to_owned())
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
