//! The `user_api_keys` table: one sealed provider key per user and provider.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::user_api_keys as keys;
use super::{DbConnection, DbUuid};

/// A stored key; `encrypted_key` is the sealed value (see `crypto`).
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = keys)]
pub struct ApiKey {
    pub id: DbUuid,
    pub user_id: DbUuid,
    pub provider: String,
    pub encrypted_key: String,
    pub key_hint: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("key_hint", &self.key_hint)
            .finish_non_exhaustive()
    }
}

/// Saves the key, replacing the user's key for the same provider; returns
/// the stored row (the original id and created_at survive a replace).
pub fn upsert(conn: &mut DbConnection, key: &ApiKey) -> QueryResult<ApiKey> {
    // The MultiConnection derive has no on_conflict, so each backend's own
    // (identical) upsert is spelled out.
    let replace = (
        keys::encrypted_key.eq(&key.encrypted_key),
        keys::key_hint.eq(&key.key_hint),
        keys::updated_at.eq(key.updated_at),
    );
    match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(keys::table)
            .values(key)
            .on_conflict((keys::user_id, keys::provider))
            .do_update()
            .set(replace)
            .execute(c)?,
        DbConnection::Pg(c) => diesel::insert_into(keys::table)
            .values(key)
            .on_conflict((keys::user_id, keys::provider))
            .do_update()
            .set(replace)
            .execute(c)?,
    };
    find(conn, key.user_id.into(), &key.provider)?.ok_or(diesel::result::Error::NotFound)
}

/// The user's key for `provider`.
pub fn find(conn: &mut DbConnection, user_id: Uuid, provider: &str) -> QueryResult<Option<ApiKey>> {
    keys::table
        .filter(keys::user_id.eq(DbUuid(user_id)))
        .filter(keys::provider.eq(provider))
        .select(ApiKey::as_select())
        .get_result(conn)
        .optional()
}

/// The user's keys, by provider.
pub fn list(conn: &mut DbConnection, user_id: Uuid) -> QueryResult<Vec<ApiKey>> {
    keys::table
        .filter(keys::user_id.eq(DbUuid(user_id)))
        .order(keys::provider.asc())
        .select(ApiKey::as_select())
        .load(conn)
}

/// Returns whether a key was deleted.
pub fn delete(conn: &mut DbConnection, user_id: Uuid, provider: &str) -> QueryResult<bool> {
    diesel::delete(
        keys::table
            .filter(keys::user_id.eq(DbUuid(user_id)))
            .filter(keys::provider.eq(provider)),
    )
    .execute(conn)
    .map(|n| n > 0)
}
