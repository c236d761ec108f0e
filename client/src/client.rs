//! [`Client`]: the connection to one server, its session, and the
//! transport every endpoint method of `api.rs` goes through (bearer token,
//! a single refresh on 401, errors without secrets).

use std::fmt;
use std::sync::Arc;

use council_shared::{Credentials, RefreshRequest, TokenResponse};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ClientError, NetworkReporter, cause};
use crate::http::{CONNECT_TIMEOUT, Call, REQUEST_TIMEOUT, read_json, success};
use crate::session::{Session, SessionCallback, Sessions};

/// A client of one Council server. Cheap to clone: clones share the
/// connection pool and the session.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// As given to [`Client::new`], without a trailing `/`.
    base_url: String,
    /// The same, parsed; endpoint paths are appended to its path.
    base: Url,
    /// `scheme://host:port`, for messages (never user or password).
    origin: String,
    http: reqwest::Client,
    pub(crate) sessions: Sessions,
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

impl Client {
    /// A client of the server at `base_url` (`http://` or `https://`; a
    /// trailing `/` is ignored). No request is made.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("council-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Network(format!("cannot set up HTTP: {}", cause(&e))))?;
        Self::with_http(base_url, http)
    }

    /// A client of the same server that shares this one's connection pool
    /// but has a session of its own (none yet) and no callback: one per
    /// user, for a program that acts as many users (tests, benchmarks).
    pub fn new_session(&self) -> Client {
        Client {
            inner: Arc::new(Inner {
                base_url: self.inner.base_url.clone(),
                base: self.inner.base.clone(),
                origin: self.inner.origin.clone(),
                http: self.inner.http.clone(),
                sessions: Sessions::new(),
            }),
        }
    }

    fn with_http(base_url: &str, http: reqwest::Client) -> Result<Client, ClientError> {
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        // The URL itself is not echoed: it may carry a user and password.
        let invalid =
            || ClientError::Network("the server URL must be an http:// or https:// URL".to_owned());
        let base = Url::parse(&base_url).map_err(|_| invalid())?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid());
        }
        let origin = base.origin().ascii_serialization();
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                base,
                origin,
                http,
                sessions: Sessions::new(),
            }),
        })
    }

    /// The server's URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Uses `session` from now on (e.g. tokens read from the state file).
    /// Does not call the [`Client::on_session_change`] callback: the caller
    /// already knows.
    pub fn set_session(&self, session: Option<Session>) {
        self.inner.sessions.set(session);
    }

    /// The current tokens, if signed in.
    pub fn session(&self) -> Option<Session> {
        self.inner.sessions.get()
    }

    /// Called (synchronously, from whatever task) every time the tokens
    /// change: after register/login/refresh with Some, after logout or a
    /// failed refresh with None. The app persists them to the state file.
    pub fn on_session_change(&self, callback: SessionCallback) {
        self.inner.sessions.on_change(callback);
    }

    // ----------------------------------------------------------- transport

    /// Registers or signs in at `path`; the new session is kept and told.
    pub(crate) async fn sign_in(
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
        self.inner.sessions.start(session.clone());
        Ok(session)
    }

    /// Describes a request to `path` (segments below the base URL, each
    /// percent-encoded as needed) with an optional JSON body.
    pub(crate) fn call<B: Serialize + ?Sized>(
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
    pub(crate) async fn send(
        &self,
        call: &Call,
        token: Option<&str>,
    ) -> Result<Response, ClientError> {
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
    pub(crate) async fn authed(&self, call: &Call) -> Result<Response, ClientError> {
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

    /// [`Client::authed`], then the answer's JSON.
    pub(crate) async fn authed_json<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<T, ClientError> {
        let resp = self.authed(&call).await?;
        read_json(resp, call.label).await
    }

    /// New tokens after `failed` was answered 401. Single-flight: whoever
    /// gets the lock second finds the session already renewed and uses it.
    async fn refresh_after(&self, failed: &Session) -> Result<Session, ClientError> {
        let sessions = &self.inner.sessions;
        let _refreshing = sessions.refresh_lock.lock().await;
        let current = sessions.get().ok_or(ClientError::SessionExpired)?;
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
            sessions.replace(&current, Some(fresh.clone()));
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
            sessions.replace(&current, None);
            return Err(ClientError::SessionExpired);
        }
        Err(crate::http::api_error(resp).await)
    }

    /// A [`ClientError::Network`] for a failed request.
    fn network(&self, error: &reqwest::Error) -> ClientError {
        self.network_reporter().error(error)
    }

    /// What an event stream keeps to report its own transport failures.
    pub(crate) fn network_reporter(&self) -> NetworkReporter {
        NetworkReporter {
            origin: self.inner.origin.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_paths_go_below_the_base_and_are_encoded() {
        let client = Client::new("https://council.example.com/base/").expect("valid");
        let call = client
            .call(
                Method::DELETE,
                &["api", "settings", "api-key", "a/b c"],
                "DELETE /api/settings/api-key/{provider}",
                None::<&()>,
            )
            .expect("a call");
        assert_eq!(
            call.url.as_str(),
            "https://council.example.com/base/api/settings/api-key/a%2Fb%20c"
        );
    }

    #[test]
    fn a_new_session_shares_the_server_but_not_the_tokens() {
        let client = Client::new("http://127.0.0.1:8001").expect("valid");
        client.set_session(Some(Session {
            access_token: "a".into(),
            refresh_token: "r".into(),
        }));
        let other = client.new_session();
        assert_eq!(other.base_url(), client.base_url());
        assert_eq!(other.session(), None);
        assert!(client.session().is_some());
    }
}
