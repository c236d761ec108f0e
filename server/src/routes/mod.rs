//! The HTTP surface. Handlers are thin: parse, call, answer.

mod auth;
mod conversations;
mod health;
mod messages;
mod models;
mod openapi;
mod settings;

use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body accepted; larger ones get 413.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// `axum::Json`, but failures answer `{"detail"}` like every other error.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Every route of the API, each with its description. Routes are only
/// ever added here, through `routes!`, so what is served is what is
/// described.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes())
        .merge(settings::routes())
        .merge(models::routes())
        .merge(conversations::routes())
        .merge(messages::routes())
        .routes(routes!(openapi::serve))
}

/// The OpenAPI description served at `/api/openapi.json`.
pub fn description() -> utoipa::openapi::OpenApi {
    openapi::complete(api_routes().into_openapi())
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let (routes, description) = api_routes().split_for_parts();
    let description = openapi::DescriptionJson::new(&openapi::complete(description));
    routes
        .layer(Extension(description))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found".into())
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(council_shared::ErrorBody {
            detail: "Method Not Allowed".into(),
        }),
    )
        .into_response()
}

/// Safety net: an error answered by a layer or extractor outside our
/// control (it has no JSON body) gets the `{"detail"}` body all errors have.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.to_string(),
        other => other.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = axum::Json(council_shared::ErrorBody { detail });
    (parts, body).into_response()
}
