//! The axum application: shared state, routes and the chat-completions
//! handler with its stream builder.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::answer;
use crate::behavior::{Behavior, Outcome, UsageReport};
use crate::record::{RecordedMessage, RecordedRequest};

/// The comment real OpenRouter sends while a model is thinking; clients must
/// skip SSE comments, so the fake sends one to keep them honest.
const PROCESSING_COMMENT: &str = ": OPENROUTER PROCESSING\n\n";
/// The fixed cost reported in a `usage` block that has one.
const FAKE_COST: f64 = 0.00001;

/// State shared by every handler and by the [`crate::FakeUpstream`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Reference point for [`RecordedRequest::received_at_ms`].
    started: Instant,
    /// Flips to `true` (or closes) when the fake shuts down; hanging
    /// requests wait on it so graceful shutdown is not blocked forever.
    shutdown: watch::Receiver<bool>,
    inner: Mutex<Inner>,
}

/// The mutable part of [`Shared`], behind one std mutex. Never held across
/// an `.await`: every access is a short synchronous block.
#[derive(Debug, Default)]
struct Inner {
    requests: Vec<RecordedRequest>,
    overrides: HashMap<String, Behavior>,
    default_latency: Duration,
    required_key: Option<String>,
    /// Calls per model id that passed authentication, for `FailFirst`.
    calls: HashMap<String, u64>,
}

impl Shared {
    pub(crate) fn new(shutdown: watch::Receiver<bool>) -> Shared {
        Shared {
            started: Instant::now(),
            shutdown,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Locks the state. A panic while holding the lock cannot leave it
    /// half-updated in a way that matters for a test fake, so poisoning is
    /// ignored instead of cascading panics into every later request.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub(crate) fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    pub(crate) fn set_behavior(&self, model: &str, behavior: Behavior) {
        self.lock().overrides.insert(model.to_owned(), behavior);
    }

    pub(crate) fn set_default_latency(&self, latency: Duration) {
        self.lock().default_latency = latency;
    }

    pub(crate) fn require_key(&self, key: &str) {
        self.lock().required_key = Some(key.to_owned());
    }

    fn record(&self, mut request: RecordedRequest) {
        let elapsed = self.started.elapsed().as_millis();
        request.received_at_ms = u64::try_from(elapsed).unwrap_or(u64::MAX);
        self.lock().requests.push(request);
    }

    /// Decides what this call does, counting it for `FailFirst`.
    fn plan(&self, model: &str) -> Plan {
        let mut inner = self.lock();
        let behavior = inner
            .overrides
            .get(model)
            .cloned()
            .unwrap_or_else(|| Behavior::from_model_id(model));
        let calls = inner.calls.entry(model.to_owned()).or_insert(0);
        let first_call = *calls == 0;
        *calls += 1;
        let outcome = match behavior.outcome {
            Outcome::FailFirst(status) if first_call => Outcome::Status(status),
            Outcome::FailFirst(_) => Outcome::Ok,
            other => other,
        };
        Plan {
            latency: behavior.latency.unwrap_or(inner.default_latency),
            outcome,
            reply: behavior.reply,
            usage: behavior.usage,
        }
    }

    /// Checks the `Authorization` header; `Some` is the rejection to send.
    fn check_auth(&self, authorization: Option<&str>) -> Option<Response> {
        let key = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|key| !key.is_empty());
        let Some(key) = key else {
            return Some(unauthorized());
        };
        if let Some(required) = &self.lock().required_key {
            return (key != required).then(unauthorized);
        }
        if key.contains("invalid") {
            return Some(unauthorized());
        }
        if key.contains("forbidden") {
            return Some(error_response(
                StatusCode::FORBIDDEN,
                "Key is not allowed to use this resource",
            ));
        }
        None
    }

    /// Resolves once the fake shuts down. Hanging requests await this
    /// rather than `std::future::pending` so they cost nothing while parked
    /// yet let graceful shutdown finish.
    async fn wait_for_shutdown(&self) {
        let mut shutdown = self.shutdown.clone();
        // An error means the sender is gone, which also means shutdown.
        let _ = shutdown.wait_for(|stop| *stop).await;
    }
}

/// What one call will do, resolved under the lock and acted on after it.
#[derive(Debug)]
struct Plan {
    latency: Duration,
    /// Never `FailFirst`: that is resolved to `Status` or `Ok` per call.
    outcome: Outcome,
    reply: Option<String>,
    usage: UsageReport,
}

/// Builds the application around `shared`.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/chat/completions", post(chat_completions))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/_requests", get(list_requests).delete(delete_requests))
        .with_state(shared)
}

async fn list_requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.requests())
}

