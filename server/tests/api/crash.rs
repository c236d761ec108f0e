//! Crash safety: the real `council-server` binary is killed with SIGKILL in
//! the middle of a council and started again on the same database (SQLite,
//! or PostgreSQL with TEST_DATABASE_URL). Nothing runs at a kill — no
//! shutdown grace, no final store, no deregistration — so everything the
//! restart finds is what the database kept on its own.

#![cfg(unix)]

use std::time::{Duration, Instant};

use council_client::{Client, EventStream};
use council_server::council::STOPPED_ERROR;
use council_server::db::{DatabaseUrl, DbConnection};
use council_shared::{
    AssistantMessage, Conversation, CouncilEvent, Message, RunStatus, Stage1Result, Stage2Result,
};
use council_testkit::{Behavior, FakeUpstream, Outcome};
use diesel::RunQueryDsl;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::process::{self, ServerProcess};
use crate::support::{PASSWORD, TestDatabase, count_rows};

const KEY: &str = "sk-or-v1-crash-test-key-0001";
const COUNCIL: &[&str] = &["fake/alpha", "fake/beta", "fake/gamma"];
const LEAD: &str = "fake/chair";
/// The shortest stale window the server takes: on PostgreSQL the restarted
/// server fails the dead instance's run only once it has been silent this
/// long.
const STALE_SECS: u64 = 3;

/// Starts the binary on `database` and waits until it listens.
fn start_server(
    data_dir: &std::path::Path,
    database: &DatabaseUrl,
    upstream: &str,
) -> ServerProcess {
    let mut command = process::command(data_dir);
    command
        .env("COUNCIL_LOG_FORMAT", "json")
        .env("BCRYPT_COST", "4")
        .env("OPENROUTER_BASE_URL", upstream)
        .env("COUNCIL_MODELS", COUNCIL.join(","))
        .env("COUNCIL_LEAD_MODEL", LEAD)
        .env("COUNCIL_TITLE_MODEL", "fake/title")
        .env("COUNCIL_INSTANCE_STALE_SECS", STALE_SECS.to_string())
        .env("COUNCIL_AUTH_RATE_PER_MINUTE", "0")
        .env("COUNCIL_SHUTDOWN_GRACE_SECS", "1");
    // SQLite is the default in the data directory, which the test
    // database already points at.
    if let DatabaseUrl::Postgres(url) = database {
        command.env("DATABASE_URL", url);
    }
    ServerProcess::start(command)
}

/// A client of the process now running at `base`, with `from`'s session
/// (the restarted server keeps the secrets, so the tokens stay valid).
fn client_of(base: &str, from: &Client) -> Client {
    let client = Client::new(base).expect("the server's URL");
    client.set_session(from.session());
    client
}

/// The conversation as the server shows it now.
async fn conversation(client: &Client, id: Uuid) -> Conversation {
    client.conversation(id).await.expect("the conversation")
}

/// Its `n`th message (from 0), which must be the council's answer.
fn answer(conversation: &Conversation, n: usize) -> &AssistantMessage {
    match conversation.messages.get(n) {
        Some(Message::Assistant(answer)) => answer,
        other => panic!("message {n} is not an answer: {other:?}"),
    }
}

/// Reads `events` until one that `pick` takes.
async fn until<T>(
    events: &mut EventStream,
    what: &str,
    pick: impl Fn(CouncilEvent) -> Option<T>,
) -> T {
    loop {
        match events.next().await {
            Some(Ok(event)) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            Some(Err(e)) => panic!("the stream failed before {what}: {e}"),
            None => panic!("the stream ended before {what}"),
        }
    }
}

