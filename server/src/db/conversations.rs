//! The `conversations` table. Every function takes the owner's id: a
//! conversation of another user is indistinguishable from a missing one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{conversations, messages};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The title of a conversation that has not been named yet.
pub const DEFAULT_TITLE: &str = "New Conversation";

/// A stored conversation; `models` is a JSON array.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub models: String,
    pub lead_model: String,
    pub message_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, c: &Conversation) -> QueryResult<()> {
    diesel::insert_into(conversations::table)
        .values(c)
        .execute(conn)
        .map(drop)
}

/// The user's conversations, newest activity first; with `query`, only those
/// whose title or any message contains it (case-insensitive, `%` and `_`
/// taken literally).
pub fn list(
    conn: &mut DbConnection,
    user_id: &str,
    query: Option<&str>,
) -> QueryResult<Vec<Conversation>> {
    let mut q = conversations::table
        .filter(conversations::user_id.eq(user_id))
        .order((conversations::updated_at.desc(), conversations::id.desc()))
        .select(Conversation::as_select())
        .into_boxed();
    if let Some(text) = query.filter(|t| !t.is_empty()) {
        let pattern = like_pattern(text);
        let in_messages = messages::table
            .select(messages::id)
            .filter(messages::conversation_id.eq(conversations::id))
            .filter(lower(messages::content).like(pattern.clone()).escape('\\'));
        q = q.filter(
            lower(conversations::title)
                .like(pattern)
                .escape('\\')
                .or(diesel::dsl::exists(in_messages)),
        );
    }
    q.load(conn)
}

/// `%text%` in lower case, with the LIKE wildcards in `text` escaped.
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

pub fn find(conn: &mut DbConnection, user_id: &str, id: &str) -> QueryResult<Option<Conversation>> {
    conversations::table
        .filter(conversations::id.eq(id))
        .filter(conversations::user_id.eq(user_id))
        .select(Conversation::as_select())
        .first(conn)
        .optional()
}

/// Sets the title and marks the activity; `None` when not the user's.
pub fn rename(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    title: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Conversation>> {
    let n = diesel::update(
        conversations::table
            .filter(conversations::id.eq(id))
            .filter(conversations::user_id.eq(user_id)),
    )
    .set((
        conversations::title.eq(title),
        conversations::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    find(conn, user_id, id)
}

/// Sets the title made from the first question, unless the user has
/// renamed the conversation meanwhile. Not counted as activity.
pub fn set_generated_title(conn: &mut DbConnection, id: &str, title: &str) -> QueryResult<bool> {
    diesel::update(
        conversations::table
            .filter(conversations::id.eq(id))
            .filter(conversations::title.eq(DEFAULT_TITLE)),
    )
    .set(conversations::title.eq(title))
    .execute(conn)
    .map(|n| n > 0)
}

/// Deletes the conversation and its messages; returns whether it existed.
pub fn delete(conn: &mut DbConnection, user_id: &str, id: &str) -> QueryResult<bool> {
    diesel::delete(
        conversations::table
            .filter(conversations::id.eq(id))
            .filter(conversations::user_id.eq(user_id)),
    )
    .execute(conn)
    .map(|n| n > 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::like_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }
}
