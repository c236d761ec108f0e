//! The HTTP client of the Council API (`API.md`): one method per endpoint,
//! the council's server-sent events as a stream, and transparent renewal of
//! an expired access token with the refresh token.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use council_shared::{
    ApiKeyRequest, ApiKeyResponse, AssistantMessage, Conversation, ConversationSummary,
    CouncilEvent, CreateConversationRequest, Credentials, DeleteAccountRequest, ErrorBody,
    ModelsResponse, PasswordChangeRequest, RefreshRequest, RenameConversationRequest,
    SendMessageRequest, StatusResponse, TokenResponse, UserResponse,
};
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Overall limit of every call except the two that wait for a council.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Silence after which an event stream counts as dropped: the server sends
/// a keep-alive comment at least every 15 seconds, so a minute without a
/// byte means the connection is dead even if TCP has not noticed.
const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Access and refresh token of a signed-in user.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// Sent as `Authorization: Bearer` on every authenticated call.
    pub access_token: String,
    /// Exchanged for a new pair when the access token expires.
    pub refresh_token: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Session { .. }")
    }
}

impl From<TokenResponse> for Session {
    fn from(tokens: TokenResponse) -> Self {
        Self {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
        }
    }
}

/// Why a call failed. Messages are fit to show the user and never hold a
/// token, a password or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server answered an error: its status and `detail`.
    #[error("{detail}")]
    Api {
        /// The HTTP status, e.g. 404.
        status: u16,
        /// The answer's `detail`, or the status's reason when it had none.
        detail: String,
    },
    /// No session, or the refresh token was refused: sign in again.
    #[error("Your session has expired. Please sign in again.")]
    SessionExpired,
    /// The server could not be reached, or the connection broke.
    #[error("Cannot reach the server: {0}")]
    Network(String),
    /// The server answered something this client does not understand.
    #[error("Unexpected answer from the server: {0}")]
    Protocol(String),
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Api`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The events of one council run, ending after `complete` or `error`.
pub type EventStream = futures_util::stream::BoxStream<'static, Result<CouncilEvent, ClientError>>;

/// Told about every new session (or its end); see [`Client::on_session_change`].
type SessionCallback = Arc<dyn Fn(Option<Session>) + Send + Sync>;

/// A client of one Council server. Cheap to clone: clones share the
/// connection pool and the session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// As given to [`Client::new`], without a trailing `/`.
    base_url: String,
    /// The same, parsed; endpoint paths are appended to its path.
    base: Url,
    /// `scheme://host:port`, for messages (never user or password).
    origin: String,
    http: reqwest::Client,
    session: Mutex<Option<Session>>,
    callback: Mutex<Option<SessionCallback>>,
    /// Held while refreshing, so concurrent 401s cause a single refresh: a
    /// refresh token presented twice makes the server revoke the login.
    refresh_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.inner.base.clone();
        // A URL may carry credentials; Debug output must not.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        f.debug_struct("Client")
            .field("base_url", &shown.as_str().trim_end_matches('/'))
            .finish_non_exhaustive()
    }
}

/// One request, kept so that it can be sent again after a token refresh.
struct Call {
    method: Method,
    url: Url,
    /// Method and path pattern, for error messages (ids and queries left out).
    label: &'static str,
    /// Serialised JSON body.
    body: Option<Vec<u8>>,
    /// Overall limit; `None` for the calls that wait for a council.
    timeout: Option<Duration>,
}

