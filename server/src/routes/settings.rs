//! `/api/settings`: the user's provider keys, sealed at rest.

use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use council_shared::validate;
use council_shared::{ApiKeyRequest, ApiKeyResponse, DEFAULT_PROVIDER, StatusResponse};

use super::ApiJson;
use crate::auth::AuthUser;
use crate::db::{self, DbError, api_keys};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api-key", post(save))
        .route("/api-keys", get(list))
        .route("/api-key/{provider}", delete(remove))
}

fn response(row: &api_keys::ApiKey) -> ApiKeyResponse {
    ApiKeyResponse {
        id: row.id.parse().unwrap_or_default(),
        provider: row.provider.clone(),
        key_hint: row.key_hint.clone(),
        created_at: db::utc(row.created_at),
        updated_at: db::utc(row.updated_at),
    }
}

async fn save(
    user: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ApiKeyRequest>,
) -> Result<Json<ApiKeyResponse>, ApiError> {
    let key = validate::api_key(&body.api_key)?;
    let provider = validate::provider(body.provider.as_deref().unwrap_or(DEFAULT_PROVIDER))?;
    let encrypted_key = state
        .sealer
        .seal(&user.id, &provider, &key)
        .map_err(ApiError::internal)?;
    let now = db::now();
    let row = api_keys::ApiKey {
        id: db::new_id(),
        user_id: user.id,
        provider,
        encrypted_key,
        key_hint: validate::key_hint(&key),
        created_at: now,
        updated_at: now,
    };
    let stored = state
        .db
        .write(move |c| -> Result<api_keys::ApiKey, DbError> { Ok(api_keys::upsert(c, &row)?) })
        .await?;
    Ok(Json(response(&stored)))
}

async fn list(
    user: AuthUser,
    State(state): State<AppState>,
) -> Result<Json<Vec<ApiKeyResponse>>, ApiError> {
    let rows = state.db.read(move |c| api_keys::list(c, &user.id)).await?;
    Ok(Json(rows.iter().map(response).collect()))
}

async fn remove(
    user: AuthUser,
    State(state): State<AppState>,
    Path(provider): Path<String>,
) -> Result<Json<StatusResponse>, ApiError> {
    // An unknown provider cannot have a saved key.
    let provider = validate::provider(&provider)
        .map_err(|_| ApiError::NotFound("No API key saved for this provider".into()))?;
    let deleted = state
        .db
        .write(move |c| -> Result<bool, DbError> { Ok(api_keys::delete(c, &user.id, &provider)?) })
        .await?;
    if deleted {
        Ok(Json(StatusResponse::new("deleted")))
    } else {
        Err(ApiError::NotFound(
            "No API key saved for this provider".into(),
        ))
    }
}
