//! Storage: one code base over SQLite and PostgreSQL.
//!
//! The backend is picked from the URL scheme. Diesel is synchronous, so every
//! query runs on the blocking pool through [`Db::read`] / [`Db::write`] (or
//! [`Db::write_query`]), never on an async worker. Ids are [`DbUuid`]s.

pub mod api_keys;
pub mod conversations;
pub mod id;
pub mod instances;
pub mod messages;
pub mod refresh_tokens;
pub mod schema;
pub mod users;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use id::DbUuid;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Key of the PostgreSQL advisory lock that keeps replicas starting together
/// from running the same migration twice.
const MIGRATION_LOCK_KEY: i64 = 0x0063_6f75_6e63_696c;

/// A connection to either backend; queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (relative, or absolute as `sqlite:///abs/path`).
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, passed to libpq as is.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL by its scheme.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("DATABASE_URL: sqlite:// needs a file path".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        Err("DATABASE_URL must start with sqlite:// or postgres://".into())
    }

    /// The default: `council.db` in the data directory.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("council.db"))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Shown without the password a PostgreSQL URL may carry, so it can be logged.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split(':').next().unwrap_or_default();
                        write!(f, "{scheme}://{user}:***@{host}")
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why the database could not serve a call.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database connection unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the database pool is closed")]
    Closed,
}

impl DbError {
    /// True when the query broke a UNIQUE constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Opening a pooled connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Setup(#[from] diesel::result::Error),
    #[error("cannot create the directory for the SQLite file: {0}")]
    Directory(std::io::Error),
}

/// Opens connections of the backend the URL names; the SQLite ones with the
/// settings every connection needs.
#[derive(Debug)]
struct ConnectionManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(ConnectError::Directory)?;
                }
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // Settings of the connection (the journal mode belongs to the
                // file and is set once, in `Db::connect`): busy_timeout makes
                // a second writer wait instead of failing; foreign keys are
                // off by default in SQLite and the cascades depend on them.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA foreign_keys = ON;
                     PRAGMA synchronous = NORMAL;",
                )?;
                Ok(Pooled::new(DbConnection::Sqlite(conn)))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                conn.batch_execute("SET TIME ZONE 'UTC'")?;
                Ok(Pooled::new(DbConnection::Pg(conn)))
            }
        }
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectError> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(ConnectError::from)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.broken
    }
}

type Pool = r2d2::Pool<ConnectionManager>;

/// A pooled connection and whether it is known to be dead. A PostgreSQL
/// connection can die under us (server restart, failover); rather than a
/// round trip at every checkout, a connection is tested only after a call
/// on it failed, and the pool drops it if the test fails too.
pub struct Pooled {
    conn: DbConnection,
    broken: bool,
}

impl Pooled {
    fn new(conn: DbConnection) -> Self {
        Self {
            conn,
            broken: false,
        }
    }

    fn check_after(&mut self, failed: bool) {
        if failed && self.conn.batch_execute("SELECT 1").is_err() {
            self.broken = true;
        }
    }
}

/// A cheap-to-clone handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// One per pooled connection, taken (asynchronously) before a call goes
    /// to the blocking pool: calls beyond the pool's size wait as tasks, not
    /// as blocking threads parked in r2d2. Without it a burst (500 councils
    /// storing their progress at once) grew the blocking pool to 200+
    /// threads, each with its stack and malloc arena (the bench's row 3).
    permits: Arc<tokio::sync::Semaphore>,
    /// SQLite allows one writer; taking this lock before a write transaction
    /// turns "database is locked" races into an orderly queue. An async
    /// lock, taken before the blocking pool, so that queued writers hold
    /// neither a connection nor a thread. `None` on PostgreSQL, which
    /// handles concurrent writers itself.
    write_lock: Option<Arc<tokio::sync::Mutex<()>>>,
    url: DatabaseUrl,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("url", &self.url).finish()
    }
}

