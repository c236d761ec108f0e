//! `GET /api/models`: the configured catalogue and defaults.

use axum::Json;
use axum::extract::State;
use council_shared::ModelsResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The server's model catalogue and defaults.
#[utoipa::path(get, path = "/api/models", tag = "models",
    security(("bearer" = [])),
    responses((status = 200, description = "Catalogue and defaults", body = ModelsResponse)))]
async fn list(_user: AuthUser, State(state): State<AppState>) -> Json<ModelsResponse> {
    let m = &state.models;
    Json(ModelsResponse {
        models: m.catalogue.clone(),
        default_models: m.default_models.clone(),
        default_lead_model: m.lead_model.clone(),
    })
}