async fn delete_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_requests();
    StatusCode::NO_CONTENT
}

/// The parts of a chat-completions body the fake cares about.
#[derive(Debug)]
struct ChatRequest {
    model: String,
    messages: Vec<RecordedMessage>,
    stream: bool,
    /// `"usage": {"include": true}`: OpenRouter then reports the cost.
    include_cost: bool,
}

impl ChatRequest {
    /// Reads the body leniently: unknown fields are ignored and odd shapes
    /// become defaults, because the fake should record whatever a client
    /// sent rather than reject it before it can be inspected.
    fn from_json(body: &Value) -> ChatRequest {
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .map(|messages| messages.iter().map(message_from_json).collect())
            .unwrap_or_default();
        ChatRequest {
            model: body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            messages,
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            include_cost: body
                .pointer("/usage/include")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

fn message_from_json(message: &Value) -> RecordedMessage {
    let role = message
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let content = match message.get("content") {
        Some(Value::String(text)) => text.clone(),
        // Multi-part content: keep the text parts, drop images etc.
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    RecordedMessage::new(role, content)
}

/// Every header, lower-case names (as `http` stores them), repeated values
/// joined so nothing a client sent is lost.
fn headers_to_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let request = parsed
        .as_ref()
        .map(ChatRequest::from_json)
        .unwrap_or(ChatRequest {
            model: String::new(),
            messages: Vec::new(),
            stream: false,
            include_cost: false,
        });
    let authorization = headers
        .get(AUTHORIZATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());

    // Record first, so tests can inspect even rejected or hanging calls.
    shared.record(RecordedRequest {
        authorization: authorization.clone(),
        model: request.model.clone(),
        messages: request.messages.clone(),
        stream: request.stream,
        headers: headers_to_map(&headers),
        received_at_ms: 0,
    });
    tracing::debug!(model = %request.model, stream = request.stream, "chat completion request");

    if let Some(rejection) = shared.check_auth(authorization.as_deref()) {
        return rejection;
    }
    if !parsed.as_ref().is_some_and(Value::is_object) {
        return error_response(StatusCode::BAD_REQUEST, "Request body is not a JSON object");
    }
    if request.model.is_empty() {
        return error_response(StatusCode::BAD_REQUEST, "No model specified");
    }

    let plan = shared.plan(&request.model);
    // A call takes its latency in all: a stream spends the last tenth of it
    // sending its later chunks (see `into_stream`).
    let before_first_byte = if request.stream {
        plan.latency - plan.latency / 10
    } else {
        plan.latency
    };
    tokio::time::sleep(before_first_byte).await;

    match plan.outcome {
        Outcome::Status(code) => status_response(code),
        Outcome::Hang => hang(&shared).await,
        Outcome::HangAfterFirstChunk if !request.stream => hang(&shared).await,
        Outcome::Malformed if request.stream => malformed_stream(),
        Outcome::Malformed => malformed_json(),
        Outcome::Ok | Outcome::FailFirst(_) | Outcome::HangAfterFirstChunk => {
            let content = plan
                .reply
                .unwrap_or_else(|| answer::generate(&request.model, &request.messages));
            let completion = Completion::new(&request, content, plan.usage);
            if request.stream {
                let hang_after_first = plan.outcome == Outcome::HangAfterFirstChunk;
                completion.into_stream(&shared, plan.latency, hang_after_first)
            } else {
                completion.into_json()
            }
        }
    }
}

/// Parks the request until shutdown; the client normally gives up first,
/// which drops this future.
async fn hang(shared: &Shared) -> Response {
    shared.wait_for_shutdown().await;
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "Fake upstream shutting down",
    )
}

/// A successful answer, ready to be sent whole or streamed.
#[derive(Debug)]
struct Completion {
    id: String,
    created: u64,
    model: String,
    content: String,
    prompt_tokens: u64,
    completion_tokens: u64,
    /// Whether `usage` is sent, and with a cost.
    report: UsageReport,
    include_cost: bool,
}

impl Completion {
    fn new(request: &ChatRequest, content: String, usage: UsageReport) -> Completion {
        let prompt_tokens = request
            .messages
            .iter()
            .map(|m| answer::count_words(&m.content))
            .sum();
        Completion {
            id: format!("gen-fake-{}", uuid::Uuid::new_v4().simple()),
            created: unix_now(),
            model: request.model.clone(),
            completion_tokens: answer::count_words(&content),
            content,
            prompt_tokens,
            report: usage,
            include_cost: request.include_cost,
        }
    }

    /// The `usage` block, if this answer has one.
    fn usage(&self) -> Option<Value> {
        let mut usage = json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        });
        match self.report {
            UsageReport::Absent => return None,
            UsageReport::Reported if self.include_cost => usage["cost"] = json!(FAKE_COST),
            UsageReport::Reported | UsageReport::NoCost => {}
        }
        Some(usage)
    }