impl Db {
    /// Opens a pool of `size` connections, all of them now: a wrong URL or
    /// an unreachable server is reported at start-up, and a burst of
    /// requests never waits for connections being opened.
    pub fn connect(url: &DatabaseUrl, size: u32) -> Result<Self, DbError> {
        let size = size.max(1);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(size))
            .connection_timeout(Duration::from_secs(10))
            // No round trip at every checkout: a connection that failed a
            // call is checked then, and dropped if dead (see `Pooled`).
            .test_on_check_out(false)
            .build(ConnectionManager { url: url.clone() })?;
        if let DatabaseUrl::Sqlite(path) = url {
            restrict_to_owner(path);
            // WAL lets readers work beside the writer. It is a property of
            // the file, so it is set once here rather than by every
            // connection (switching takes a lock that would make a burst of
            // new connections wait on each other).
            pool.get()?
                .conn
                .batch_execute("PRAGMA journal_mode = WAL")?;
        }
        Ok(Self {
            pool,
            permits: Arc::new(tokio::sync::Semaphore::new(size as usize)),
            write_lock: url
                .is_sqlite()
                .then(|| Arc::new(tokio::sync::Mutex::new(()))),
            url: url.clone(),
        })
    }

    /// The URL this pool connects to (printable: passwords are masked).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let queued = Instant::now();
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let started = Instant::now();
            let mut conn = pool.get()?;
            let got = Instant::now();
            let result = f(&mut conn.conn);
            conn.check_after(result.is_err());
            report_slow("read", queued, started, got);
            Ok(result?)
        })
        .await?
    }

    /// A turn at a pooled connection (see `permits`).
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, DbError> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DbError::Closed)
    }

    /// Runs `f` in a transaction on the blocking pool; it commits when `f`
    /// returns `Ok` and rolls back otherwise.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let queued = Instant::now();
        // The lock comes first, so writers queueing for it hold no
        // connection that readers could use (nor, being async, a thread).
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _held = (guard, permit);
            let started = Instant::now();
            let mut conn = pool.get().map_err(DbError::from)?;
            let got = Instant::now();
            let result = conn.conn.transaction(f);
            conn.check_after(result.is_err());
            report_slow("write", queued, started, got);
            result
        })
        .await
        .map_err(DbError::from)?
    }

    /// [`write`](Self::write) for a closure that only runs diesel queries,
    /// so its callers need not name an error type.
    pub async fn write_query<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
    {
        self.write(move |c| f(c).map_err(DbError::from)).await
    }

    /// Applies the migrations not yet applied; returns their versions.
    pub async fn migrate(&self) -> Result<Vec<String>, DbError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            run_migrations(&mut conn.conn)
        })
        .await?
    }

    /// True when the database answers a trivial query within two seconds.
    pub async fn ping(&self) -> bool {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            pool.get_timeout(Duration::from_secs(2))
                .is_ok_and(|mut conn| conn.conn.batch_execute("SELECT 1").is_ok())
        })
        .await
        .unwrap_or(false)
    }
}

/// A database call slower than this is logged with where its time went.
const SLOW_CALL: Duration = Duration::from_millis(200);

fn report_slow(kind: &str, queued: Instant, started: Instant, got_connection: Instant) {
    let total = queued.elapsed();
    if total >= SLOW_CALL {
        tracing::warn!(
            kind,
            total_ms = total.as_millis(),
            blocking_pool_ms = (started - queued).as_millis(),
            waiting_ms = (got_connection - started).as_millis(),
            query_ms = got_connection.elapsed().as_millis(),
            "slow database call"
        );
    }
}

/// The SQLite file holds password hashes and sealed keys: owner only.
fn restrict_to_owner(path: &Path) {
    // SQLite creates the file with the umask's mode, so a fresh database
    // is tightened on every first start: not worth a warning.
    if let Err(e) = council_shared::private_file::restrict(path) {
        tracing::warn!(path = %path.display(), error = %e, "cannot make the database file private");
    }
}

fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>()),
        DbConnection::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result
        }
    };
    applied.map_err(|e| DbError::Migration(e.to_string()))
}

/// The current time as stored: UTC, whole microseconds (PostgreSQL's
/// precision), so a value reads back exactly as it was written on both backends.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored time as the API shows it.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend_and_hide_passwords() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/council/council.db"),
            Ok(DatabaseUrl::Sqlite("/var/lib/council/council.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/c.db"),
            Ok(DatabaseUrl::Sqlite("data/c.db".into()))
        );
        let pg = DatabaseUrl::parse("postgres://council:s3cret@db.internal:5432/council")
            .expect("postgres url parses");
        assert!(matches!(pg, DatabaseUrl::Postgres(_)));
        let shown = pg.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.internal:5432/council"));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
