//! Liveness and readiness.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use council_shared::StatusResponse;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// 200 while the process serves.
async fn healthz() -> Json<StatusResponse> {
    Json(StatusResponse::new("ok"))
}

/// 200 when the database answers, else 503.
async fn readyz(State(state): State<AppState>) -> Result<Json<StatusResponse>, ApiError> {
    if state.db.ping().await {
        Ok(Json(StatusResponse::new("ok")))
    } else {
        Err(ApiError::Unavailable("Database unavailable".into()))
    }
}
