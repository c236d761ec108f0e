//! Access and refresh tokens: HS256 JWTs with a `type` claim, so one kind is
//! never accepted as the other. Refresh tokens also carry their login's
//! family id and their own id (`jti`), which the database checks.

use std::time::Duration;

use chrono::NaiveDateTime;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Clock skew tolerated between replicas; small, so an expired token really stops working.
const LEEWAY_SECS: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The claims of both kinds of token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id; a token whose `sub` is not a UUID does not verify.
    pub sub: Uuid,
    pub exp: u64,
    pub iat: u64,
    #[serde(rename = "type")]
    pub kind: TokenKind,
    pub jti: String,
    /// The login (refresh-token family); refresh tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<Uuid>,
}

/// Why a token was refused; all of them answer 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token expired")]
    Expired,
    #[error("Invalid token")]
    Invalid,
    #[error("Invalid token type")]
    WrongKind,
    #[error("token signing failed")]
    Signing,
}

/// A freshly issued refresh token with what the database must remember of it.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub token: String,
    pub jti: String,
    pub expires_at: NaiveDateTime,
}

/// Signs and checks tokens with the server's secret.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

fn unix(t: NaiveDateTime) -> u64 {
    u64::try_from(t.and_utc().timestamp()).unwrap_or(0)
}

impl TokenService {
    pub fn new(secret: &SecretString, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|_| TokenError::Signing)
    }

    /// An access token for `user_id`.
    pub fn issue_access(&self, user_id: Uuid, now: NaiveDateTime) -> Result<String, TokenError> {
        let iat = unix(now);
        self.sign(&Claims {
            sub: user_id,
            iat,
            exp: iat + self.access_ttl.as_secs(),
            kind: TokenKind::Access,
            jti: uuid::Uuid::new_v4().to_string(),
            fam: None,
        })
    }

    /// A refresh token of the login `family_id`.
    pub fn issue_refresh(
        &self,
        user_id: Uuid,
        family_id: Uuid,
        now: NaiveDateTime,
    ) -> Result<IssuedRefresh, TokenError> {
        let iat = unix(now);
        let jti = uuid::Uuid::new_v4().to_string();
        let ttl = chrono::Duration::from_std(self.refresh_ttl).map_err(|_| TokenError::Signing)?;
        let token = self.sign(&Claims {
            sub: user_id,
            iat,
            exp: iat + self.refresh_ttl.as_secs(),
            kind: TokenKind::Refresh,
            jti: jti.clone(),
            fam: Some(family_id),
        })?;
        Ok(IssuedRefresh {
            token,
            jti,
            expires_at: now + ttl,
        })
    }

    /// Checks signature, expiry and kind.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        if data.claims.kind != kind {
            return Err(TokenError::WrongKind);
        }
        if kind == TokenKind::Refresh && data.claims.fam.is_none() {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(
            &SecretString::from("k".repeat(40)),
            Duration::from_secs(900),
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn kinds_are_not_interchangeable() {
        let s = service();
        let now = crate::db::now();
        let (user, family) = (Uuid::new_v4(), Uuid::new_v4());
        let access = s.issue_access(user, now).expect("signs");
        let refresh = s.issue_refresh(user, family, now).expect("signs");
        assert_eq!(
            s.verify(&access, TokenKind::Access).expect("valid").sub,
            user
        );
        assert_eq!(
            s.verify(&refresh.token, TokenKind::Refresh)
                .expect("valid")
                .fam,
            Some(family)
        );
        assert_eq!(
            s.verify(&access, TokenKind::Refresh).err(),
            Some(TokenError::WrongKind)
        );
        assert_eq!(
            s.verify(&refresh.token, TokenKind::Access).err(),
            Some(TokenError::WrongKind)
        );
    }

    #[test]
    fn expired_forged_and_garbage_tokens_fail() {
        let s = service();
        let long_ago = crate::db::now() - chrono::Duration::hours(2);
        let old = s.issue_access(Uuid::new_v4(), long_ago).expect("signs");
        assert_eq!(
            s.verify(&old, TokenKind::Access).err(),
            Some(TokenError::Expired)
        );
        let other = TokenService::new(
            &SecretString::from("z".repeat(40)),
            Duration::from_secs(900),
            Duration::from_secs(900),
        );
        let forged = other
            .issue_access(Uuid::new_v4(), crate::db::now())
            .expect("signs");
        assert_eq!(
            s.verify(&forged, TokenKind::Access).err(),
            Some(TokenError::Invalid)
        );
        assert_eq!(
            s.verify("not.a.jwt", TokenKind::Access).err(),
            Some(TokenError::Invalid)
        );
    }

    #[test]
    fn a_signed_token_whose_user_is_not_a_uuid_is_invalid() {
        let s = service();
        let iat = unix(crate::db::now());
        let claims = serde_json::json!({
            "sub": "u1", "iat": iat, "exp": iat + 60, "type": "access", "jti": "j",
        });
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &s.encoding)
            .expect("signs");
        assert_eq!(
            s.verify(&token, TokenKind::Access).err(),
            Some(TokenError::Invalid)
        );
    }
}
