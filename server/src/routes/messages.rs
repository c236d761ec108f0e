//! Sending a message: `/message` waits for the council, `/message/stream`
//! follows it live, `/cancel` stops it.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use council_shared::validate;
use council_shared::{
    AssistantMessage, CouncilEvent, DEFAULT_PROVIDER, ErrorBody, RunStatus, SendMessageRequest,
    StatusResponse,
};
use futures_util::stream;
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use super::conversations::conversation_id;
use crate::auth::AuthUser;
use crate::council::prompts::Turn;
use crate::council::{RunRequest, StartError, StartedRun};
use crate::db::{api_keys, conversations, messages};
use crate::error::ApiError;
use crate::state::AppState;

/// The contract's exact words (API.md) for a user without a key.
pub const NO_KEY: &str = "No API key configured. Please add your OpenRouter API key in Settings.";
/// How long `/cancel` waits for the run to store its end.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send))
        .routes(routes!(send_stream))
        .routes(routes!(cancel))
}

impl From<StartError> for ApiError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::AlreadyRunning => ApiError::Conflict(e.to_string()),
            StartError::ShuttingDown => ApiError::Unavailable(e.to_string()),
            StartError::Db(e) => e.into(),
        }
    }
}

/// Checks everything, then stores the question and starts the council.
async fn start(
    state: &AppState,
    user: AuthUser,
    raw_id: &str,
    body: SendMessageRequest,
) -> Result<StartedRun, ApiError> {
    let id = conversation_id(raw_id)?;
    validate::content(&body.content)?;
    let user_id = user.id;
    let found = state
        .db
        .read(move |c| {
            let Some(conv) = conversations::find(c, user_id, id)? else {
                return Ok(None);
            };
            let turns = messages::turns(c, id)?;
            let key = api_keys::find(c, user_id, DEFAULT_PROVIDER)?;
            Ok(Some((conv, turns, key)))
        })
        .await?;
    let (conv, turns, key) = found.ok_or_else(|| ApiError::not_found("Conversation"))?;
    let key = key.ok_or_else(|| ApiError::BadRequest(NO_KEY.into()))?;
    let key = state
        .sealer
        .open(&user.id.to_string(), &key.provider, &key.encrypted_key)
        .map_err(|e| {
            tracing::warn!(user_id = %user.id, error = %e, "a saved provider key does not open");
            ApiError::BadRequest(
                "Your saved API key can no longer be read by the server. Please save it again in Settings.".into(),
            )
        })?;
    let request = RunRequest {
        conversation_id: conv.id.into(),
        question: body.content,
        models: crate::convert::summary(&conv).models,
        lead_model: conv.lead_model.clone(),
        history: history(&turns),
        first_message: conv.message_count == 0,
    };
    Ok(state.council.start_run(request, key).await?)
}

/// Earlier questions, each with the council's final answer if it has one.
fn history(turns: &[(String, String)]) -> Vec<Turn> {
    let mut out: Vec<Turn> = Vec::new();
    for (role, content) in turns {
        if role == messages::ROLE_USER {
            out.push(Turn {
                question: content.clone(),
                answer: None,
            });
        } else if let Some(last) = out.last_mut().filter(|_| !content.is_empty()) {
            last.answer = Some(content.clone());
        }
    }
    out
}

/// Waits for the council; a failed run answers 502 with its error.
#[utoipa::path(post, path = "/api/conversations/{id}/message", tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id (UUID)")),
    request_body = SendMessageRequest,
    responses(
        (status = 200, description = "The council finished `complete` or `partial`", body = AssistantMessage),
        (status = 400, description = "Empty or too long content, or no API key configured (nothing is stored)", body = ErrorBody),
        (status = 404, description = "No such conversation of this user", body = ErrorBody),
        (status = 409, description = "Another message of this conversation is still running", body = ErrorBody),
        (status = 502, description = "The council failed; the failed message stays in the conversation", body = ErrorBody),
        (status = 503, description = "The server is shutting down", body = ErrorBody),
    ))]
async fn send(
    user: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendMessageRequest>,
) -> Result<Json<AssistantMessage>, ApiError> {
    let mut started = start(&state, user, &id, body).await?;
    let message = started
        .done
        .wait_for(Option::is_some)
        .await
        .map_err(|_| ApiError::internal("the run ended without a result"))?
        .clone()
        .ok_or_else(|| ApiError::internal("the run ended without a result"))?;
    match message.status {
        RunStatus::Failed => Err(ApiError::BadGateway(message.error.unwrap_or_default())),
        _ => Ok(Json(message)),
    }
}

/// Follows the council as server-sent events; the stream ends after
/// `complete` or `error`. Going away does not stop the run.
#[utoipa::path(post, path = "/api/conversations/{id}/message/stream", tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id (UUID)")),
    request_body = SendMessageRequest,
    responses(
        (status = 200, description = "Server-sent events: each `data:` line is one `CouncilEvent` JSON; `: ping` comments keep the stream alive", content_type = "text/event-stream", body = CouncilEvent),
        (status = 400, description = "Empty or too long content, or no API key configured (nothing is stored)", body = ErrorBody),
        (status = 404, description = "No such conversation of this user", body = ErrorBody),
        (status = 409, description = "Another message of this conversation is still running", body = ErrorBody),
        (status = 503, description = "The server is shutting down", body = ErrorBody),
    ))]
async fn send_stream(
    user: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendMessageRequest>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let started = start(&state, user, &id, body).await?;
    let created = CouncilEvent::MessageCreated {
        user_message_id: started.user_message_id,
        assistant_message_id: started.assistant_message_id,
    };
    let live = stream::unfold(Some(started.events), |receiver| async move {
        let mut receiver = receiver?;
        loop {
            match receiver.recv().await {
                Ok(event) => {
                    let next = (!event.is_terminal()).then_some(receiver);
                    return Some((event, next));
                }
                // Fell behind: some deltas are lost, the final message is not.
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(skipped, "a stream listener fell behind");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let events = stream::iter([created])
        .chain(live)
        .map(|event| Ok(to_sse(&event)));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(state.sse_keep_alive).text("ping")))
}

fn to_sse(event: &CouncilEvent) -> Event {
    Event::default().data(serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned()))
}

/// Stops the conversation's running council; answers once its end is stored.
#[utoipa::path(post, path = "/api/conversations/{id}/cancel", tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id (UUID)")),
    responses(
        (status = 200, description = "`{\"status\":\"cancelled\"}`: the run ends `failed` with `Cancelled`, finished stages kept", body = StatusResponse),
        (status = 404, description = "Nothing running, or no such conversation of this user", body = ErrorBody),
    ))]
async fn cancel(
    user: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StatusResponse>, ApiError> {
    let id = conversation_id(&id)?;
    let user_id = user.id;
    state
        .db
        .read(move |c| conversations::find(c, user_id, id))
        .await?
        .ok_or_else(|| ApiError::not_found("Conversation"))?;
    let mut done = state
        .council
        .cancel(id)
        .ok_or_else(|| ApiError::NotFound("No council is running in this conversation".into()))?;
    let _ = tokio::time::timeout(CANCEL_WAIT, done.wait_for(Option::is_some)).await;
    Ok(Json(StatusResponse::new("cancelled")))
}
