//! One method per endpoint of API.md that a client needs: accounts,
//! provider keys, models, conversations and their councils.

use council_shared::{
    ApiKeyRequest, ApiKeyResponse, AssistantMessage, Conversation, ConversationSummary,
    CreateConversationRequest, DeleteAccountRequest, ModelsResponse, PasswordChangeRequest,
    RefreshRequest, RenameConversationRequest, SendMessageRequest, StatusResponse, UserResponse,
};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::client::Client;
use crate::error::ClientError;
use crate::http::api_error;
use crate::session::Session;
use crate::sse::{EventStream, council_events};

impl Client {
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
            let _refreshing = self.inner.sessions.refresh_lock.lock().await;
            self.inner.sessions.take()
        };
        let Some(session) = session else {
            return Ok(());
        };
        // Forget (and let the app persist that) before the request, so
        // nothing depends on the server answering.
        self.inner.sessions.notify(None);
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
            self.inner.sessions.end();
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
        self.inner.sessions.end();
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
}
