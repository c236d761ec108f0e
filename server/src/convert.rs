//! Stored rows to the API's shapes.

use council_shared::{
    AssistantMessage, AssistantRole, Conversation, ConversationSummary, Message, Metadata,
    RunStatus, UserMessage, UserRole,
};
use serde::de::DeserializeOwned;

use crate::db::{self, DbUuid, conversations, messages};

/// A JSON column; a value that no longer parses is logged and shown empty
/// rather than failing the whole conversation.
fn json_column<T: DeserializeOwned + Default>(value: Option<&str>, what: &str, id: DbUuid) -> T {
    match value {
        None => T::default(),
        Some(text) => serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::warn!(row_id = %id, column = what, error = %e, "unreadable JSON column");
            T::default()
        }),
    }
}

/// A conversation without its messages.
pub fn summary(row: &conversations::Conversation) -> ConversationSummary {
    ConversationSummary {
        id: row.id.into(),
        created_at: db::utc(row.created_at),
        updated_at: db::utc(row.updated_at),
        title: row.title.clone(),
        message_count: i64::from(row.message_count),
        models: json_column(Some(&row.models), "models", row.id),
        lead_model: row.lead_model.clone(),
    }
}

/// A conversation with `msgs`, its messages in order.
pub fn conversation(row: &conversations::Conversation, msgs: &[messages::Message]) -> Conversation {
    let s = summary(row);
    Conversation {
        id: s.id,
        created_at: s.created_at,
        updated_at: s.updated_at,
        title: s.title,
        message_count: s.message_count,
        models: s.models,
        lead_model: s.lead_model,
        messages: msgs.iter().map(message).collect(),
    }
}

/// A stored message of either kind.
pub fn message(row: &messages::Message) -> Message {
    if row.role == messages::ROLE_USER {
        return Message::User(UserMessage {
            id: row.id.into(),
            role: UserRole::User,
            content: row.content.clone(),
            created_at: db::utc(row.created_at),
        });
    }
    Message::Assistant(Box::new(assistant(row)))
}

/// A stored assistant message with its stages.
pub fn assistant(row: &messages::Message) -> AssistantMessage {
    AssistantMessage {
        id: row.id.into(),
        role: AssistantRole::Assistant,
        created_at: db::utc(row.created_at),
        status: row
            .status
            .as_deref()
            .and_then(RunStatus::parse)
            .unwrap_or(RunStatus::Failed),
        stage1: json_column(row.stage1.as_deref(), "stage1", row.id),
        stage2: json_column(row.stage2.as_deref(), "stage2", row.id),
        stage3: json_column(row.stage3.as_deref(), "stage3", row.id),
        metadata: json_column::<Metadata>(row.metadata.as_deref(), "metadata", row.id),
        error: row.error.clone(),
    }
}
