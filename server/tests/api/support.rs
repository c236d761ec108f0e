//! The test harness: a server per test, on its own database.

#![allow(dead_code)]

use std::time::Duration;

use council_server::Server;
use council_server::config::{Config, ModelDefaults};
use council_server::db::{DatabaseUrl, DbConnection};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";
pub const MODELS: &[&str] = &["test/alpha", "test/beta", "test/gamma"];
pub const LEAD: &str = "test/lead";

/// A running server with its own database and data directory.
pub struct TestApp {
    pub server: Option<Server>,
    pub base: String,
    /// Raw HTTP, for the tests that check the wire word for word.
    pub client: reqwest::Client,
    /// The typed client (`council-client`) of this server, signed in as
    /// nobody: setting up users, keys and conversations goes through it
    /// (see [`TestApp::as_user`]). Replaced by [`TestApp::restart`].
    pub api: council_client::Client,
    pub data_dir: tempfile::TempDir,
    pub database: DatabaseUrl,
    /// What the server was started with (a restart reuses it, secrets included).
    pub config: Config,
    pg: Option<PgDatabase>,
}

/// A database made for one test on the server named by TEST_DATABASE_URL,
/// dropped when the test ends.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The database of one test: SQLite in a data directory, or, when
/// TEST_DATABASE_URL is set, a fresh PostgreSQL database there, dropped
/// with this value.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pg: Option<PgDatabase>,
}

impl TestDatabase {
    pub fn create(data_dir: &std::path::Path) -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("council_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = diesel::PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must name a reachable PostgreSQL");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create the test database");
                let url = with_database(&admin_url, &name);
                Self {
                    url: DatabaseUrl::parse(&url).expect("postgres url"),
                    pg: Some(PgDatabase { admin_url, name }),
                }
            }
            None => Self {
                url: DatabaseUrl::sqlite_in(data_dir),
                pg: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A direct connection, for checks HTTP cannot make.
    pub fn connect(&self) -> DbConnection {
        connect(&self.url)
    }
}

/// A direct connection to `database`.
pub fn connect(database: &DatabaseUrl) -> DbConnection {
    match database {
        DatabaseUrl::Sqlite(path) => DbConnection::Sqlite(
            diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("open sqlite"),
        ),
        DatabaseUrl::Postgres(url) => {
            DbConnection::Pg(diesel::PgConnection::establish(url).expect("open postgres"))
        }
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// The harness's response: status, headers and the JSON body (Null if none).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn detail(&self) -> &str {
        self.body["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail in {:?}", self.body))
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn expect_error(self, status: u16) -> Self {
        let r = self.expect(status);
        assert!(
            r.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "error without a detail: {}",
            r.body
        );
        if status == 401 {
            assert_eq!(
                r.headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "401 without WWW-Authenticate: Bearer"
            );
        }
        r
    }
}

/// What a signed-in test user holds.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub access: String,
    pub refresh: String,
}

