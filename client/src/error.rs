//! [`ClientError`], the one error of every call, and the translation of
//! transport failures into it without leaking a URL.

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

/// Turns transport failures into [`ClientError::Network`], naming the
/// server's origin but never a full URL (it may carry a user and password);
/// owned, so an event stream can keep it after the client is gone.
#[derive(Clone)]
pub(crate) struct NetworkReporter {
    /// `scheme://host:port`.
    pub(crate) origin: String,
}

impl NetworkReporter {
    pub(crate) fn error(&self, error: &reqwest::Error) -> ClientError {
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
pub(crate) fn cause(error: &reqwest::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_errors_have_a_status() {
        let api = ClientError::Api {
            status: 409,
            detail: "A message is already running".into(),
        };
        assert_eq!(api.status(), Some(409));
        assert_eq!(api.to_string(), "A message is already running");
        assert_eq!(ClientError::SessionExpired.status(), None);
        assert_eq!(ClientError::Network("down".into()).status(), None);
    }
}
