//! `/api/auth`: accounts and sessions.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use chrono::NaiveDateTime;
use council_shared::validate::{self, PASSWORD_MAX_BYTES};
use council_shared::{
    Credentials, DeleteAccountRequest, ErrorBody, PasswordChangeRequest, RefreshRequest,
    StatusResponse, TokenResponse, UserResponse,
};
use secrecy::SecretString;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiJson;
use crate::auth::tokens::TokenError;
use crate::auth::{AuthUser, TokenKind};
use crate::db::refresh_tokens::{self, Family, Presented};
use crate::db::{self, DbUuid, users};
use crate::error::ApiError;
use crate::state::AppState;

const INVALID_CREDENTIALS: &str = "Invalid email or password";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me, delete_account))
        .routes(routes!(change_password))
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Signing => ApiError::internal(e),
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

impl From<crate::auth::password::HashError> for ApiError {
    fn from(e: crate::auth::password::HashError) -> Self {
        ApiError::internal(e)
    }
}

/// Counts an attempt against the address and email limits.
fn rate_limit(state: &AppState, addr: SocketAddr, email: &str) -> Result<(), ApiError> {
    state
        .limiter
        .check(addr.ip(), email)
        .map_err(|wait| ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        })
}

/// A password as it may be handed to bcrypt: one longer than any stored
/// password can be is cut (it cannot match anyway) so the work stays the same.
fn candidate(password: String) -> (SecretString, bool) {
    if password.len() <= PASSWORD_MAX_BYTES {
        return (SecretString::from(password), true);
    }
    let mut end = PASSWORD_MAX_BYTES;
    while !password.is_char_boundary(end) {
        end -= 1;
    }
    (SecretString::from(password[..end].to_owned()), false)
}

/// A new login: its refresh-token family (to be stored) and the tokens.
fn new_session(
    state: &AppState,
    user_id: Uuid,
    now: NaiveDateTime,
) -> Result<(Family, TokenResponse), ApiError> {
    let family_id = Uuid::new_v4();
    let refresh = state.tokens.issue_refresh(user_id, family_id, now)?;
    let family = Family {
        id: family_id.into(),
        user_id: user_id.into(),
        current_jti: refresh.jti,
        created_at: now,
        rotated_at: now,
        expires_at: refresh.expires_at,
        revoked_at: None,
        revoked_reason: None,
    };
    Ok((family, token_response(state, user_id, refresh.token, now)?))
}

