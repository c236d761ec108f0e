//! The `messages` table. `seq` orders a conversation's messages; adding one
//! also bumps the conversation's `message_count` and `updated_at`, in the
//! same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{conversations, messages};

/// A stored message. User messages keep the question in `content`; assistant
/// messages keep the final answer there (for search) and the stages as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub seq: i32,
    pub role: String,
    pub content: String,
    pub status: Option<String>,
    pub stage1: Option<String>,
    pub stage2: Option<String>,
    pub stage3: Option<String>,
    pub metadata: Option<String>,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub const ROLE_USER: &str = "user";
pub const ROLE_ASSISTANT: &str = "assistant";

/// A conversation's messages, oldest first.
pub fn list(conn: &mut DbConnection, conversation_id: &str) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .order(messages::seq.asc())
        .select(Message::as_select())
        .load(conn)
}

/// Appends a message at the end of its conversation (its `seq` is assigned
/// here) and records the activity. Call inside a write transaction.
pub fn append(conn: &mut DbConnection, message: &mut Message) -> QueryResult<()> {
    let count: i32 = conversations::table
        .find(&message.conversation_id)
        .select(conversations::message_count)
        .first(conn)?;
    message.seq = count + 1;
    diesel::insert_into(messages::table)
        .values(&*message)
        .execute(conn)?;
    diesel::update(conversations::table.find(&message.conversation_id))
        .set((
            conversations::message_count.eq(count + 1),
            conversations::updated_at.eq(message.created_at),
        ))
        .execute(conn)
        .map(drop)
}

/// A user message ready for [`append`].
pub fn new_user(conversation_id: &str, content: &str, now: NaiveDateTime) -> Message {
    Message {
        id: super::new_id(),
        conversation_id: conversation_id.to_owned(),
        seq: 0,
        role: ROLE_USER.to_owned(),
        content: content.to_owned(),
        status: None,
        stage1: None,
        stage2: None,
        stage3: None,
        metadata: None,
        error: None,
        created_at: now,
        updated_at: now,
    }
}
