//! The `refresh_token_families` table: one row per login, holding the id of
//! the only refresh token of that login that may still be used.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::refresh_token_families as families;
use super::{DbConnection, DbUuid};

/// A login's chain of refresh tokens.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = families)]
pub struct Family {
    pub id: DbUuid,
    pub user_id: DbUuid,
    pub current_jti: String,
    pub created_at: NaiveDateTime,
    pub rotated_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// It was the current token; the family now expects the new one.
    Accepted,
    /// It had already been rotated away: the family is now revoked.
    Reused,
    /// The family is unknown, revoked or expired.
    Rejected,
}

/// Why a family was revoked, as stored.
pub mod reason {
    pub const LOGOUT: &str = "logout";
    pub const REUSE: &str = "reuse";
    pub const PASSWORD_CHANGE: &str = "password_change";
}

/// Stores a new login's family.
pub fn insert(conn: &mut DbConnection, family: &Family) -> QueryResult<()> {
    diesel::insert_into(families::table)
        .values(family)
        .execute(conn)
        .map(drop)
}

/// Replaces `presented_jti` with `next_jti` if it is the family's current
/// token. The update is conditional, so of two concurrent uses of one token
/// exactly one wins and the other counts as reuse.
pub fn rotate(
    conn: &mut DbConnection,
    family_id: Uuid,
    presented_jti: &str,
    next_jti: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<Presented> {
    let updated = diesel::update(
        families::table
            .find(DbUuid(family_id))
            .filter(families::current_jti.eq(presented_jti))
            .filter(families::revoked_at.is_null())
            .filter(families::expires_at.gt(now)),
    )
    .set((
        families::current_jti.eq(next_jti),
        families::rotated_at.eq(now),
        families::expires_at.eq(expires_at),
    ))
    .execute(conn)?;
    if updated == 1 {
        return Ok(Presented::Accepted);
    }
    classify_stale(conn, family_id, presented_jti, now)
}

/// Revokes the family if `presented_jti` is its current token (a logout).
pub fn revoke_current(
    conn: &mut DbConnection,
    family_id: Uuid,
    presented_jti: &str,
    now: NaiveDateTime,
) -> QueryResult<Presented> {
    let updated = diesel::update(
        families::table
            .find(DbUuid(family_id))
            .filter(families::current_jti.eq(presented_jti))
            .filter(families::revoked_at.is_null())
            .filter(families::expires_at.gt(now)),
    )
    .set((
        families::revoked_at.eq(now),
        families::revoked_reason.eq(reason::LOGOUT),
    ))
    .execute(conn)?;
    if updated == 1 {
        return Ok(Presented::Accepted);
    }
    classify_stale(conn, family_id, presented_jti, now)
}

/// A token that did not match: an old token of a live family is theft, so
/// the family is revoked; anything else is simply refused.
fn classify_stale(
    conn: &mut DbConnection,
    family_id: Uuid,
    presented_jti: &str,
    now: NaiveDateTime,
) -> QueryResult<Presented> {
    let live_with_other_token = diesel::update(
        families::table
            .find(DbUuid(family_id))
            .filter(families::current_jti.ne(presented_jti))
            .filter(families::revoked_at.is_null()),
    )
    .set((
        families::revoked_at.eq(now),
        families::revoked_reason.eq(reason::REUSE),
    ))
    .execute(conn)?;
    Ok(if live_with_other_token == 1 {
        Presented::Reused
    } else {
        Presented::Rejected
    })
}

/// Revokes every live family of a user; returns how many.
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: Uuid,
    why: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        families::table
            .filter(families::user_id.eq(DbUuid(user_id)))
            .filter(families::revoked_at.is_null()),
    )
    .set((
        families::revoked_at.eq(now),
        families::revoked_reason.eq(why),
    ))
    .execute(conn)
}

/// Forgets a user's families that can no longer be used, so the table does
/// not grow with every login.
pub fn purge_expired_for_user(
    conn: &mut DbConnection,
    user_id: Uuid,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        families::table
            .filter(families::user_id.eq(DbUuid(user_id)))
            .filter(families::expires_at.lt(now)),
    )
    .execute(conn)
}
