//! The signed-in user's tokens, and who is told when they change.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use council_shared::TokenResponse;

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
        // Either token signs in as the user: not even a prefix is shown.
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

/// Told about every new session (`Some`) or its end (`None`); see
/// [`crate::Client::on_session_change`].
pub type SessionCallback = Arc<dyn Fn(Option<Session>) + Send + Sync>;

/// The session of one client and its clones, with the callback and the
/// lock that makes refreshes single-flight.
pub(crate) struct Sessions {
    current: Mutex<Option<Session>>,
    callback: Mutex<Option<SessionCallback>>,
    /// Held while refreshing, so concurrent 401s cause a single refresh: a
    /// refresh token presented twice makes the server revoke the login.
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
}

impl Sessions {
    pub(crate) fn new() -> Self {
        Self {
            current: Mutex::new(None),
            callback: Mutex::new(None),
            refresh_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Session>> {
        // A panic elsewhere while holding the lock cannot leave a half-written
        // Option behind, so a poisoned lock is still usable.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current tokens, if signed in.
    pub(crate) fn get(&self) -> Option<Session> {
        self.slot().clone()
    }

    /// Replaces the session without telling the callback.
    pub(crate) fn set(&self, session: Option<Session>) {
        *self.slot() = session;
    }

    /// Removes the session without telling the callback.
    pub(crate) fn take(&self) -> Option<Session> {
        self.slot().take()
    }

    pub(crate) fn on_change(&self, callback: SessionCallback) {
        *self.callback.lock().unwrap_or_else(PoisonError::into_inner) = Some(callback);
    }

    /// Tells the callback about a new session (or its end). Called with no
    /// lock held, so the callback may use the client.
    pub(crate) fn notify(&self, session: Option<Session>) {
        let callback = self
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(callback) = callback {
            callback(session);
        }
    }

    /// Sets the session and tells the callback.
    pub(crate) fn start(&self, session: Session) {
        self.set(Some(session.clone()));
        self.notify(Some(session));
    }

    /// Forgets the session and tells the callback, if there was one.
    pub(crate) fn end(&self) {
        if self.take().is_some() {
            self.notify(None);
        }
    }

    /// Replaces the session only if it still is `expected` (a sign-in may
    /// have happened meanwhile, which must win), telling the callback.
    pub(crate) fn replace(&self, expected: &Session, next: Option<Session>) {
        let replaced = {
            let mut slot = self.slot();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(n: u8) -> Session {
        Session {
            access_token: format!("access-secret-{n}"),
            refresh_token: format!("refresh-secret-{n}"),
        }
    }

    #[test]
    fn debug_output_holds_no_token() {
        let shown = format!("{:?}", session(1));
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn a_replacement_loses_to_a_newer_sign_in() {
        let sessions = Sessions::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        sessions.on_change(Arc::new(move |s| {
            record.lock().expect("not poisoned").push(s);
        }));
        sessions.start(session(1));
        // A refresh that started with session 1 finishes after a sign-in.
        sessions.start(session(2));
        sessions.replace(&session(1), Some(session(3)));
        assert_eq!(sessions.get(), Some(session(2)));
        sessions.replace(&session(2), None);
        sessions.end();
        assert_eq!(
            *seen.lock().expect("not poisoned"),
            vec![Some(session(1)), Some(session(2)), None],
            "one call per change, none for the lost replacement or an end without session"
        );
    }
}
