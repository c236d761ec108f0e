//! `/api/conversations`: each user's own conversations. Another user's
//! conversation answers 404, exactly like a missing one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use council_shared::validate;
use council_shared::{
    Conversation, ConversationSummary, CreateConversationRequest, ErrorBody,
    RenameConversationRequest, StatusResponse,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use crate::auth::AuthUser;
use crate::convert;
use crate::db::{self, DbUuid, conversations, messages};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(fetch, rename, remove))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Keeps the conversations whose title or messages contain this text.
    q: Option<String>,
}

/// A path id; anything that is not a UUID cannot exist.
pub(super) fn conversation_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found("Conversation"))
}

/// The user's conversations, newest activity first.
#[utoipa::path(get, path = "/api/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The user's conversations", body = Vec<ConversationSummary>),
        (status = 400, description = "Malformed query or search text with a NUL character", body = ErrorBody),
    ))]
async fn list(
    user: AuthUser,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ConversationSummary>>, ApiError> {
    let Query(query) = query?;
    let text = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if text.as_deref().is_some_and(|t| t.contains('\0')) {
        return Err(ApiError::BadRequest(
            "Search text must not contain NUL characters".into(),
        ));
    }
    let rows = state
        .db
        .read(move |c| conversations::list(c, user.id, text.as_deref()))
        .await?;
    Ok(Json(rows.iter().map(convert::summary).collect()))
}

/// The body is optional: no body (or `{}`) takes the server's defaults.
#[utoipa::path(post, path = "/api/conversations", tag = "conversations",
    security(("bearer" = [])),
    request_body(content = Option<CreateConversationRequest>, description = "Optional: the council and the lead model; the server's defaults otherwise"),
    responses(
        (status = 200, description = "A new conversation without messages, titled `New Conversation`", body = Conversation),
        (status = 400, description = "Fewer than 2 distinct models, more than 8, or a malformed model id", body = ErrorBody),
    ))]
async fn create(
    user: AuthUser,
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Conversation>, ApiError> {
    let body = body.map_err(|e| match e.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest(e.body_text()),
    })?;
    let request: CreateConversationRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateConversationRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                ApiError::Unprocessable(format!("Invalid request body: {e}"))
            }
            _ => ApiError::BadRequest(format!("Malformed JSON: {e}")),
        })?
    };
    let models = match request.models {
        Some(models) => validate::council_models(&models)?,
        None => state.models.default_models.clone(),
    };
    let lead_model = match request.lead_model {
        Some(lead) => {
            let lead = lead.trim().to_owned();
            validate::model_id(&lead)?;
            lead
        }
        None => state.models.lead_model.clone(),
    };
    let now = db::now();
    let row = conversations::Conversation {
        id: DbUuid::new_v4(),
        user_id: user.id.into(),
        title: conversations::DEFAULT_TITLE.to_owned(),
        models: serde_json::to_string(&models).map_err(ApiError::internal)?,
        lead_model,
        message_count: 0,
        created_at: now,
        updated_at: now,
    };
    let created = convert::conversation(&row, &[]);
    state
        .db
        .write_query(move |c| conversations::insert(c, &row))
        .await?;
    Ok(Json(created))
}

/// One conversation with all its messages.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id (UUID)")),
    responses(
        (status = 200, description = "The conversation with its messages, oldest first", body = Conversation),
        (status = 404, description = "No such conversation of this user", body = ErrorBody),
    ))]
async fn fetch(
    user: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Conversation>, ApiError> {
    let id = conversation_id(&id)?;
    let found = state
        .db
        .read(move |c| {
            let Some(conv) = conversations::find(c, user.id, id)? else {
                return Ok(None);
            };
            let msgs = messages::list(c, conv.id.into())?;
            Ok(Some((conv, msgs)))
        })
        .await?;
    let (conv, msgs) = found.ok_or_else(|| ApiError::not_found("Conversation"))?;
    Ok(Json(convert::conversation(&conv, &msgs)))
}

/// Renames a conversation.
#[utoipa::path(patch, path = "/api/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id (UUID)")),
    request_body = RenameConversationRequest,
    responses(
        (status = 200, description = "The renamed conversation", body = ConversationSummary),
        (status = 400, description = "Empty title or over 200 characters", body = ErrorBody),
        (status = 404, description = "No such conversation of this user", body = ErrorBody),
    ))]
async fn rename(
    user: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameConversationRequest>,
) -> Result<Json<ConversationSummary>, ApiError> {
    let id = conversation_id(&id)?;
    let title = validate::title(&body.title)?;
    let now = db::now();
    let renamed = state
        .db
        .write_query(move |c| conversations::rename(c, user.id, id, &title, now))
        .await?
        .ok_or_else(|| ApiError::not_found("Conversation"))?;
    Ok(Json(convert::summary(&renamed)))
}

/// Deletes a conversation with its messages.
#[utoipa::path(delete, path = "/api/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id (UUID)")),
    responses(
        (status = 200, description = "`{\"status\":\"deleted\"}`", body = StatusResponse),
        (status = 404, description = "No such conversation of this user", body = ErrorBody),
    ))]
async fn remove(
    user: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StatusResponse>, ApiError> {
    let id = conversation_id(&id)?;
    let deleted = state
        .db
        .write_query(move |c| conversations::delete(c, user.id, id))
        .await?;
    if deleted {
        Ok(Json(StatusResponse::new("deleted")))
    } else {
        Err(ApiError::not_found("Conversation"))
    }
}
