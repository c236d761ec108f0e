//! `/api/settings`: the user's provider keys, sealed at rest.

use axum::Json;
use axum::extract::{Path, State};
use council_shared::validate;
use council_shared::{ApiKeyRequest, ApiKeyResponse, DEFAULT_PROVIDER, ErrorBody, StatusResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use crate::auth::AuthUser;
use crate::db::{self, DbUuid, api_keys};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(save))
        .routes(routes!(list))
        .routes(routes!(remove))
}

fn response(row: &api_keys::ApiKey) -> ApiKeyResponse {
    ApiKeyResponse {
        id: row.id.into(),
        provider: row.provider.clone(),
        key_hint: row.key_hint.clone(),
        created_at: db::utc(row.created_at),
        updated_at: db::utc(row.updated_at),
    }
}

/// Saves (or replaces) the user's key for a provider, sealed at rest.
#[utoipa::path(post, path = "/api/settings/api-key", tag = "keys",
    security(("bearer" = [])),
    request_body = ApiKeyRequest,
    responses(
        (status = 200, description = "Saved; the key itself is never returned", body = ApiKeyResponse),
        (status = 400, description = "Key shorter than 10 characters, containing whitespace, or an unknown provider", body = ErrorBody),
    ))]
async fn save(
    user: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ApiKeyRequest>,
) -> Result<Json<ApiKeyResponse>, ApiError> {
    let key = validate::api_key(&body.api_key)?;
    let provider = validate::provider(body.provider.as_deref().unwrap_or(DEFAULT_PROVIDER))?;
    let encrypted_key = state
        .sealer
        .seal(&user.id.to_string(), &provider, &key)
        .map_err(ApiError::internal)?;
    let now = db::now();
    let row = api_keys::ApiKey {
        id: DbUuid::new_v4(),
        user_id: user.id.into(),
        provider,
        encrypted_key,
        key_hint: validate::key_hint(&key),
        created_at: now,
        updated_at: now,
    };
    let stored = state
        .db
        .write_query(move |c| api_keys::upsert(c, &row))
        .await?;
    Ok(Json(response(&stored)))
}

/// The user's saved keys, described by their hints.
#[utoipa::path(get, path = "/api/settings/api-keys", tag = "keys",
    security(("bearer" = [])),
    responses((status = 200, description = "Saved keys", body = Vec<ApiKeyResponse>)))]
async fn list(
    user: AuthUser,
    State(state): State<AppState>,
) -> Result<Json<Vec<ApiKeyResponse>>, ApiError> {
    let rows = state.db.read(move |c| api_keys::list(c, user.id)).await?;
    Ok(Json(rows.iter().map(response).collect()))
}

/// Removes the user's key for a provider.
#[utoipa::path(delete, path = "/api/settings/api-key/{provider}", tag = "keys",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "The provider, e.g. `openrouter`")),
    responses(
        (status = 200, description = "`{\"status\":\"deleted\"}`", body = StatusResponse),
        (status = 404, description = "No key saved for this provider", body = ErrorBody),
    ))]
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
        .write_query(move |c| api_keys::delete(c, user.id, &provider))
        .await?;
    if deleted {
        Ok(Json(StatusResponse::new("deleted")))
    } else {
        Err(ApiError::NotFound(
            "No API key saved for this provider".into(),
        ))
    }
}