pub fn test_config(database: DatabaseUrl, data_dir: &std::path::Path) -> Config {
    let mut c =
        Config::with_defaults(database, data_dir.to_owned(), 4).expect("defaults are valid");
    c.openrouter_base_url = "http://127.0.0.1:9".into();
    c.models = ModelDefaults::new(
        MODELS.iter().map(|s| s.to_string()).collect(),
        vec![],
        LEAD.into(),
        "test/title".into(),
    )
    .expect("valid models");
    c.access_token_ttl = Duration::from_secs(900);
    c.refresh_token_ttl = Duration::from_secs(3600);
    c.upstream_timeout = Duration::from_secs(5);
    c.db_pool_size = 4;
    c.auth_rate_per_minute = 1000;
    c
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server with the test defaults changed by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let TestDatabase { url: database, pg } = TestDatabase::create(data_dir.path());
        let mut config = test_config(database.clone(), data_dir.path());
        tweak(&mut config);
        let server = Server::start(&config).await.expect("server starts");
        let base = format!("http://{}", server.addr());
        Self {
            server: Some(server),
            api: council_client::Client::new(&base).expect("the server's URL"),
            base,
            client: reqwest::Client::new(),
            data_dir,
            database,
            config,
            pg,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A direct connection to the test's database, for checks HTTP cannot make.
    pub fn connect_db(&self) -> DbConnection {
        connect(&self.database)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request reaches the server")).await
    }

    pub async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{status}: body is not JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// A typed client that presents `access_token`, sharing the pool of
    /// [`TestApp::api`]. It holds no refresh token: a test's tokens outlive
    /// it, so a 401 is the test's failure (`SessionExpired`), not a reason
    /// to refresh.
    pub fn as_user(&self, access_token: &str) -> council_client::Client {
        let user = self.api.new_session();
        user.set_session(Some(council_client::Session {
            access_token: access_token.to_owned(),
            refresh_token: String::new(),
        }));
        user
    }

    /// Registers `email` with [`PASSWORD`]. (The register answer's shape is
    /// checked raw in `accounts.rs`.)
    pub async fn register(&self, email: &str) -> Session {
        let tokens = self
            .api
            .new_session()
            .register(email, PASSWORD)
            .await
            .expect("registered");
        Session {
            email: email.to_owned(),
            access: tokens.access_token,
            refresh: tokens.refresh_token,
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/api/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Creates a conversation with the default council; returns its id.
    pub async fn new_conversation(&self, token: &str) -> String {
        self.as_user(token)
            .create_conversation(None, None)
            .await
            .expect("conversation created")
            .id
            .to_string()
    }

    /// Appends a user message directly in the database (sending messages
    /// through the council is not part of these tests).
    pub async fn add_user_message(&self, conversation_id: &str, content: &str) {
        let db = self.server.as_ref().expect("running").state().db.clone();
        let id: uuid::Uuid = conversation_id.parse().expect("a conversation id");
        let content = content.to_owned();
        db.write(move |c| -> Result<(), council_server::db::DbError> {
            let mut m =
                council_server::db::messages::new_user(id, &content, council_server::db::now());
            Ok(council_server::db::messages::append(c, &mut m)?)
        })
        .await
        .expect("message stored");
    }

    /// Saves a provider key for the session's user.
    pub async fn save_key(&self, token: &str, key: &str) {
        self.as_user(token)
            .save_api_key(key)
            .await
            .expect("key saved");
    }

    /// Creates a conversation with the given council and lead.
    pub async fn conversation_with(&self, token: &str, models: &[&str], lead: &str) -> String {
        let models = models.iter().map(|m| (*m).to_owned()).collect();
        self.as_user(token)
            .create_conversation(Some(models), Some(lead.to_owned()))
            .await
            .expect("conversation created")
            .id
            .to_string()
    }

    /// Sends a question and waits for the council (`/message`).
    pub async fn ask(&self, token: &str, conversation: &str, question: &str) -> Resp {
        self.post(
            &format!("/api/conversations/{conversation}/message"),
            Some(token),
            json!({"content": question}),
        )
        .await
    }

    /// Sends a question on `/message/stream` and reads events until the
    /// stream ends; returns the status and the events' JSON.
    pub async fn ask_stream(
        &self,
        token: &str,
        conversation: &str,
        question: &str,
    ) -> (StatusCode, Vec<Value>) {
        let resp = self.post_stream(token, conversation, question).await;
        let status = resp.status();
        if !status.is_success() {
            let body = TestApp::read(resp).await;
            return (status, vec![body.body]);
        }
        let mut events = EventReader::new(resp);
        let mut all = Vec::new();
        while let Some(e) = events.next().await {
            all.push(e);
        }
        (status, all)
    }

    /// POSTs a question to `/message/stream`.
    async fn post_stream(
        &self,
        token: &str,
        conversation: &str,
        question: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/conversations/{conversation}/message/stream")))
            .bearer_auth(token)
            .json(&json!({"content": question}))
            .send()
            .await
            .expect("sent")
    }

    /// Presents a refresh token to `/api/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Resp {
        self.post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// Starts a question on `/message/stream` and hands over the open
    /// stream, for tests that act while the council runs.
    pub async fn open_stream(
        &self,
        token: &str,
        conversation: &str,
        question: &str,
    ) -> EventReader {
        let resp = self.post_stream(token, conversation, question).await;
        EventReader::new(resp)
    }

    /// The conversation as GET shows it.
    pub async fn conversation(&self, token: &str, id: &str) -> Value {
        self.get(&format!("/api/conversations/{id}"), token)
            .await
            .expect(200)
            .body
    }

    /// Stops the server and starts a new one on the same database with the
    /// same secrets (tokens stay valid), on a new port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let server = Server::start(&self.config).await.expect("server restarts");
        self.base = format!("http://{}", server.addr());
        self.api = council_client::Client::new(&self.base).expect("the server's URL");
        self.server = Some(server);
    }

    /// Stops the server (waiting for in-flight requests).
    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.expect("clean shutdown");
        }
    }
}

