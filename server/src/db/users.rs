//! The `users` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::users;
use super::{DbConnection, DbUuid};

/// A stored account.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: DbUuid,
    /// Normalised: trimmed and lower case.
    pub email: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Stores a new account; a taken email is a unique violation.
pub fn insert(conn: &mut DbConnection, user: &User) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map(drop)
}

/// The account of a normalised email.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// Runs for every authenticated request (the `AuthUser` extractor).
pub fn find_by_id(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<User>> {
    // `get_result`, not `first`: a primary key matches one row at most, and
    // `first` binds `LIMIT ?`, which the bundled SQLite (3.53) treats as a
    // planner input: every new binding expires the cached statement, so it
    // was parsed and planned anew on each request (a quarter of the
    // instructions of `GET /api/auth/me`; council-bench row 1).
    users::table
        .find(DbUuid(id))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// Replaces the password hash; returns whether the user exists.
pub fn set_password_hash(
    conn: &mut DbConnection,
    id: Uuid,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(users::table.find(DbUuid(id)))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
        .map(|n| n > 0)
}

/// Deletes the account; keys, tokens, conversations and messages go with it
/// (ON DELETE CASCADE).
pub fn delete(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::delete(users::table.find(DbUuid(id)))
        .execute(conn)
        .map(|n| n > 0)
}

/// A poll of `account_deletions` looks this far back: far longer than a
/// deleting transaction takes to commit, so a deletion that becomes
/// visible late is still seen. Seeing one again is harmless.
const DELETIONS_LOOKBACK: &str = "10 seconds";
/// Deletions are kept this long, then pruned.
const DELETIONS_KEPT: &str = "1 hour";

#[derive(QueryableByName)]
struct DeletedId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    user_id: DbUuid,
}

/// The ids of the accounts deleted within the last few seconds (by the
/// database's clock), by any server.
pub fn deleted_recently(conn: &mut DbConnection) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<DeletedId> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT user_id FROM account_deletions \
             WHERE deleted_at > strftime('%Y-%m-%d %H:%M:%f', 'now', '-{DELETIONS_LOOKBACK}')"
        ))
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT user_id FROM account_deletions \
             WHERE deleted_at > now() - interval '{DELETIONS_LOOKBACK}'"
        ))
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.user_id.into()).collect())
}

/// Removes the deletions older than an hour; returns how many.
pub fn prune_deletions(conn: &mut DbConnection) -> QueryResult<usize> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "DELETE FROM account_deletions \
             WHERE deleted_at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-{DELETIONS_KEPT}')"
        ))
        .execute(c),
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "DELETE FROM account_deletions WHERE deleted_at < now() - interval '{DELETIONS_KEPT}'"
        ))
        .execute(c),
    }
}

/// Whether any account exists (local mode asks before making its own).
pub fn any(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
}
