//! Accounts: password hashing, JWTs, the authenticated-user extractor and the
//! login/register rate limits.

pub mod cache;
pub mod extract;
pub mod password;
pub mod rate_limit;
pub mod tokens;

pub use cache::UserCache;
pub use extract::AuthUser;
pub use password::PasswordHasher;
pub use rate_limit::AuthLimiter;
pub use tokens::{TokenKind, TokenService};