impl Client {
    /// A client of the server at `base_url` (`http://` or `https://`; a
    /// trailing `/` is ignored). No request is made.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        // The URL itself is not echoed: it may carry a user and password.
        let invalid =
            || ClientError::Network("the server URL must be an http:// or https:// URL".to_owned());
        let base = Url::parse(&base_url).map_err(|_| invalid())?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid());
        }
        let origin = base.origin().ascii_serialization();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("council-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Network(format!("cannot set up HTTP: {}", cause(&e))))?;
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                base,
                origin,
                http,
                session: Mutex::new(None),
                callback: Mutex::new(None),
                refresh_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The server's URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Uses `session` from now on (e.g. tokens read from the config file).
    /// Does not call the [`Client::on_session_change`] callback: the caller
    /// already knows.
    pub fn set_session(&self, session: Option<Session>) {
        *self.session_slot() = session;
    }

    /// The current tokens, if signed in.
    pub fn session(&self) -> Option<Session> {
        self.session_slot().clone()
    }

    /// Called (synchronously, from whatever task) every time the tokens
    /// change: after register/login/refresh with Some, after logout or a
    /// failed refresh with None. The app persists them to the config file.
    pub fn on_session_change(&self, callback: Arc<dyn Fn(Option<Session>) + Send + Sync>) {
        *self
            .inner
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(callback);
    }

    // ------------------------------------------------------------ accounts

    /// Creates an account and signs in with it.
    pub async fn register(&self, email: &str, password: &str) -> Result<Session, ClientError> {
        self.sign_in(
            &["api", "auth", "register"],
            "POST /api/auth/register",
            email,
            password,
        )
        .await
    }

    /// Signs in.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session, ClientError> {
        self.sign_in(
            &["api", "auth", "login"],
            "POST /api/auth/login",
            email,
            password,
        )
        .await
    }

    /// Revokes the refresh token on the server (POST /api/auth/logout) and
    /// forgets the session locally even if the server refuses or is
    /// unreachable. Without a session it does nothing. A 401 (the token was
    /// already expired or revoked) counts as success: the login is over
    /// either way; other failures are returned after the session is gone.
    pub async fn logout(&self) -> Result<(), ClientError> {
        // Wait for a refresh in flight, so the token revoked is the newest.
        let session = {
            let _refreshing = self.inner.refresh_lock.lock().await;
            self.session_slot().take()
        };
        let Some(session) = session else {
            return Ok(());
        };
        // Forget (and let the app persist that) before the request, so
        // nothing depends on the server answering.
        self.notify(None);
        let call = self.call(
            Method::POST,
            &["api", "auth", "logout"],
            "POST /api/auth/logout",
            Some(&RefreshRequest {
                refresh_token: session.refresh_token,
            }),
        )?;
        let resp = self.send(&call, None).await?;
        if resp.status().is_success() || resp.status() == StatusCode::UNAUTHORIZED {
            return Ok(());
        }
        Err(api_error(resp).await)
    }

    /// The signed-in user.
    pub async fn me(&self) -> Result<UserResponse, ClientError> {
        let call = self.call(
            Method::GET,
            &["api", "auth", "me"],
            "GET /api/auth/me",
            None::<&()>,
        )?;
        self.authed_json(call).await
    }

    /// Changes the password. The server then revokes every refresh token of
    /// the user, this client's too, so the client signs in again with the
    /// new password to stay signed in; if that fails the session ends (the
    /// change itself still succeeded, so this returns `Ok`).
    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), ClientError> {
        let call = self.call(
            Method::POST,
            &["api", "auth", "password"],
            "POST /api/auth/password",
            Some(&PasswordChangeRequest {
                current_password: current.to_owned(),
                new_password: new.to_owned(),
            }),
        )?;
        let _: StatusResponse = self.authed_json(call).await?;
        let signed_in_again = match self.me().await {
            Ok(user) => self.login(&user.email, new).await.map(drop),
            Err(e) => Err(e),
        };
        if let Err(error) = signed_in_again {
            tracing::warn!(%error, "could not sign in again after the password change");
            self.end_session();
        }
        Ok(())
    }

    /// Deletes the account with everything in it; the session ends.
    pub async fn delete_account(&self, password: &str) -> Result<(), ClientError> {
        let call = self.call(
            Method::DELETE,
            &["api", "auth", "me"],
            "DELETE /api/auth/me",
            Some(&DeleteAccountRequest {
                password: password.to_owned(),
            }),
        )?;
        let _: StatusResponse = self.authed_json(call).await?;
        self.end_session();
        Ok(())
    }

    // ------------------------------------------------------- provider keys

    /// The saved provider keys (hints only).
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyResponse>, ClientError> {
        let call = self.call(
            Method::GET,
            &["api", "settings", "api-keys"],
            "GET /api/settings/api-keys",
            None::<&()>,
        )?;
        self.authed_json(call).await
    }

    /// Saves (or replaces) the OpenRouter key.
    pub async fn save_api_key(&self, api_key: &str) -> Result<ApiKeyResponse, ClientError> {
        self.save_provider_key(api_key, None).await
    }

    /// Saves (or replaces) the key of `provider` (the server's default,
    /// OpenRouter, when `None`).
    pub async fn save_provider_key(
        &self,
        api_key: &str,
        provider: Option<&str>,
    ) -> Result<ApiKeyResponse, ClientError> {
        let call = self.call(
            Method::POST,
            &["api", "settings", "api-key"],
            "POST /api/settings/api-key",
            Some(&ApiKeyRequest {
                api_key: api_key.to_owned(),
                provider: provider.map(str::to_owned),
            }),
        )?;
        self.authed_json(call).await
    }

    /// Deletes the key of `provider` (e.g. `openrouter`).
    pub async fn delete_api_key(&self, provider: &str) -> Result<(), ClientError> {
        let call = self.call(
            Method::DELETE,
            &["api", "settings", "api-key", provider],
            "DELETE /api/settings/api-key/{provider}",
            None::<&()>,
        )?;
        let _: StatusResponse = self.authed_json(call).await?;
        Ok(())
    }

    /// The server's model catalogue and defaults.
    pub async fn models(&self) -> Result<ModelsResponse, ClientError> {
        let call = self.call(
            Method::GET,
            &["api", "models"],
            "GET /api/models",
            None::<&()>,
        )?;
        self.authed_json(call).await
    }

    // ------------------------------------------------------- conversations

    /// The user's conversations, newest activity first; with `query` (not
    /// empty), only those whose title or messages contain it.
    pub async fn conversations(
        &self,
        query: Option<&str>,
    ) -> Result<Vec<ConversationSummary>, ClientError> {
        let mut call = self.call(
            Method::GET,
            &["api", "conversations"],
            "GET /api/conversations",
            None::<&()>,
        )?;
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            // Form-encoded, so `%`, `&`, `+` and spaces arrive as typed.
            call.url.query_pairs_mut().append_pair("q", q);
        }
        self.authed_json(call).await
    }

    /// One conversation with all its messages.
    pub async fn conversation(&self, id: Uuid) -> Result<Conversation, ClientError> {
        let call = self.call(
            Method::GET,
            &["api", "conversations", &id.to_string()],
            "GET /api/conversations/{id}",
            None::<&()>,
        )?;
        self.authed_json(call).await
    }

    /// A new, empty conversation; `None` takes the server's defaults.
    pub async fn create_conversation(
        &self,
        models: Option<Vec<String>>,
        lead_model: Option<String>,
    ) -> Result<Conversation, ClientError> {
        let call = self.call(
            Method::POST,
            &["api", "conversations"],
            "POST /api/conversations",
            Some(&CreateConversationRequest { models, lead_model }),
        )?;
        self.authed_json(call).await
    }

    /// Gives a conversation a new title.
    pub async fn rename_conversation(
        &self,
        id: Uuid,
        title: &str,
    ) -> Result<ConversationSummary, ClientError> {
        let call = self.call(
            Method::PATCH,
            &["api", "conversations", &id.to_string()],
            "PATCH /api/conversations/{id}",
            Some(&RenameConversationRequest {
                title: title.to_owned(),
            }),
        )?;
        self.authed_json(call).await
    }

    /// Deletes a conversation.
    pub async fn delete_conversation(&self, id: Uuid) -> Result<(), ClientError> {
        let call = self.call(
            Method::DELETE,
            &["api", "conversations", &id.to_string()],
            "DELETE /api/conversations/{id}",
            None::<&()>,
        )?;
        let _: StatusResponse = self.authed_json(call).await?;
        Ok(())
    }

    /// POST .../message: waits for the council. A failed run (502) is
    /// ClientError::Api{status:502, detail}.
    pub async fn send_message(
        &self,
        id: Uuid,
        content: &str,
    ) -> Result<AssistantMessage, ClientError> {
        let mut call = self.call(
            Method::POST,
            &["api", "conversations", &id.to_string(), "message"],
            "POST /api/conversations/{id}/message",
            Some(&SendMessageRequest {
                content: content.to_owned(),
            }),
        )?;
        // A council takes as long as its slowest model.
        call.timeout = None;
        self.authed_json(call).await
    }

    /// POST .../message/stream: returns once the server accepted (200) —
    /// errors like 400 no key / 409 come back as Err here — then yields
    /// events until `complete` or `error` (inclusive) and ends. Keep-alive
    /// comments are skipped; an event that is not a [`CouncilEvent`] is an
    /// `Err(Protocol)` item (the stream goes on); a connection dropped (or
    /// silent for a minute) before the last event is an `Err(Network)` item,
    /// and the stream ends. Dropping the stream does not stop the run.
    pub async fn stream_message(
        &self,
        id: Uuid,
        content: &str,
    ) -> Result<EventStream, ClientError> {
        let mut call = self.call(
            Method::POST,
            &["api", "conversations", &id.to_string(), "message", "stream"],
            "POST /api/conversations/{id}/message/stream",
            Some(&SendMessageRequest {
                content: content.to_owned(),
            }),
        )?;
        call.timeout = None;
        let resp = self.authed(&call).await?;
        let is_event_stream = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if !is_event_stream {
            return Err(ClientError::Protocol(format!(
                "{}: the answer is not an event stream",
                call.label
            )));
        }
        Ok(council_events(resp, self.network_reporter()))
    }

    /// Stops the council running in a conversation; 404 when none runs.
    pub async fn cancel(&self, id: Uuid) -> Result<(), ClientError> {
        let call = self.call(
            Method::POST,
            &["api", "conversations", &id.to_string(), "cancel"],
            "POST /api/conversations/{id}/cancel",
            None::<&()>,
        )?;
        let _: StatusResponse = self.authed_json(call).await?;
        Ok(())
    }

    // ----------------------------------------------------------- internals

    fn session_slot(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        // A panic elsewhere while holding the lock cannot leave a half-written
        // Option behind, so a poisoned lock is still usable.
        self.inner
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the app about a new session (or its end). Called with no lock
    /// held, so the callback may use the client.
    fn notify(&self, session: Option<Session>) {
        let callback = self
            .inner
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(callback) = callback {
            callback(session);
        }
    }

    /// Sets the session and tells the app.
    fn start_session(&self, session: Session) {
        *self.session_slot() = Some(session.clone());
        self.notify(Some(session));
    }

    /// Forgets the session and tells the app, if there was one.
    fn end_session(&self) {
        let had = self.session_slot().take().is_some();
        if had {
            self.notify(None);
        }
    }

    /// Replaces the session only if it still is `expected` (a sign-in may
    /// have happened meanwhile, which must win), telling the app.
    fn replace_session(&self, expected: &Session, next: Option<Session>) {
        let replaced = {
            let mut slot = self.session_slot();
            if slot.as_ref() == Some(expected) {
                *slot = next.clone();
                true
            } else {
                false
            }
        };
        if replaced {
            self.notify(next);
        }
    }

    async fn sign_in(
        &self,
        path: &[&str],
        label: &'static str,
        email: &str,
        password: &str,
    ) -> Result<Session, ClientError> {
        let call = self.call(
            Method::POST,
            path,
            label,
            Some(&Credentials {
                email: email.to_owned(),
                password: password.to_owned(),
            }),
        )?;
        let resp = success(self.send(&call, None).await?).await?;
        let tokens: TokenResponse = read_json(resp, label).await?;
        let session = Session::from(tokens);
        self.start_session(session.clone());
        Ok(session)
    }

    /// Describes a request to `path` (segments below the base URL, each
    /// percent-encoded as needed) with an optional JSON body.
    fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &[&str],
        label: &'static str,
        body: Option<&B>,
    ) -> Result<Call, ClientError> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::Network("the server URL cannot have paths".to_owned()))?
            .pop_if_empty()
            .extend(path);
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|_| ClientError::Protocol(format!("{label}: cannot encode the request")))?;
        Ok(Call {
            method,
            url,
            label,
            body,
            timeout: Some(REQUEST_TIMEOUT),
        })
    }

    /// Sends `call` once, with `token` as bearer if given. Any answer is Ok.
    async fn send(&self, call: &Call, token: Option<&str>) -> Result<Response, ClientError> {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone());
        if let Some(token) = token {
            // bearer_auth marks the header sensitive, keeping it out of logs.
            request = request.bearer_auth(token);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        if let Some(timeout) = call.timeout {
            request = request.timeout(timeout);
        }
        let resp = request.send().await.map_err(|e| self.network(&e))?;
        tracing::debug!(
            call = call.label,
            status = resp.status().as_u16(),
            "council API"
        );
        Ok(resp)
    }

    /// Sends an authenticated call; on 401 refreshes the tokens once and
    /// sends it again. Returns a successful answer or the error.
    async fn authed(&self, call: &Call) -> Result<Response, ClientError> {
        let session = self.session().ok_or(ClientError::SessionExpired)?;
        let resp = self.send(call, Some(&session.access_token)).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return success(resp).await;
        }
        // Any 401 may be an expired token: the API does not tell them apart
        // from, say, a wrong current password, which the retry reports.
        drop(resp);
        let fresh = self.refresh_after(&session).await?;
        success(self.send(call, Some(&fresh.access_token)).await?).await
    }

    async fn authed_json<T: DeserializeOwned>(&self, call: Call) -> Result<T, ClientError> {
        let resp = self.authed(&call).await?;
        read_json(resp, call.label).await
    }

    /// New tokens after `failed` was answered 401. Single-flight: whoever
    /// gets the lock second finds the session already renewed and uses it.
    async fn refresh_after(&self, failed: &Session) -> Result<Session, ClientError> {
        let _refreshing = self.inner.refresh_lock.lock().await;
        let current = self.session().ok_or(ClientError::SessionExpired)?;
        if current.access_token != failed.access_token {
            return Ok(current);
        }
        let label = "POST /api/auth/refresh";
        let call = self.call(
            Method::POST,
            &["api", "auth", "refresh"],
            label,
            Some(&RefreshRequest {
                refresh_token: current.refresh_token.clone(),
            }),
        )?;
        // A network error keeps the session: the server may be back soon.
        let resp = self.send(&call, None).await?;
        let status = resp.status();
        if status.is_success() {
            let fresh = Session::from(read_json::<TokenResponse>(resp, label).await?);
            self.replace_session(&current, Some(fresh.clone()));
            return Ok(fresh);
        }
        // Too many requests or a timeout says nothing about the token.
        let transient = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT
        );
        if status.is_client_error() && !transient {
            tracing::info!(
                status = status.as_u16(),
                "refresh token refused; signed out"
            );
            self.replace_session(&current, None);
            return Err(ClientError::SessionExpired);
        }
        Err(api_error(resp).await)
    }

    /// A [`ClientError::Network`] for a failed request.
    fn network(&self, error: &reqwest::Error) -> ClientError {
        self.network_reporter().error(error)
    }

    fn network_reporter(&self) -> NetworkReporter {
        NetworkReporter {
            origin: self.inner.origin.clone(),
        }
    }
}