    fn into_json(self) -> Response {
        let mut body = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": self.content},
                "finish_reason": "stop",
            }],
        });
        if let Some(usage) = self.usage() {
            body["usage"] = usage;
        }
        Json(body).into_response()
    }

    fn chunk(&self, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }

    /// The SSE frames of the whole stream, in order.
    fn frames(&self) -> Vec<String> {
        let mut frames = vec![PROCESSING_COMMENT.to_owned()];
        for (i, piece) in answer::split_for_stream(&self.content)
            .into_iter()
            .enumerate()
        {
            // Like OpenAI, only the first delta names the role.
            let delta = if i == 0 {
                json!({"role": "assistant", "content": piece})
            } else {
                json!({"content": piece})
            };
            let choices = json!([{"index": 0, "delta": delta, "finish_reason": null}]);
            frames.push(sse_data(&self.chunk(choices)));
        }
        let stop = json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]);
        frames.push(sse_data(&self.chunk(stop)));
        if let Some(usage) = self.usage() {
            let mut chunk = self.chunk(json!([]));
            chunk["usage"] = usage;
            frames.push(sse_data(&chunk));
        }
        frames.push("data: [DONE]\n\n".to_owned());
        frames
    }

    /// Streams the answer. Nine tenths of the latency have elapsed; the
    /// frames after the first chunk are spread over the last tenth, so
    /// clients see separate deltas and the whole call still takes the latency.
    fn into_stream(
        self,
        shared: &Arc<Shared>,
        latency: Duration,
        hang_after_first: bool,
    ) -> Response {
        let mut frames = self.frames();
        if hang_after_first {
            // The comment and one content chunk, then silence.
            frames.truncate(2);
        }
        // The comment and the first chunk go out together; the gaps are
        // between the later frames.
        let gaps = u32::try_from(frames.len().saturating_sub(2).max(1)).unwrap_or(u32::MAX);
        let gap = latency / 10 / gaps;
        let stream = FrameStream {
            frames: frames.into(),
            sent: 0,
            gap,
            hang_at_end: hang_after_first,
            shared: Arc::clone(shared),
        };
        sse_response(stream.into_body())
    }
}

/// The state of a streamed body, driven by `futures_util::stream::unfold`.
#[derive(Debug)]
struct FrameStream {
    frames: VecDeque<String>,
    sent: usize,
    gap: Duration,
    /// Instead of ending after the last frame, wait for shutdown.
    hang_at_end: bool,
    shared: Arc<Shared>,
}

impl FrameStream {
    fn into_body(self) -> Body {
        let stream = futures_util::stream::unfold(self, |mut state| async move {
            let Some(frame) = state.frames.pop_front() else {
                if state.hang_at_end {
                    // The body stays open with nothing more to say. If the
                    // client disconnects, hyper drops this stream.
                    state.shared.wait_for_shutdown().await;
                }
                return None;
            };
            // Frames after the comment and first chunk are paced.
            if state.sent >= 2 && !state.gap.is_zero() {
                tokio::time::sleep(state.gap).await;
            }
            state.sent += 1;
            Some((Ok::<_, Infallible>(frame), state))
        });
        Body::from_stream(stream)
    }
}

fn sse_data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

fn sse_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// 200 with a JSON content type and a truncated JSON body.
fn malformed_json() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        "{\"id\": \"gen-fake-broken\", \"choices\": [{\"message\": ",
    )
        .into_response()
}

/// An event stream whose data lines are not JSON, ending without `[DONE]`.
fn malformed_stream() -> Response {
    let frames = [
        PROCESSING_COMMENT,
        "data: {\"id\": \"gen-fake-broken\", \"choices\": [{\"delta\": \n\n",
        "data: this is not json\n\n",
    ];
    let stream = futures_util::stream::iter(frames.map(Ok::<_, Infallible>));
    sse_response(Body::from_stream(stream))
}

/// An OpenAI-style error for an arbitrary status code. Codes `http` cannot
/// represent become 500 rather than a panic.
fn status_response(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status {
        StatusCode::TOO_MANY_REQUESTS => "Rate limit exceeded (fake upstream)",
        StatusCode::BAD_REQUEST => "Bad request (fake upstream)",
        _ => "Upstream error (fake upstream)",
    };
    error_response(status, message)
}

fn unauthorized() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "No auth credentials found")
}

fn error_response(status: StatusCode, message: &str) -> Response {
    let body = Json(json!({"error": {"message": message, "code": status.as_u16()}}));
    let mut response = (status, body).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
