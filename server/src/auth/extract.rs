//! `AuthUser`: the account behind a valid access token. A token whose user
//! has since been deleted is refused like any invalid one.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::NaiveDateTime;

use super::tokens::TokenKind;
use crate::db::users;
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub created_at: NaiveDateTime,
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError::Unauthorized("Not authenticated".into()))?;
        let claims = state
            .tokens
            .verify(token, TokenKind::Access)
            .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
        let id = claims.sub;
        let user = state
            .db
            .read(move |conn| users::find_by_id(conn, &id))
            .await?
            .ok_or_else(|| ApiError::Unauthorized("User no longer exists".into()))?;
        // The request's log line says whose it was.
        tracing::Span::current().record("user_id", tracing::field::display(&user.id));
        Ok(Self {
            id: user.id,
            email: user.email,
            created_at: user.created_at,
        })
    }
}