pub fn session(email: &str, body: &Value) -> Session {
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0));
    Session {
        email: email.to_owned(),
        access: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
    }
}

/// A unique email for a test.
pub fn email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Dump {
    #[diesel(sql_type = diesel::sql_types::Text)]
    dump: String,
}

/// Rows in `table`.
pub fn count_rows(conn: &mut DbConnection, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
    let rows: Vec<Count> = match conn {
        DbConnection::Sqlite(c) => q.load(c),
        DbConnection::Pg(c) => q.load(c),
    }
    .expect("count");
    rows.first().map_or(0, |r| r.n)
}

/// Every byte the database keeps, as far as a test can see it: the SQLite
/// files (main and WAL), or a text dump of every table on PostgreSQL.
pub fn database_contents(app: &TestApp) -> Vec<u8> {
    use diesel::RunQueryDsl;
    match &app.database {
        DatabaseUrl::Sqlite(path) => {
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let p = format!("{}{suffix}", path.display());
                if let Ok(b) = std::fs::read(&p) {
                    bytes.extend(b);
                }
            }
            bytes
        }
        DatabaseUrl::Postgres(url) => {
            let mut c = diesel::PgConnection::establish(url).expect("connect");
            let mut out = Vec::new();
            for table in [
                "users",
                "user_api_keys",
                "refresh_token_families",
                "conversations",
                "messages",
            ] {
                let rows: Vec<Dump> = diesel::sql_query(format!(
                    "SELECT COALESCE(string_agg(t::text, '|'), '') AS dump FROM {table} t"
                ))
                .load(&mut c)
                .expect("dump");
                for r in rows {
                    out.extend(r.dump.into_bytes());
                }
            }
            out
        }
    }
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A timestamp field, parsed (string comparison would misorder differing
/// numbers of fractional digits).
pub fn ts(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a timestamp string")).expect("RFC 3339")
}

/// Reads `data:` events from a `text/event-stream` response, by hand so the
/// test sees exactly what is on the wire.
pub struct EventReader {
    resp: reqwest::Response,
    buffer: String,
    /// Comment lines seen (keep-alives).
    pub comments: Vec<String>,
}

impl EventReader {
    pub fn new(resp: reqwest::Response) -> Self {
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/event-stream"),
            "not an event stream"
        );
        Self {
            resp,
            buffer: String::new(),
            comments: vec![],
        }
    }

    /// Reads until an event of `kind`; fails if the stream ends first.
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let e = self
                .next()
                .await
                .unwrap_or_else(|| panic!("the stream ended before {kind}"));
            if e["type"] == kind {
                return e;
            }
        }
    }

    /// The next event's JSON, or `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    } else if let Some(c) = line.strip_prefix(':') {
                        self.comments.push(c.trim().to_owned());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some(
                    serde_json::from_str(&data)
                        .unwrap_or_else(|_| panic!("event is not JSON: {data}")),
                );
            }
            match self.resp.chunk().await.expect("stream reads") {
                Some(bytes) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct LastMessage {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    error: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    stage1: String,
}

/// Status, error and stage-1 JSON of a conversation's last message, read
/// straight from the database.
pub fn last_message_state(
    conn: &mut DbConnection,
    conversation_id: &str,
) -> (String, Option<String>, String) {
    use diesel::RunQueryDsl;
    let sql = format!(
        "SELECT COALESCE(status, '') AS status, error, COALESCE(stage1, '') AS stage1 FROM messages \
         WHERE conversation_id = '{conversation_id}' ORDER BY seq DESC LIMIT 1"
    );
    let q = diesel::sql_query(sql);
    let rows: Vec<LastMessage> = match conn {
        DbConnection::Sqlite(c) => q.load(c),
        DbConnection::Pg(c) => q.load(c),
    }
    .expect("query");
    let row = rows.into_iter().next().expect("a message");
    (row.status, row.error, row.stage1)
}