fn token_response(
    state: &AppState,
    user_id: Uuid,
    refresh_token: String,
    now: NaiveDateTime,
) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: state.tokens.issue_access(user_id, now)?,
        refresh_token,
        token_type: "bearer".into(),
        expires_in: state.tokens.access_ttl.as_secs(),
    })
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, description = "Registered and signed in", body = TokenResponse),
        (status = 400, description = "Invalid email, password shorter than 8 characters or longer than 71 bytes, or `Email already registered`", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this email", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn register(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Json<TokenResponse>, ApiError> {
    rate_limit(&state, addr, &body.email)?;
    let email = validate::email(&body.email)?;
    validate::password(&body.password)?;
    let lookup = email.clone();
    let taken = state
        .db
        .read(move |c| users::find_by_email(c, &lookup))
        .await?
        .is_some();
    if taken {
        return Err(ApiError::BadRequest("Email already registered".into()));
    }
    let password_hash = state
        .passwords
        .hash(SecretString::from(body.password))
        .await?;
    let now = db::now();
    let user = users::User {
        id: DbUuid::new_v4(),
        email,
        password_hash,
        created_at: now,
        updated_at: now,
    };
    let (family, tokens) = new_session(&state, user.id.into(), now)?;
    let stored = state
        .db
        .write_query(move |c| {
            users::insert(c, &user)?;
            refresh_tokens::insert(c, &family)
        })
        .await;
    match stored {
        Ok(()) => Ok(Json(tokens)),
        // Two registrations of one email at once: the second loses here.
        Err(e) if e.is_unique_violation() => {
            Err(ApiError::BadRequest("Email already registered".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs in: a new token family.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "`Invalid email or password`, whether the email exists or not", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 429, description = "Too many attempts from this address or for this email", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Json<TokenResponse>, ApiError> {
    rate_limit(&state, addr, &body.email)?;
    let user = match validate::email(&body.email) {
        Ok(email) => {
            state
                .db
                .read(move |c| users::find_by_email(c, &email))
                .await?
        }
        Err(_) => None,
    };
    let (password, storable) = candidate(body.password);
    let hash = user
        .as_ref()
        .filter(|_| storable)
        .map(|u| u.password_hash.clone());
    let matches = state.passwords.verify(password, hash).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::Unauthorized(INVALID_CREDENTIALS.into()));
    };
    let now = db::now();
    let (family, tokens) = new_session(&state, user.id.into(), now)?;
    state
        .db
        .write_query(move |c| {
            refresh_tokens::purge_expired_for_user(c, family.user_id.into(), now)?;
            refresh_tokens::insert(c, &family)
        })
        .await?;
    Ok(Json(tokens))
}

/// Rotates a refresh token; presenting a rotated-away one revokes its family.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and a new refresh token; the old one stops working", body = TokenResponse),
        (status = 401, description = "Invalid, expired or revoked refresh token, or an access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    ))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let claims = state
        .tokens
        .verify(&body.refresh_token, TokenKind::Refresh)?;
    // `verify` refuses a refresh token without a family.
    let family_id = claims.fam.ok_or(TokenError::Invalid)?;
    let now = db::now();
    let next = state.tokens.issue_refresh(claims.sub, family_id, now)?;
    let (next_jti, expires_at) = (next.jti.clone(), next.expires_at);
    let presented = claims.jti.clone();
    let outcome = state
        .db
        .write_query(move |c| {
            refresh_tokens::rotate(c, family_id, &presented, &next_jti, now, expires_at)
        })
        .await?;
    match outcome {
        Presented::Accepted => Ok(Json(token_response(&state, claims.sub, next.token, now)?)),
        Presented::Reused => {
            tracing::warn!(user_id = %claims.sub, "refresh token reuse: revoked that login's tokens");
            Err(ApiError::Unauthorized(
                "Refresh token was already used; this session has been signed out".into(),
            ))
        }
        Presented::Rejected => Err(ApiError::Unauthorized(
            "Refresh token expired or revoked".into(),
        )),
    }
}

/// Revokes the refresh token's family; needs no access token.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}`", body = StatusResponse),
        (status = 401, description = "Invalid refresh token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    ))]
async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    let claims = state
        .tokens
        .verify(&body.refresh_token, TokenKind::Refresh)?;
    let family_id = claims.fam.ok_or(TokenError::Invalid)?;
    let now = db::now();
    let outcome = state
        .db
        .write_query(move |c| refresh_tokens::revoke_current(c, family_id, &claims.jti, now))
        .await?;
    match outcome {
        Presented::Accepted => Ok(Json(StatusResponse::new("ok"))),
        Presented::Reused | Presented::Rejected => Err(ApiError::Unauthorized(
            "Refresh token expired or revoked".into(),
        )),
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = UserResponse)))]
async fn me(user: AuthUser) -> Json<UserResponse> {
    Json(user_response(&user))
}

fn user_response(user: &AuthUser) -> UserResponse {
    UserResponse {
        id: user.id,
        email: user.email.clone(),
        created_at: db::utc(user.created_at),
    }
}

/// Checks `password` against the user's stored hash.
async fn check_password(
    state: &AppState,
    user: &AuthUser,
    password: String,
) -> Result<bool, ApiError> {
    let id = user.id;
    let stored = state
        .db
        .read(move |c| users::find_by_id(c, id))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("User no longer exists".into()))?;
    let (password, storable) = candidate(password);
    let ok = state
        .passwords
        .verify(password, Some(stored.password_hash))
        .await?;
    Ok(ok && storable)
}

/// Changes the password and revokes every refresh token of the user.
#[utoipa::path(post, path = "/api/auth/password", tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}`; every refresh token of the user is revoked", body = StatusResponse),
        (status = 400, description = "The new password is too short or too long", body = ErrorBody),
        (status = 401, description = "Wrong current password, or not signed in", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 429, description = "Too many password attempts", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    user: AuthUser,
    ApiJson(body): ApiJson<PasswordChangeRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    validate::password(&body.new_password)?;
    rate_limit(&state, addr, &user.email)?;
    if !check_password(&state, &user, body.current_password).await? {
        return Err(ApiError::Unauthorized(
            "Current password is incorrect".into(),
        ));
    }
    let hash = state
        .passwords
        .hash(SecretString::from(body.new_password))
        .await?;
    let now = db::now();
    let id = user.id;
    state
        .db
        .write_query(move |c| {
            users::set_password_hash(c, id, &hash, now)?;
            refresh_tokens::revoke_all_for_user(c, id, refresh_tokens::reason::PASSWORD_CHANGE, now)
        })
        .await?;
    Ok(Json(StatusResponse::new("ok")))
}

/// Deletes the account with its keys and conversations.
#[utoipa::path(delete, path = "/api/auth/me", tag = "accounts",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 200, description = "`{\"status\":\"deleted\"}`", body = StatusResponse),
        (status = 401, description = "Wrong password, or not signed in", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 429, description = "Too many password attempts", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn delete_account(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    user: AuthUser,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    rate_limit(&state, addr, &user.email)?;
    if !check_password(&state, &user, body.password).await? {
        return Err(ApiError::Unauthorized("Password is incorrect".into()));
    }
    let id = user.id;
    state.db.write_query(move |c| users::delete(c, id)).await?;
    state.users.forget(user.id);
    tracing::info!(user_id = %user.id, "account deleted");
    Ok(Json(StatusResponse::new("deleted")))
}
