//! `GET /api/models`: the configured catalogue and defaults.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use council_shared::ModelsResponse;

use crate::auth::AuthUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(list))
}

async fn list(_user: AuthUser, State(state): State<AppState>) -> Json<ModelsResponse> {
    let m = &state.models;
    Json(ModelsResponse {
        models: m.catalogue.clone(),
        default_models: m.default_models.clone(),
        default_lead_model: m.lead_model.clone(),
    })
}
