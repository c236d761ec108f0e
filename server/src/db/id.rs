//! [`DbUuid`]: a UUID stored as TEXT on both backends.
//!
//! The columns stay TEXT (a hyphenated, lower-case UUID, as
//! `Uuid::to_string` writes it), so no migration is needed and raw SQL can
//! compare ids as text. Reading one that is not a UUID fails the query with
//! a deserialisation error: a damaged row is reported, never turned into
//! the nil UUID of somebody else's data.

use std::fmt;
use std::io::Write;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use super::MultiBackend;

/// An id column's value: a [`Uuid`] that diesel reads and writes as TEXT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbUuid(pub Uuid);

impl DbUuid {
    /// A fresh random id.
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }
}

impl From<Uuid> for DbUuid {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl From<DbUuid> for Uuid {
    fn from(id: DbUuid) -> Self {
        id.0
    }
}

impl fmt::Display for DbUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// One implementation for SQLite, PostgreSQL and the MultiConnection's
/// backend: each reads TEXT into a `String`, which is then parsed.
impl<DB> FromSql<Text, DB> for DbUuid
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        Uuid::parse_str(&text)
            .map(Self)
            .map_err(|e| format!("stored id {text:?} is not a UUID: {e}").into())
    }
}

impl ToSql<Text, Sqlite> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        // SQLite binds borrowed text only from a `str` that outlives the
        // query; the formatted id is a temporary, so it is handed over owned.
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let mut buffer = Uuid::encode_buffer();
        out.write_all(self.0.hyphenated().encode_lower(&mut buffer).as_bytes())?;
        Ok(IsNull::No)
    }
}

impl ToSql<Text, MultiBackend> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        // Dispatches to the impl of the connection's own backend above.
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

/// The ids as stored, for a filter such as `ne_all`.
pub fn stored(ids: &[Uuid]) -> Vec<DbUuid> {
    ids.iter().copied().map(DbUuid).collect()
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;
    use crate::db::{DbConnection, conversations, run_migrations, users};

    /// A fresh in-memory SQLite database with the server's schema.
    fn database() -> DbConnection {
        let conn = SqliteConnection::establish(":memory:").expect("in-memory sqlite");
        let mut conn = DbConnection::Sqlite(conn);
        run_migrations(&mut conn).expect("migrations apply");
        conn
    }

    fn user(id: DbUuid) -> users::User {
        let now = crate::db::now();
        users::User {
            id,
            email: format!("{id}@example.com"),
            password_hash: "not a hash".to_owned(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn ids_are_stored_as_hyphenated_text_and_read_back() {
        let mut conn = database();
        let id = DbUuid::new_v4();
        users::insert(&mut conn, &user(id)).expect("insert");
        let stored: String = crate::db::schema::users::table
            .select(crate::db::schema::users::id)
            .get_result(&mut conn)
            .expect("the raw column");
        assert_eq!(stored, id.0.hyphenated().to_string());
        let found = users::find_by_id(&mut conn, id.0).expect("query");
        assert_eq!(found.map(|u| u.id), Some(id));
    }

    #[test]
    fn a_corrupted_id_is_an_error_not_a_nil_uuid() {
        let mut conn = database();
        let owner = DbUuid::new_v4();
        users::insert(&mut conn, &user(owner)).expect("insert");
        conn.batch_execute(&format!(
            "INSERT INTO conversations (id, user_id, title, models, lead_model, message_count, \
             created_at, updated_at) VALUES ('not-a-uuid', '{owner}', 'damaged', '[]', 'a/b', 0, \
             '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        ))
        .expect("a damaged row");
        // Both the query builder and the raw SQL of a search read the row.
        // (Two characters are a scan, more are looked up in the index.)
        for search in [None, Some("da"), Some("damaged")] {
            match conversations::list(&mut conn, owner.0, search) {
                Err(diesel::result::Error::DeserializationError(e)) => {
                    assert!(format!("{e:?}").contains("not-a-uuid"), "{e:?}");
                }
                other => panic!("{search:?}: expected a deserialisation error, got {other:?}"),
            }
        }
    }
}
