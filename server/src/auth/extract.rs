//! `AuthUser`: the account behind a valid access token. A token whose user
//! has since been deleted is refused like any invalid one.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::NaiveDateTime;
use uuid::Uuid;

use super::tokens::TokenKind;
use crate::db::users;
use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
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
        let epoch = match state.users.get(id) {
            Ok(user) => return Ok(user.recorded()),
            Err(epoch) => epoch,
        };
        let row = state
            .db
            .read(move |conn| users::find_by_id(conn, id))
            .await?
            .ok_or_else(|| ApiError::Unauthorized("User no longer exists".into()))?;
        let user = Self {
            id: row.id.into(),
            email: row.email,
            created_at: row.created_at,
        };
        state.users.insert(&user, epoch);
        Ok(user.recorded())
    }
}

impl AuthUser {
    /// The request's log line says whose it was.
    fn recorded(self) -> Self {
        tracing::Span::current().record("user_id", tracing::field::display(&self.id));
        self
    }
}
