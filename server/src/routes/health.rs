//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use council_shared::{ErrorBody, StatusResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// 200 while the process serves.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{\"status\":\"ok\"}`", body = StatusResponse)))]
async fn healthz() -> Json<StatusResponse> {
    Json(StatusResponse::new("ok"))
}

/// 200 when the database answers, else 503.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = StatusResponse),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    ))]
async fn readyz(State(state): State<AppState>) -> Result<Json<StatusResponse>, ApiError> {
    if state.db.ping().await {
        Ok(Json(StatusResponse::new("ok")))
    } else {
        Err(ApiError::Unavailable("Database unavailable".into()))
    }
}
