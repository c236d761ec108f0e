//! What the fake remembers about each request it received.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One request received on a chat-completions route, recorded before any
/// response (including 401s, errors and hangs) was produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The raw `Authorization` header value, e.g. `Bearer sk-test`.
    pub authorization: Option<String>,
    /// The `model` field of the body; empty if the body had none or was not
    /// JSON.
    pub model: String,
    /// The `messages` of the body, with content flattened to text.
    pub messages: Vec<RecordedMessage>,
    /// The `stream` flag of the body (`false` when absent).
    pub stream: bool,
    /// Every request header, names lower-case. Repeated headers are joined
    /// with `", "`.
    pub headers: BTreeMap<String, String>,
    /// When the request was received, in milliseconds since the fake started.
    pub received_at_ms: u64,
}

/// One chat message as the fake received it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordedMessage {
    /// `system`, `user`, `assistant`, ...
    pub role: String,
    /// The text of the message. Multi-part content (`[{"type":"text",
    /// "text":...}]`) is flattened by joining the text parts with newlines.
    pub content: String,
}

impl RecordedMessage {
    /// Builds a message; mainly a convenience for assertions in tests.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> RecordedMessage {
        RecordedMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}