/// Polls the conversation until `done` holds for it; panics at `deadline`.
async fn poll_until(
    client: &Client,
    id: Uuid,
    deadline: Duration,
    what: &str,
    done: impl Fn(&Conversation) -> bool,
) -> Conversation {
    let start = Instant::now();
    loop {
        let conv = conversation(client, id).await;
        if done(&conv) {
            return conv;
        }
        assert!(
            start.elapsed() < deadline,
            "{what} not within {deadline:?}; the conversation: {conv:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    result: String,
}

/// The number `sql` (a `SELECT COUNT(*) AS n ...`) counts.
fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    let q = diesel::sql_query(sql);
    let rows: Vec<Count> = match conn {
        DbConnection::Sqlite(c) => q.load(c),
        DbConnection::Pg(c) => q.load(c),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first().map_or(0, |r| r.n)
}

/// A message's status straight from the database, whether a server runs or not.
fn message_status(conn: &mut DbConnection, conversation: &str, seq: i32) -> String {
    #[derive(diesel::QueryableByName)]
    struct Status {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    let sql = format!(
        "SELECT COALESCE(status, '') AS status FROM messages \
         WHERE conversation_id = '{conversation}' AND seq = {seq}"
    );
    let q = diesel::sql_query(&sql);
    let rows: Vec<Status> = match conn {
        DbConnection::Sqlite(c) => q.load(c),
        DbConnection::Pg(c) => q.load(c),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().next().expect("the message exists").status
}

/// Every invariant the schema and the server keep between them, checked
/// on the whole database.
fn assert_consistent(conn: &mut DbConnection) {
    let invariants = [
        (
            "a message left running",
            "SELECT COUNT(*) AS n FROM messages WHERE status = 'running'",
        ),
        (
            "a message still owned by a server instance",
            "SELECT COUNT(*) AS n FROM messages WHERE runner_id IS NOT NULL",
        ),
        (
            "a conversation whose message_count is not its number of messages",
            "SELECT COUNT(*) AS n FROM conversations c WHERE c.message_count <> \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)",
        ),
        (
            // With UNIQUE (conversation_id, seq) and the count above, this
            // makes every conversation's seq exactly 1..=message_count.
            "a message outside its conversation's 1..=message_count",
            "SELECT COUNT(*) AS n FROM messages m JOIN conversations c \
             ON c.id = m.conversation_id WHERE m.seq < 1 OR m.seq > c.message_count",
        ),
        (
            "questions and answers out of turn",
            "SELECT COUNT(*) AS n FROM messages WHERE \
             (role = 'user' AND (seq % 2 = 0 OR status IS NOT NULL)) OR \
             (role = 'assistant' AND (seq % 2 = 1 OR status IS NULL))",
        ),
        (
            "a message without its conversation",
            "SELECT COUNT(*) AS n FROM messages m WHERE NOT EXISTS \
             (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id)",
        ),
        (
            "a conversation without its user",
            "SELECT COUNT(*) AS n FROM conversations c WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.id = c.user_id)",
        ),
        (
            "a key without its user",
            "SELECT COUNT(*) AS n FROM user_api_keys k WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.id = k.user_id)",
        ),
        (
            "a finished council without its stages",
            "SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant' AND \
             (stage1 IS NULL OR stage2 IS NULL OR metadata IS NULL)",
        ),
    ];
    for (what, sql) in invariants {
        assert_eq!(count(conn, sql), 0, "{what}");
    }
    if let DbConnection::Sqlite(c) = conn {
        let integrity: Vec<Check> =
            diesel::sql_query("SELECT integrity_check AS result FROM pragma_integrity_check")
                .load(c)
                .expect("integrity_check");
        let results: Vec<&str> = integrity.iter().map(|r| r.result.as_str()).collect();
        assert_eq!(results, ["ok"], "PRAGMA integrity_check");
        let broken = diesel::sql_query("SELECT \"table\" AS result FROM pragma_foreign_key_check")
            .load::<Check>(c)
            .expect("foreign_key_check");
        assert!(
            broken.is_empty(),
            "PRAGMA foreign_key_check: a broken reference"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_a_failed_run_with_its_stages_and_a_sound_database() {
    let fake = FakeUpstream::start().await.expect("fake upstream starts");
    let data_dir = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::create(data_dir.path());
    let mut server = start_server(data_dir.path(), &database.url, &fake.base_url());
    let mut client = Client::new(&server.base).expect("the server's URL");

    let email = crate::support::email("crash");
    client.register(&email, PASSWORD).await.expect("registered");
    client.save_api_key(KEY).await.expect("key saved");
    let conv = client
        .create_conversation(
            Some(COUNCIL.iter().map(|m| (*m).to_owned()).collect()),
            Some(LEAD.to_owned()),
        )
        .await
        .expect("conversation created")
        .id;

    // An exchange that completes before the crash.
    let first = client
        .send_message(conv, "Asked before the crash")
        .await
        .expect("answered");
    assert_eq!(first.status, RunStatus::Complete);
    let before = conversation(&client, conv).await;
    assert_eq!(before.message_count, 2);

    // The next council gets through stages 1 and 2, then its lead hangs.
    fake.set_behavior(
        LEAD,
        Behavior {
            outcome: Outcome::Hang,
            ..Behavior::default()
        },
    );
    let mut events = client
        .stream_message(conv, "Asked when the server dies")
        .await
        .expect("the council starts");
    let stage1: Vec<Stage1Result> = until(&mut events, "stage1_complete", |e| match e {
        CouncilEvent::Stage1Complete { data } => Some(data),
        _ => None,
    })
    .await;
    let (stage2, stage2_metadata): (Vec<Stage2Result>, _) =
        until(&mut events, "stage2_complete", |e| match e {
            CouncilEvent::Stage2Complete { data, metadata } => Some((data, metadata)),
            _ => None,
        })
        .await;
    until(&mut events, "stage3_start", |e| {
        matches!(e, CouncilEvent::Stage3Start { .. }).then_some(())
    })
    .await;
    assert_eq!(stage1.len(), COUNCIL.len());
    assert_eq!(stage2.len(), COUNCIL.len());
    // The lead's call is in flight, and the saver has stored both stages.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests_for(LEAD).len() < 2 {
        assert!(Instant::now() < deadline, "stage 3 never called the lead");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored = poll_until(
        &client,
        conv,
        Duration::from_secs(10),
        "stages 1 and 2 stored",
        |c| {
            matches!(c.messages.get(3), Some(Message::Assistant(m))
                if m.stage1 == stage1 && m.stage2 == stage2)
        },
    )
    .await;
    assert_eq!(answer(&stored, 3).status, RunStatus::Running);

    let killed = server.kill();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(killed.signal(), Some(9), "SIGKILL, not {killed:?}");
    }
    drop(events);
    // Nothing got to clean up after the kill: the run is still `running`.
    assert_eq!(
        message_status(&mut database.connect(), &conv.to_string(), 4),
        "running"
    );

    fake.set_behavior(LEAD, Behavior::default());
    let restarted_at = Instant::now();
    server = start_server(data_dir.path(), &database.url, &fake.base_url());
    client = client_of(&server.base, &client);
    let started_in = restarted_at.elapsed();
    if !database.is_postgres() {
        // One process per SQLite file: the start itself, before it
        // listens, fails the run.
        let first_look = conversation(&client, conv).await;
        assert_eq!(answer(&first_look, 3).status, RunStatus::Failed);
    }
    let after = poll_until(
        &client,
        conv,
        // On PostgreSQL the run waits for the stale window and a sweep.
        Duration::from_secs(STALE_SECS * 4 + 10),
        "the dead server's run marked failed",
        |c| answer(c, 3).status != RunStatus::Running,
    )
    .await;
    let failed_in = restarted_at.elapsed();
    eprintln!(
        "restart ({}): listening after {started_in:?}, run failed after {failed_in:?}",
        if database.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );

    let run = answer(&after, 3);
    assert_eq!(run.status, RunStatus::Failed, "{run:#?}");
    assert_eq!(run.error.as_deref(), Some(STOPPED_ERROR));
    assert_eq!(run.stage1, stage1, "finished stage 1 kept");
    assert_eq!(run.stage2, stage2, "finished stage 2 kept");
    assert_eq!(
        run.metadata.label_to_model, stage2_metadata.label_to_model,
        "the rankings' key kept"
    );
    assert_eq!(run.stage3, None);
    assert!(
        matches!(&after.messages[2], Message::User(q) if q.content == "Asked when the server dies"),
        "{:?}",
        after.messages[2]
    );
    assert_eq!(
        after.messages[..2],
        before.messages[..2],
        "earlier messages intact"
    );
    assert_eq!(after.message_count, 4);
    assert_eq!(after.title, before.title);

    // The conversation goes on.
    let next = client
        .send_message(conv, "Asked after the restart")
        .await
        .expect("answered");
    assert_eq!(next.status, RunStatus::Complete);
    let last = conversation(&client, conv).await;
    assert_eq!(last.message_count, 6);
    assert_eq!(last.messages[3], after.messages[3], "the failed run stays");

    let mut conn = database.connect();
    assert_consistent(&mut conn);
    assert_eq!(
        count_rows(&mut conn, "server_instances"),
        1,
        "the killed instance is forgotten, the live one registered"
    );

    // The restarted server still stops cleanly and deregisters.
    let stopped = server.terminate();
    assert!(stopped.success(), "{stopped:?}:\n{}", server.log_text());
    assert_eq!(count_rows(&mut conn, "server_instances"), 0);
    assert_consistent(&mut conn);
    drop(conn);
    fake.shutdown().await;
}
