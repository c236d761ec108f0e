//! What every handler can reach; cheap to clone.

use std::sync::Arc;

use crate::auth::{AuthLimiter, PasswordHasher, TokenService, UserCache};
use crate::config::{Config, ModelDefaults};
use crate::council::Council;
use crate::crypto::{CryptoError, KeySealer};
use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub tokens: Arc<TokenService>,
    pub passwords: PasswordHasher,
    pub sealer: Arc<KeySealer>,
    pub limiter: Arc<AuthLimiter>,
    /// Recently authenticated accounts (see `auth::cache`).
    pub users: Arc<UserCache>,
    pub models: Arc<ModelDefaults>,
    pub council: Council,
    /// Interval of keep-alive comments on event streams.
    pub sse_keep_alive: std::time::Duration,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(config: &Config, db: Db, council: Council) -> Result<Self, CryptoError> {
        Ok(Self {
            tokens: Arc::new(TokenService::new(
                &config.jwt_secret,
                config.access_token_ttl,
                config.refresh_token_ttl,
            )),
            passwords: PasswordHasher::new(config.bcrypt_cost),
            sealer: Arc::new(KeySealer::new(
                &config.api_key_encryption_key,
                &config.api_key_encryption_key_previous,
            )?),
            limiter: Arc::new(AuthLimiter::new(config.auth_rate_per_minute)),
            users: Arc::new(UserCache::default()),
            models: Arc::new(config.models.clone()),
            council,
            sse_keep_alive: config.sse_keep_alive,
            db,
        })
    }
}
