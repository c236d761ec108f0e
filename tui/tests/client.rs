//! The `council-client` crate against a real `council-server` (in-process,
//! SQLite in a temporary directory) whose models are a fake upstream. Here
//! rather than in that crate: it must not depend on the server.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use council_client::{Client, ClientError, Session};
use council_server::Server;
use council_shared::{CouncilEvent, Message, RunStatus};
use council_testkit::FakeUpstream;
use futures_util::StreamExt;

const PASSWORD: &str = "correct horse battery";
const KEY: &str = "sk-or-v1-client-test-key-0001";
const MODELS: &[&str] = &["fake/alpha", "fake/beta", "fake/gamma"];
const LEAD: &str = "fake/chair";
const NO_KEY: &str = "No API key configured. Please add your OpenRouter API key in Settings.";
/// Nothing listens on the discard port of loopback.
const UNREACHABLE: &str = "http://127.0.0.1:9";

/// A server on its own database, with a fake upstream behind it.
struct Harness {
    server: Option<Server>,
    base: String,
    _fake: FakeUpstream,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Harness {
        Harness::start_with(Duration::from_secs(900)).await
    }

    /// A server whose access tokens live `access_ttl`.
    async fn start_with(access_ttl: Duration) -> Harness {
        let fake = FakeUpstream::start()
            .await
            .expect("the fake upstream starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = common::server_config(dir.path(), fake.base_url(), MODELS, LEAD);
        config.access_token_ttl = access_ttl;
        let server = Server::start(&config).await.expect("the server starts");
        let base = format!("http://{}", server.addr());
        Harness {
            server: Some(server),
            base,
            _fake: fake,
            _dir: dir,
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.base).expect("a valid base URL")
    }

    /// A client signed in as a new user.
    async fn user(&self, tag: &str) -> (Client, String) {
        let client = self.client();
        let email = email(tag);
        client
            .register(&email, PASSWORD)
            .await
            .expect("registration succeeds");
        (client, email)
    }

    /// A signed-in client whose user has saved a provider key.
    async fn user_with_key(&self, tag: &str) -> Client {
        let (client, _) = self.user(tag).await;
        client.save_api_key(KEY).await.expect("the key is saved");
        client
    }

    /// The status of a refresh with `refresh_token`, sent by hand.
    async fn raw_refresh(&self, refresh_token: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/api/auth/refresh", self.base))
            .json(&serde_json::json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .expect("the refresh reaches the server")
            .status()
            .as_u16()
    }

    /// Waits until the server refuses `access_token` (its TTL plus the
    /// server's leeway), checking by hand so the client is not involved.
    async fn wait_until_expired(&self, access_token: &str) {
        let started = Instant::now();
        let http = reqwest::Client::new();
        loop {
            let status = http
                .get(format!("{}/api/auth/me", self.base))
                .bearer_auth(access_token)
                .send()
                .await
                .expect("the check reaches the server")
                .status();
            if status == reqwest::StatusCode::UNAUTHORIZED {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "the access token never expired"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

/// A unique email for a test.
fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Records what the client reports through `on_session_change`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Option<Session>>>>);

impl Seen {
    fn watch(client: &Client) -> Seen {
        let seen = Seen::default();
        let sink = seen.clone();
        client.on_session_change(Arc::new(move |session| {
            sink.0.lock().expect("the recorder lock").push(session);
        }));
        seen
    }

    fn all(&self) -> Vec<Option<Session>> {
        self.0.lock().expect("the recorder lock").clone()
    }

    fn clear(&self) {
        self.0.lock().expect("the recorder lock").clear();
    }
}

#[track_caller]
fn assert_api<T>(result: Result<T, ClientError>, status: u16) -> String {
    match result {
        Err(ClientError::Api { status: s, detail }) => {
            assert_eq!(s, status, "unexpected status; detail: {detail}");
            assert!(!detail.is_empty(), "an API error without detail");
            detail
        }
        Err(other) => panic!("expected an API error {status}, got {other:?}"),
        Ok(_) => panic!("expected an API error {status}, got a success"),
    }
}

// ------------------------------------------------------------------ accounts

#[tokio::test]
async fn register_signs_in_and_tells_the_app() {
    let h = Harness::start().await;
    let client = h.client();
    let seen = Seen::watch(&client);
    let email = email("register");
    let session = client
        .register(&email, PASSWORD)
        .await
        .expect("registration succeeds");
    assert_eq!(client.session(), Some(session.clone()));
    assert_eq!(seen.all(), vec![Some(session)]);
    let me = client.me().await.expect("me answers");
    assert_eq!(me.email, email);

    let again = h.client().register(&email, PASSWORD).await;
    assert_eq!(assert_api(again, 400), "Email already registered");
    h.stop().await;
}

#[tokio::test]
async fn login_checks_the_password() {
    let h = Harness::start().await;
    let (_, email) = h.user("login").await;
    let client = h.client();
    let seen = Seen::watch(&client);

    let refused = client.login(&email, "not the password").await;
    assert_eq!(
        refused,
        Err(ClientError::Api {
            status: 401,
            detail: "Invalid email or password".into()
        })
    );
    assert_eq!(refused.err().and_then(|e| e.status()), Some(401));
    assert_eq!(client.session(), None, "a refused login leaves no session");
    assert!(seen.all().is_empty(), "nothing to persist after a refusal");

    let session = client
        .login(&email, PASSWORD)
        .await
        .expect("login succeeds");
    assert_eq!(client.session(), Some(session.clone()));
    assert_eq!(seen.all(), vec![Some(session)]);
    h.stop().await;
}

#[tokio::test]
async fn without_a_session_nothing_is_sent() {
    // Pointed at a port nobody listens on: a request would be a Network error.
    let client = Client::new(UNREACHABLE).expect("a valid base URL");
    assert_eq!(client.me().await.err(), Some(ClientError::SessionExpired));
    assert_eq!(
        client.conversations(None).await.err(),
        Some(ClientError::SessionExpired)
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error() {
    let client = Client::new(UNREACHABLE).expect("a valid base URL");
    match client.login("someone@example.com", PASSWORD).await {
        Err(ClientError::Network(message)) => {
            assert!(
                message.contains("127.0.0.1:9"),
                "names the server: {message}"
            );
            assert!(!message.contains(PASSWORD));
        }
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_error_without_json_uses_the_status_reason() {
    // The fake upstream is no Council server: it answers 404 with no body.
    let fake = FakeUpstream::start()
        .await
        .expect("the fake upstream starts");
    let client = Client::new(&fake.base_url()).expect("a valid base URL");
    assert_eq!(
        client.login("someone@example.com", PASSWORD).await,
        Err(ClientError::Api {
            status: 404,
            detail: "Not Found".into()
        })
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let h = Harness::start().await;
    let (client, _) = h.user("logout").await;
    let seen = Seen::watch(&client);
    let session = client.session().expect("signed in");
    client.logout().await.expect("logout succeeds");
    assert_eq!(client.session(), None);
    assert_eq!(seen.all(), vec![None]);
    assert_eq!(h.raw_refresh(&session.refresh_token).await, 401);
    // Signed out already: nothing to do, nothing to report.
    client.logout().await.expect("a second logout is fine");
    assert_eq!(seen.all(), vec![None]);
    h.stop().await;
}

#[tokio::test]
async fn logout_forgets_the_session_even_when_the_server_is_unreachable() {
    let h = Harness::start().await;
    let (signed_in, _) = h.user("offline").await;
    let session = signed_in.session().expect("signed in");

    let offline = Client::new(UNREACHABLE).expect("a valid base URL");
    offline.set_session(Some(session.clone()));
    let seen = Seen::watch(&offline);
    let result = offline.logout().await;
    assert!(
        matches!(result, Err(ClientError::Network(_))),
        "the failure is reported: {result:?}"
    );
    assert_eq!(offline.session(), None, "the session is gone anyway");
    assert_eq!(seen.all(), vec![None]);
    // The server never heard of it, so the login still works there.
    assert_eq!(h.raw_refresh(&session.refresh_token).await, 200);
    h.stop().await;
}

#[tokio::test]
async fn changing_the_password_keeps_this_client_signed_in() {
    let h = Harness::start().await;
    let (client, email) = h.user("password").await;
    let before = client.session().expect("signed in");
    let new_password = "a brand new passphrase";

    let wrong = client
        .change_password("not the password", new_password)
        .await;
    assert_eq!(assert_api(wrong, 401), "Current password is incorrect");
    assert!(
        client.session().is_some(),
        "a wrong password keeps the session"
    );

    let weak = client.change_password(PASSWORD, "short").await;
    assert_api(weak, 400);

    client
        .change_password(PASSWORD, new_password)
        .await
        .expect("the password changes");
    let after = client.session().expect("still signed in");
    assert_ne!(after, before);
    client.me().await.expect("the new session works");
    assert_eq!(
        h.raw_refresh(&before.refresh_token).await,
        401,
        "the old login is revoked"
    );
    assert_api(h.client().login(&email, PASSWORD).await, 401);
    h.client()
        .login(&email, new_password)
        .await
        .expect("the new password works");
    h.stop().await;
}

#[tokio::test]
async fn deleting_the_account_ends_the_session() {
    let h = Harness::start().await;
    let (client, email) = h.user("delete").await;
    let seen = Seen::watch(&client);
    assert_api(client.delete_account("not the password").await, 401);
    assert!(client.session().is_some());
    seen.clear();

    client
        .delete_account(PASSWORD)
        .await
        .expect("the account is deleted");
    assert_eq!(client.session(), None);
    assert_eq!(seen.all(), vec![None]);
    assert_api(h.client().login(&email, PASSWORD).await, 401);
    h.stop().await;
}

// ------------------------------------------------------- keys and models

#[tokio::test]
async fn keys_can_be_saved_listed_and_deleted() {
    let h = Harness::start().await;
    let (client, _) = h.user("keys").await;
    assert!(client.api_keys().await.expect("listed").is_empty());

    let saved = client.save_api_key(KEY).await.expect("saved");
    assert_eq!(saved.provider, "openrouter");
    assert_eq!(saved.key_hint, "...0001");
    assert_api(client.save_api_key("short").await, 400);

    let keys = client.api_keys().await.expect("listed");
    assert_eq!(keys, vec![saved]);

    client.delete_api_key("openrouter").await.expect("deleted");
    assert!(client.api_keys().await.expect("listed").is_empty());
    assert_api(client.delete_api_key("openrouter").await, 404);
    h.stop().await;
}

#[tokio::test]
async fn models_come_from_the_server() {
    let h = Harness::start().await;
    let (client, _) = h.user("models").await;
    let models = client.models().await.expect("models");
    assert_eq!(models.models, MODELS);
    assert_eq!(models.default_models, MODELS);
    assert_eq!(models.default_lead_model, LEAD);
    h.stop().await;
}

// ---------------------------------------------------------- conversations

#[tokio::test]
async fn conversations_can_be_created_listed_searched_renamed_and_deleted() {
    let h = Harness::start().await;
    let (client, _) = h.user("conversations").await;

    let default = client
        .create_conversation(None, None)
        .await
        .expect("created with the defaults");
    assert_eq!(default.title, "New Conversation");
    assert_eq!(default.models, MODELS);
    assert_eq!(default.lead_model, LEAD);
    assert!(default.messages.is_empty());

    let chosen = client
        .create_conversation(
            Some(vec!["fake/alpha".into(), "fake/beta".into()]),
            Some("fake/beta".into()),
        )
        .await
        .expect("created with a chosen council");
    assert_eq!(chosen.models, ["fake/alpha", "fake/beta"]);
    assert_eq!(chosen.lead_model, "fake/beta");
    assert_api(
        client
            .create_conversation(Some(vec!["fake/alpha".into()]), None)
            .await,
        400,
    );

    let literal = client
        .create_conversation(None, None)
        .await
        .expect("created");
    let renamed = client
        .rename_conversation(default.id, "Budget 100% done & dusted + more")
        .await
        .expect("renamed");
    assert_eq!(renamed.title, "Budget 100% done & dusted + more");
    client
        .rename_conversation(literal.id, "Budget 1000 done")
        .await
        .expect("renamed");
    assert_api(client.rename_conversation(chosen.id, "").await, 400);

    let all = client.conversations(None).await.expect("listed");
    assert_eq!(all.len(), 3);

    // `%` is a literal character, and `&`, `+` and spaces survive encoding.
    let found = client
        .conversations(Some("100% done & dusted + m"))
        .await
        .expect("searched");
    assert_eq!(
        found.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![default.id]
    );
    let none = client
        .conversations(Some("nothing like this"))
        .await
        .expect("searched");
    assert!(none.is_empty());

    let fetched = client.conversation(default.id).await.expect("fetched");
    assert_eq!(fetched.title, "Budget 100% done & dusted + more");
    assert_eq!(fetched.summary(), renamed);

    client
        .delete_conversation(default.id)
        .await
        .expect("deleted");
    assert_api(client.conversation(default.id).await, 404);
    assert_api(client.delete_conversation(default.id).await, 404);

    // Another user's conversation is answered as a missing one.
    let (stranger, _) = h.user("stranger").await;
    assert_api(stranger.conversation(chosen.id).await, 404);
    h.stop().await;
}

#[tokio::test]
async fn send_message_returns_the_complete_answer() {
    let h = Harness::start().await;
    let client = h.user_with_key("send").await;
    let conversation = client
        .create_conversation(None, None)
        .await
        .expect("created");
    let answer = client
        .send_message(conversation.id, "What is a council?")
        .await
        .expect("the council answers");
    assert_eq!(answer.status, RunStatus::Complete);
    assert_eq!(answer.error, None);
    assert_eq!(answer.stage1.len(), MODELS.len());
    assert_eq!(answer.stage2.len(), MODELS.len());
    let stage3 = answer.stage3.as_ref().expect("a final answer");
    assert_eq!(stage3.model, LEAD);
    assert_eq!(answer.metadata.label_to_model.len(), MODELS.len());

    let stored = client.conversation(conversation.id).await.expect("fetched");
    assert_eq!(stored.messages.len(), 2);
    match &stored.messages[1] {
        Message::Assistant(stored_answer) => assert_eq!(**stored_answer, answer),
        Message::User(_) => panic!("the answer is not the last message"),
    }
    assert_api(client.send_message(conversation.id, "   ").await, 400);
    h.stop().await;
}

#[tokio::test]
async fn stream_message_yields_the_council_events_in_order() {
    let h = Harness::start().await;
    let client = h.user_with_key("stream").await;
    let conversation = client
        .create_conversation(None, None)
        .await
        .expect("created");
    let mut stream = client
        .stream_message(conversation.id, "Stream me an answer")
        .await
        .expect("the server accepts the question");
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.expect("every event is a council event"));
    }

    let Some(CouncilEvent::MessageCreated {
        assistant_message_id,
        ..
    }) = events.first().cloned()
    else {
        panic!("the first event is not message_created: {events:?}");
    };
    let Some(CouncilEvent::Complete { message }) = events.last() else {
        panic!("the last event is not complete: {events:?}");
    };
    assert_eq!(message.id, assistant_message_id);
    assert_eq!(message.status, RunStatus::Complete);
    let position = |wanted: fn(&CouncilEvent) -> bool| {
        events
            .iter()
            .position(wanted)
            .unwrap_or_else(|| panic!("an expected event is missing: {events:?}"))
    };
    let stage1 = position(|e| matches!(e, CouncilEvent::Stage1Start { .. }));
    let stage1_done = position(|e| matches!(e, CouncilEvent::Stage1Complete { .. }));
    let stage2 = position(|e| matches!(e, CouncilEvent::Stage2Start));
    let stage2_done = position(|e| matches!(e, CouncilEvent::Stage2Complete { .. }));
    let stage3 = position(|e| matches!(e, CouncilEvent::Stage3Start { .. }));
    let stage3_done = position(|e| matches!(e, CouncilEvent::Stage3Complete { .. }));
    position(|e| matches!(e, CouncilEvent::TitleComplete { .. }));
    assert!(
        0 < stage1
            && stage1 < stage1_done
            && stage1_done < stage2
            && stage2 < stage2_done
            && stage2_done < stage3
            && stage3 < stage3_done
            && stage3_done < events.len() - 1,
        "stages out of order: {events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| e.is_terminal()).count(),
        1,
        "exactly one terminal event, the last"
    );

    let stored = client.conversation(conversation.id).await.expect("fetched");
    assert_eq!(stored.messages.len(), 2);
    h.stop().await;
}

#[tokio::test]
async fn stream_message_without_a_key_is_refused_before_any_event() {
    let h = Harness::start().await;
    let (client, _) = h.user("nokey").await;
    let conversation = client
        .create_conversation(None, None)
        .await
        .expect("created");
    let refused = client
        .stream_message(conversation.id, "Anyone there?")
        .await;
    assert_eq!(assert_api(refused, 400), NO_KEY);
    assert_api(
        client
            .stream_message(uuid::Uuid::new_v4(), "Anyone there?")
            .await,
        404,
    );
    h.stop().await;
}

#[tokio::test]
async fn cancel_without_a_run_is_404() {
    let h = Harness::start().await;
    let (client, _) = h.user("cancel").await;
    let conversation = client
        .create_conversation(None, None)
        .await
        .expect("created");
    assert_api(client.cancel(conversation.id).await, 404);
    assert_api(client.cancel(uuid::Uuid::new_v4()).await, 404);
    h.stop().await;
}

// ----------------------------------------------------------- token refresh

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once() {
    let h = Harness::start_with(Duration::from_secs(1)).await;
    let (client, email) = h.user("refresh").await;
    let seen = Seen::watch(&client);
    let old = client.session().expect("signed in");
    h.wait_until_expired(&old.access_token).await;

    let me = client.me().await.expect("me succeeds after a refresh");
    assert_eq!(me.email, email);
    let new = client.session().expect("still signed in");
    assert_ne!(new.access_token, old.access_token);
    assert_ne!(new.refresh_token, old.refresh_token);
    assert_eq!(seen.all(), vec![Some(new.clone())], "exactly one refresh");
    assert_eq!(
        h.raw_refresh(&new.refresh_token).await,
        200,
        "the rotated refresh token works"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_401s_share_one_refresh() {
    let h = Harness::start_with(Duration::from_secs(1)).await;
    let (client, email) = h.user("single-flight").await;
    let seen = Seen::watch(&client);
    let old = client.session().expect("signed in");
    h.wait_until_expired(&old.access_token).await;

    let calls = (0..5).map(|_| {
        let client = client.clone();
        async move { client.me().await }
    });
    let results = futures_util::future::join_all(calls).await;
    for result in results {
        assert_eq!(result.expect("every call succeeds").email, email);
    }
    let reported = seen.all();
    assert_eq!(reported.len(), 1, "a single refresh: {reported:?}");
    assert_eq!(reported[0], client.session());
    assert!(reported[0].is_some());
    // Had a rotated-away token been presented, the server would have revoked
    // the login and this would fail.
    client.me().await.expect("the login is intact");
    h.stop().await;
}

#[tokio::test]
async fn a_revoked_login_ends_the_session() {
    let h = Harness::start_with(Duration::from_secs(1)).await;
    let (client, _) = h.user("revoked").await;
    let seen = Seen::watch(&client);
    let session = client.session().expect("signed in");

    // Another client holding the same login signs out, revoking it.
    let other = h.client();
    other.set_session(Some(session.clone()));
    other.logout().await.expect("logout succeeds");

    h.wait_until_expired(&session.access_token).await;
    assert_eq!(client.me().await.err(), Some(ClientError::SessionExpired));
    assert_eq!(client.session(), None);
    assert_eq!(seen.all(), vec![None]);
    // No session now: refused locally.
    assert_eq!(client.me().await.err(), Some(ClientError::SessionExpired));
    h.stop().await;
}
