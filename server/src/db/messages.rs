//! The `messages` table. `seq` orders a conversation's messages; adding one
//! also bumps the conversation's `message_count` and `updated_at`, in the
//! same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use council_shared::RunStatus;

use super::schema::{conversations, messages};
use super::{DbConnection, DbUuid, id};

/// A stored message. User messages keep the question in `content`; assistant
/// messages keep the final answer there (for search) and the stages as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: DbUuid,
    pub conversation_id: DbUuid,
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
    /// The server instance executing a running council (`server_instances`).
    pub runner_id: Option<DbUuid>,
}

pub const ROLE_USER: &str = "user";
pub const ROLE_ASSISTANT: &str = "assistant";

/// A conversation's messages, oldest first.
pub fn list(conn: &mut DbConnection, conversation_id: Uuid) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::conversation_id.eq(DbUuid(conversation_id)))
        .order(messages::seq.asc())
        .select(Message::as_select())
        .load(conn)
}

/// A conversation's (role, content) pairs, oldest first: the questions and
/// final answers follow-ups carry, without the stored stages.
pub fn turns(conn: &mut DbConnection, conversation_id: Uuid) -> QueryResult<Vec<(String, String)>> {
    messages::table
        .filter(messages::conversation_id.eq(DbUuid(conversation_id)))
        .order(messages::seq.asc())
        .select((messages::role, messages::content))
        .load(conn)
}

/// Appends a message at the end of its conversation (its `seq` is assigned
/// here) and records the activity. Call inside a write transaction.
pub fn append(conn: &mut DbConnection, message: &mut Message) -> QueryResult<()> {
    let count: i32 = conversations::table
        .find(message.conversation_id)
        .select(conversations::message_count)
        .get_result(conn)?;
    message.seq = count + 1;
    diesel::insert_into(messages::table)
        .values(&*message)
        .execute(conn)?;
    diesel::update(conversations::table.find(message.conversation_id))
        .set((
            conversations::message_count.eq(count + 1),
            conversations::updated_at.eq(message.created_at),
        ))
        .execute(conn)
        .map(drop)
}

/// A user message ready for [`append`].
pub fn new_user(conversation_id: Uuid, content: &str, now: NaiveDateTime) -> Message {
    Message {
        id: DbUuid::new_v4(),
        conversation_id: DbUuid(conversation_id),
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
        runner_id: None,
    }
}

/// A running assistant message, owned by `runner_id`, ready for [`append`].
/// A conversation has at most one (a unique index): appending a second
/// fails with a unique violation.
pub fn new_running(conversation_id: Uuid, runner_id: Uuid, now: NaiveDateTime) -> Message {
    Message {
        role: ROLE_ASSISTANT.to_owned(),
        content: String::new(),
        status: Some(RunStatus::Running.as_str().to_owned()),
        stage1: Some("[]".to_owned()),
        stage2: Some("[]".to_owned()),
        metadata: Some("{}".to_owned()),
        runner_id: Some(DbUuid(runner_id)),
        ..new_user(conversation_id, "", now)
    }
}

/// The stored form of a run's progress.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = messages, treat_none_as_null = true)]
pub struct RunProgress {
    /// The final answer once it exists (what `?q=` searches).
    pub content: String,
    pub status: Option<String>,
    pub stage1: Option<String>,
    pub stage2: Option<String>,
    pub stage3: Option<String>,
    pub metadata: Option<String>,
    pub error: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Records a run's progress, as long as `runner_id` still owns the
/// message (a run given up for dead by another instance stays failed).
/// Returns whether the row was updated.
pub fn save_progress(
    conn: &mut DbConnection,
    message_id: Uuid,
    runner_id: Uuid,
    progress: &RunProgress,
    finished: bool,
) -> QueryResult<bool> {
    let target = messages::table
        .filter(messages::id.eq(DbUuid(message_id)))
        .filter(messages::runner_id.eq(DbUuid(runner_id)));
    let n = if finished {
        diesel::update(target)
            .set((progress, messages::runner_id.eq(None::<DbUuid>)))
            .execute(conn)?
    } else {
        diesel::update(target).set(progress).execute(conn)?
    };
    Ok(n > 0)
}

/// Marks failed every running message whose runner is not among `alive`
/// (the instances known to be working), keeping the stages they finished.
pub fn fail_orphaned_runs(
    conn: &mut DbConnection,
    alive: &[Uuid],
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let running = || messages::table.filter(messages::status.eq(RunStatus::Running.as_str()));
    let failed = || {
        (
            messages::status.eq(RunStatus::Failed.as_str()),
            messages::error.eq(error),
            messages::runner_id.eq(None::<DbUuid>),
            messages::updated_at.eq(now),
        )
    };
    let orphaned_by_owner = diesel::update(
        running()
            .filter(messages::runner_id.is_not_null())
            .filter(messages::runner_id.ne_all(id::stored(alive))),
    )
    .set(failed())
    .execute(conn)?;
    let ownerless = diesel::update(running().filter(messages::runner_id.is_null()))
        .set(failed())
        .execute(conn)?;
    Ok(orphaned_by_owner + ownerless)
}
