//! The `server_instances` table: each running server process heart-beats
//! here, so that the runs of a process that died can be told from the runs
//! of a live replica.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::server_instances as instances;
use super::{DbConnection, DbUuid};

/// Records a starting instance.
pub fn register(conn: &mut DbConnection, id: Uuid, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(instances::table)
        .values((
            instances::id.eq(DbUuid(id)),
            instances::started_at.eq(now),
            instances::heartbeat_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks the instance alive now.
pub fn heartbeat(conn: &mut DbConnection, id: Uuid, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(instances::table.find(DbUuid(id)))
        .set(instances::heartbeat_at.eq(now))
        .execute(conn)
        .map(drop)
}

/// Forgets a stopping instance.
pub fn remove(conn: &mut DbConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(instances::table.find(DbUuid(id)))
        .execute(conn)
        .map(drop)
}

/// Forgets every instance but `id`: for a database only one process opens.
pub fn forget_all_but(conn: &mut DbConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(instances::table.filter(instances::id.ne(DbUuid(id))))
        .execute(conn)
        .map(drop)
}

/// Instances that heart-beat after `since`; older ones are forgotten.
pub fn alive_since(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Vec<Uuid>> {
    diesel::delete(instances::table.filter(instances::heartbeat_at.lt(since))).execute(conn)?;
    let ids: Vec<DbUuid> = instances::table.select(instances::id).load(conn)?;
    Ok(ids.into_iter().map(Uuid::from).collect())
}
