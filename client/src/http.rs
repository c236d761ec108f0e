//! One request as data, and reading the server's answers: success, the
//! API's `{"detail"}` errors, JSON bodies.

use std::time::Duration;

use council_shared::ErrorBody;
use reqwest::{Method, Response, Url};
use serde::de::DeserializeOwned;

use crate::error::{ClientError, cause};

/// How long establishing a connection may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Overall limit of every call except the two that wait for a council.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One request, kept so that it can be sent again after a token refresh.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// Method and path pattern, for error messages (ids and queries left out).
    pub(crate) label: &'static str,
    /// Serialised JSON body.
    pub(crate) body: Option<Vec<u8>>,
    /// Overall limit; `None` for the calls that wait for a council.
    pub(crate) timeout: Option<Duration>,
}

/// `resp` if it is a success, else its error.
pub(crate) async fn success(resp: Response) -> Result<Response, ClientError> {
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(api_error(resp).await)
    }
}

/// The [`ClientError::Api`] of an error answer: its `detail`, or the
/// status's reason when the body is not the API's error JSON (a proxy's
/// page, say).
pub(crate) async fn api_error(resp: Response) -> ClientError {
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
pub(crate) async fn read_json<T: DeserializeOwned>(
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