/// Turns transport failures into [`ClientError::Network`], naming the
/// server's origin but never a full URL; outlives the client (for streams).
#[derive(Clone)]
struct NetworkReporter {
    origin: String,
}

impl NetworkReporter {
    fn error(&self, error: &reqwest::Error) -> ClientError {
        let origin = &self.origin;
        let what = if error.is_timeout() {
            format!("{origin} did not answer in time")
        } else if error.is_connect() {
            format!("cannot connect to {origin}")
        } else if error.is_body() || error.is_decode() {
            format!("the connection to {origin} broke")
        } else {
            format!("the request to {origin} failed")
        };
        ClientError::Network(format!("{what} ({})", cause(error)))
    }
}

/// The innermost I/O error of `error` (e.g. "Connection refused"), which
/// unlike reqwest's own message holds no URL.
fn cause(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut found = None;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            found = Some(io.to_string());
        }
        source = e.source();
    }
    found.unwrap_or_else(|| {
        if error.is_timeout() {
            "timed out".to_owned()
        } else {
            "no details".to_owned()
        }
    })
}

/// `resp` if it is a success, else its error.
async fn success(resp: Response) -> Result<Response, ClientError> {
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(api_error(resp).await)
    }
}

/// The [`ClientError::Api`] of an error answer: its `detail`, or the
/// status's reason when the body is not the API's error JSON (a proxy's
/// page, say).
async fn api_error(resp: Response) -> ClientError {
    let status = resp.status();
    let detail = resp
        .bytes()
        .await
        .ok()
        .and_then(|body| serde_json::from_slice::<ErrorBody>(&body).ok())
        .map(|body| body.detail)
        .filter(|detail| !detail.trim().is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .map_or_else(|| format!("HTTP status {}", status.as_u16()), str::to_owned)
        });
    ClientError::Api {
        status: status.as_u16(),
        detail,
    }
}

/// The JSON body of a successful answer.
async fn read_json<T: DeserializeOwned>(
    resp: Response,
    label: &'static str,
) -> Result<T, ClientError> {
    let body = resp.bytes().await.map_err(|e| {
        ClientError::Network(format!("the answer to {label} broke off ({})", cause(&e)))
    })?;
    // serde_json's message can quote the body (tokens, for sign-in), so
    // only the position is reported.
    serde_json::from_slice(&body).map_err(|e| {
        ClientError::Protocol(format!(
            "{label}: the answer is not the expected JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// The council events of a `text/event-stream` answer, until the last one.
fn council_events(resp: Response, network: NetworkReporter) -> EventStream {
    // Bytes with an idle limit: keep-alive comments reset it, a silent
    // (dead) connection ends the stream instead of hanging forever.
    let body = Box::pin(resp.bytes_stream());
    let bytes = futures_util::stream::unfold(Some((body, network)), |state| async move {
        let (mut body, network) = state?;
        match tokio::time::timeout(STREAM_IDLE_TIMEOUT, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some((body, network)))),
            Ok(Some(Err(e))) => Some((Err(network.error(&e)), None)),
            Ok(None) => None,
            Err(_) => Some((
                Err(ClientError::Network(format!(
                    "no data from the server for {} seconds",
                    STREAM_IDLE_TIMEOUT.as_secs()
                ))),
                None,
            )),
        }
    });
    let events = Box::pin(bytes.eventsource());
    futures_util::stream::unfold(Some(events), |state| async move {
        // `None` once the last event (or a failure) has been yielded.
        let mut events = state?;
        let item = match events.next().await {
            Some(Ok(event)) => match serde_json::from_str::<CouncilEvent>(&event.data) {
                Ok(event) if event.is_terminal() => return Some((Ok(event), None)),
                Ok(event) => Ok(event),
                Err(e) => Err(ClientError::Protocol(format!(
                    "an event is not a council event (line {}, column {})",
                    e.line(),
                    e.column()
                ))),
            },
            Some(Err(EventStreamError::Transport(e))) => {
                return Some((Err(e), None));
            }
            // The parser cannot resync after bad bytes; stop here.
            Some(Err(EventStreamError::Utf8(_) | EventStreamError::Parser(_))) => {
                return Some((
                    Err(ClientError::Protocol(
                        "the event stream is malformed".to_owned(),
                    )),
                    None,
                ));
            }
            None => {
                return Some((
                    Err(ClientError::Network(
                        "the connection closed before the council finished".to_owned(),
                    )),
                    None,
                ));
            }
        };
        Some((item, Some(events)))
    })
    .boxed()
}
