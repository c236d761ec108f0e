//! `/api/conversations`: create, list, search, get, rename, delete, and
//! isolation between users.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{LEAD, MODELS, TestApp, email, ts};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn create_with_defaults_and_with_a_chosen_council() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("conv")).await;

    let plain = app
        .post("/api/conversations", Some(&s.access), json!({}))
        .await
        .expect(200);
    assert_eq!(plain.body["title"], "New Conversation");
    assert_eq!(plain.body["models"], json!(MODELS));
    assert_eq!(plain.body["lead_model"], LEAD);
    assert_eq!(plain.body["message_count"], 0);
    assert_eq!(plain.body["messages"], json!([]));
    assert_eq!(plain.body["created_at"], plain.body["updated_at"]);

    // No body at all also takes the defaults.
    let raw = app
        .client
        .post(app.url("/api/conversations"))
        .bearer_auth(&s.access)
        .send()
        .await
        .expect("sent");
    let no_body = TestApp::read(raw).await.expect(200);
    assert_eq!(no_body.body["models"], json!(MODELS));

    // Any well-formed id is accepted; duplicates drop, the first kept; the
    // lead need not sit on the council.
    let chosen = app
        .post(
            "/api/conversations",
            Some(&s.access),
            json!({"models": ["b/two", "a/one", "b/two", "c/three:free"], "lead_model": "z/chair"}),
        )
        .await
        .expect(200);
    assert_eq!(
        chosen.body["models"],
        json!(["b/two", "a/one", "c/three:free"])
    );
    assert_eq!(chosen.body["lead_model"], "z/chair");
    let fetched = app
        .get(
            &format!(
                "/api/conversations/{}",
                chosen.body["id"].as_str().expect("id")
            ),
            &s.access,
        )
        .await
        .expect(200);
    assert_eq!(fetched.body, chosen.body);
}

#[tokio::test]
async fn create_refuses_bad_councils() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("badconv")).await;
    let nine: Vec<String> = (0..9).map(|i| format!("v/m{i}")).collect();
    for body in [
        json!({"models": []}),
        json!({"models": ["a/one"]}),
        json!({"models": ["a/one", "a/one"]}),
        json!({"models": nine}),
        json!({"models": ["a/one", ""]}),
        json!({"models": ["a/one", "no-slash"]}),
        json!({"models": ["a/one", "a/b/c"]}),
        json!({"models": ["a/one", format!("a/{}", "x".repeat(100))]}),
        json!({"models": ["a/one", "b/two"], "lead_model": "bad lead"}),
        json!({"lead_model": ""}),
    ] {
        app.post("/api/conversations", Some(&s.access), body.clone())
            .await
            .expect_error(400);
    }
    app.post(
        "/api/conversations",
        Some(&s.access),
        json!({"models": "a/one"}),
    )
    .await
    .expect_error(422);
    assert_eq!(
        app.get("/api/conversations", &s.access)
            .await
            .expect(200)
            .body,
        json!([])
    );
}

#[tokio::test]
async fn list_is_newest_activity_first_with_message_counts() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("list")).await;
    let first = app.new_conversation(&s.access).await;
    let second = app.new_conversation(&s.access).await;
    let third = app.new_conversation(&s.access).await;
    assert_eq!(
        ids(&app
            .get("/api/conversations", &s.access)
            .await
            .expect(200)
            .body),
        [&third, &second, &first].map(String::as_str)
    );

    // A message makes the first the most recent; so does a rename of the second.
    app.add_user_message(&first, "a question").await;
    app.add_user_message(&first, "a follow-up").await;
    let list = app.get("/api/conversations", &s.access).await.expect(200);
    assert_eq!(
        ids(&list.body),
        [&first, &third, &second].map(String::as_str)
    );
    assert_eq!(list.body[0]["message_count"], 2);
    assert_eq!(list.body[1]["message_count"], 0);
    assert!(
        list.body[0].get("messages").is_none(),
        "summaries carry no messages"
    );

    app.call(
        Method::PATCH,
        &format!("/api/conversations/{second}"),
        Some(&s.access),
        Some(json!({"title": "Renamed"})),
    )
    .await
    .expect(200);
    assert_eq!(
        ids(&app
            .get("/api/conversations", &s.access)
            .await
            .expect(200)
            .body),
        [&second, &first, &third].map(String::as_str)
    );

    let full = app
        .get(&format!("/api/conversations/{first}"), &s.access)
        .await
        .expect(200);
    let msgs = full.body["messages"].as_array().expect("messages");
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[0]["content"], "a question");
    assert_eq!(msgs[1]["content"], "a follow-up");
}

#[tokio::test]
async fn search_matches_titles_and_messages_case_insensitively() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("search")).await;
    let rust = app.new_conversation(&s.access).await;
    let tokio = app.new_conversation(&s.access).await;
    let percent = app.new_conversation(&s.access).await;
    rename(&app, &s.access, &rust, "Rust error handling")
        .await
        .expect(200);
    rename(&app, &s.access, &percent, "Growth of 50% a_b")
        .await
        .expect(200);
    app.add_user_message(&tokio, "Is Tokio the right RUNTIME here?")
        .await;

    assert_eq!(
        search(&app, &s.access, "ERROR").await,
        [&rust].map(String::as_str)
    );
    assert_eq!(
        search(&app, &s.access, "runtime").await,
        [&tokio].map(String::as_str),
        "message text is searched"
    );
    assert_eq!(
        search(&app, &s.access, "50%").await,
        [&percent].map(String::as_str)
    );
    assert!(
        search(&app, &s.access, "5%").await.is_empty(),
        "% is a literal character"
    );
    assert_eq!(
        search(&app, &s.access, "a_b").await,
        [&percent].map(String::as_str)
    );
    assert!(
        search(&app, &s.access, "r_st").await.is_empty(),
        "_ is a literal character"
    );
    assert!(
        search(&app, &s.access, "nothing like this")
            .await
            .is_empty()
    );
    assert_eq!(
        search(&app, &s.access, "").await.len(),
        3,
        "an empty query lists everything"
    );
}

async fn rename(app: &TestApp, token: &str, id: &str, title: &str) -> crate::support::Resp {
    app.call(
        Method::PATCH,
        &format!("/api/conversations/{id}"),
        Some(token),
        Some(json!({"title": title})),
    )
    .await
}

async fn search(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let url = format!("/api/conversations?q={}", urlencode(q));
    ids(&app.get(&url, token).await.expect(200).body)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn rename_validates_the_title() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("rename")).await;
    let id = app.new_conversation(&s.access).await;
    let path = format!("/api/conversations/{id}");
    let patch = |body: Value| app.call(Method::PATCH, &path, Some(&s.access), Some(body));
    patch(json!({"title": ""})).await.expect_error(400);
    patch(json!({"title": "   "})).await.expect_error(400);
    patch(json!({"title": "t".repeat(201)}))
        .await
        .expect_error(400);
    patch(json!({})).await.expect_error(422);
    let ok = patch(json!({"title": format!("  {}  ", "t".repeat(200))}))
        .await
        .expect(200);
    assert_eq!(ok.body["title"], "t".repeat(200));
    assert!(ok.body.get("messages").is_none(), "PATCH answers a summary");
    assert!(ts(&ok.body["updated_at"]) > ts(&ok.body["created_at"]));
}

#[tokio::test]
async fn delete_removes_the_conversation_and_its_messages() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("delconv")).await;
    let id = app.new_conversation(&s.access).await;
    app.add_user_message(&id, "bye").await;
    let path = format!("/api/conversations/{id}");
    let r = app
        .call(Method::DELETE, &path, Some(&s.access), None)
        .await
        .expect(200);
    assert_eq!(r.body, json!({"status": "deleted"}));
    app.get(&path, &s.access).await.expect_error(404);
    app.call(Method::DELETE, &path, Some(&s.access), None)
        .await
        .expect_error(404);
    let mut conn = app.connect_db();
    assert_eq!(crate::support::count_rows(&mut conn, "messages"), 0);
}

#[tokio::test]
async fn another_users_conversation_is_a_404_for_every_verb() {
    let app = TestApp::spawn().await;
    let owner = app.register(&email("owner")).await;
    let other = app.register(&email("other")).await;
    let id = app.new_conversation(&owner.access).await;
    let path = format!("/api/conversations/{id}");

    assert_eq!(
        app.get("/api/conversations", &other.access)
            .await
            .expect(200)
            .body,
        json!([])
    );
    let get = app.get(&path, &other.access).await.expect_error(404);
    let patch = app
        .call(
            Method::PATCH,
            &path,
            Some(&other.access),
            Some(json!({"title": "mine now"})),
        )
        .await
        .expect_error(404);
    let delete = app
        .call(Method::DELETE, &path, Some(&other.access), None)
        .await
        .expect_error(404);
    let missing = app
        .get(
            &format!("/api/conversations/{}", uuid::Uuid::new_v4()),
            &other.access,
        )
        .await
        .expect_error(404);
    assert_eq!(
        get.body, missing.body,
        "indistinguishable from a missing one"
    );
    assert_eq!(patch.body, missing.body);
    assert_eq!(delete.body, missing.body);

    // Untouched for its owner.
    let still = app.get(&path, &owner.access).await.expect(200);
    assert_eq!(still.body["title"], "New Conversation");
    // Ids that are not UUIDs cannot exist either.
    app.get("/api/conversations/not-a-uuid", &owner.access)
        .await
        .expect_error(404);
    // And nothing without a token.
    app.call(Method::GET, &path, None, None)
        .await
        .expect_error(401);
    app.call(Method::GET, "/api/conversations", None, None)
        .await
        .expect_error(401);
    app.call(Method::POST, "/api/conversations", None, Some(json!({})))
        .await
        .expect_error(401);
}

#[tokio::test]
async fn models_come_from_configuration() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("models")).await;
    let r = app.get("/api/models", &s.access).await.expect(200);
    assert_eq!(
        r.body,
        json!({"models": MODELS, "default_models": MODELS, "default_lead_model": LEAD})
    );
    app.call(Method::GET, "/api/models", None, None)
        .await
        .expect_error(401);
}

// Search: relevance, words, fragments, odd input, isolation, and the index
// kept in sync with what the server stores.

/// A conversation holding `messages` (as user messages), created now: the
/// later a call, the newer its conversation.
async fn conversation_saying(app: &TestApp, token: &str, messages: &[&str]) -> String {
    let id = app.new_conversation(token).await;
    for m in messages {
        app.add_user_message(&id, m).await;
    }
    id
}

fn filler(words: usize) -> String {
    [
        "the", "council", "weighs", "each", "answer", "with", "care", "and",
    ]
    .iter()
    .cycle()
    .take(words)
    .copied()
    .collect::<Vec<_>>()
    .join(" ")
}

#[tokio::test]
async fn search_ranks_by_relevance_then_recency() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("rank")).await;
    let focused = conversation_saying(&app, &s.access, &["Tokio, tokio: the tokio runtime."]).await;
    let passing = conversation_saying(
        &app,
        &s.access,
        &[&format!("{} and tokio once {}", filler(120), filler(120))],
    )
    .await;
    let unrelated = conversation_saying(&app, &s.access, &["nothing to see"]).await;

    assert_eq!(
        ids(&app
            .get("/api/conversations", &s.access)
            .await
            .expect(200)
            .body),
        [&unrelated, &passing, &focused].map(String::as_str),
        "without q: newest activity first"
    );
    assert_eq!(
        search(&app, &s.access, "tokio").await,
        [&focused, &passing].map(String::as_str),
        "the conversation about it beats the newer one that mentions it once"
    );

    // Equal relevance: the newer first.
    let twin_old = conversation_saying(&app, &s.access, &["zebras graze at dawn"]).await;
    let twin_new = conversation_saying(&app, &s.access, &["zebras graze at dawn"]).await;
    assert_eq!(
        search(&app, &s.access, "zebra").await,
        [&twin_new, &twin_old].map(String::as_str)
    );
}

#[tokio::test]
async fn search_puts_title_matches_first() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("title")).await;
    let titled = app.new_conversation(&s.access).await;
    rename(&app, &s.access, &titled, "Kubernetes notes")
        .await
        .expect(200);
    let body = conversation_saying(
        &app,
        &s.access,
        &["kubernetes kubernetes kubernetes", "more kubernetes"],
    )
    .await;
    assert_eq!(
        search(&app, &s.access, "kubernetes").await,
        [&titled, &body].map(String::as_str),
        "a title match outranks any number of matches in messages"
    );
    // The same with a query too short for the index (a scan).
    let short = app.new_conversation(&s.access).await;
    rename(&app, &s.access, &short, "Go tips").await.expect(200);
    let said = conversation_saying(&app, &s.access, &["let us go"]).await;
    assert_eq!(
        search(&app, &s.access, "go").await,
        [&short, &said].map(String::as_str)
    );
}

#[tokio::test]
async fn search_finds_the_text_as_it_is_written() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("phrase")).await;
    let phrase = conversation_saying(&app, &s.access, &["how does Tokio schedule tasks?"]).await;
    rename(&app, &s.access, &phrase, "Rust questions")
        .await
        .expect(200);
    let apart = conversation_saying(&app, &s.access, &["tasks first; tokio schedule later"]).await;
    let split = conversation_saying(&app, &s.access, &["about tokio", "schedule it"]).await;

    let only_phrase = [&phrase].map(String::as_str);
    assert_eq!(
        search(&app, &s.access, "tokio schedule tasks").await,
        only_phrase,
        "the words in that order, in one message"
    );
    assert_eq!(
        search(&app, &s.access, "  TOKIO SCHEDULE t ").await,
        only_phrase,
        "trimmed, any case"
    );
    assert_eq!(search(&app, &s.access, "does tokio").await, only_phrase);
    assert_eq!(
        sorted(search(&app, &s.access, "tokio schedule").await),
        sorted(vec![apart.clone(), phrase.clone()])
    );
    for q in [
        "tasks tokio",
        "tokio  schedule",
        "tokio tasks",
        "questions how",
    ] {
        assert!(search(&app, &s.access, q).await.is_empty(), "q={q}");
    }
    assert_eq!(
        sorted(search(&app, &s.access, "tokio").await),
        sorted(vec![split.clone(), apart, phrase]),
        "{split} has the words in two messages"
    );
    assert!(
        search(&app, &s.access, "tokio schedule it")
            .await
            .is_empty()
    );
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn search_finds_prefixes_and_fragments_inside_words() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("fragment")).await;
    let db = conversation_saying(&app, &s.access, &["We moved from MySQL to PostgreSQL."]).await;
    let found = [&db].map(String::as_str);
    for q in [
        "postg",
        "gres",
        "greSQL",
        "SQL",
        "ql",
        "PostgreSQL.",
        "mysql to post",
    ] {
        assert_eq!(search(&app, &s.access, q).await, found, "q={q}");
    }
    for q in ["postgresqlx", "xq", "gres sqlite"] {
        assert!(search(&app, &s.access, q).await.is_empty(), "q={q}");
    }
}

#[tokio::test]
async fn search_takes_every_character_literally() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("literal")).await;
    let odd = conversation_saying(
        &app,
        &s.access,
        &["SELECT * FROM t WHERE a = 'x' -- it's NEAR/2 (parens) AND-OR: C++ ^caret \\path"],
    )
    .await;
    let unicode = conversation_saying(&app, &s.access, &["naïve café; 日本語のテキスト"]).await;
    rename(&app, &s.access, &odd, "Say \"hi\" {braces}")
        .await
        .expect(200);
    let plain = conversation_saying(&app, &s.access, &["plain words only"]).await;

    let only_odd = [&odd].map(String::as_str);
    for q in [
        "\"", "\"hi\"", "*", "'", "it's", "'x'", "-", "--", ":", "AND-OR:", "NEAR/2", "NEAR",
        "AND", "(parens)", "(", ")", "C++", "^caret", "\\path", "\\", "{braces}", "a =",
    ] {
        assert_eq!(search(&app, &s.access, q).await, only_odd, "q={q}");
    }
    for q in ["café", "naïve", "日本語", "本語", "テキスト"] {
        assert_eq!(
            search(&app, &s.access, q).await,
            [&unicode].map(String::as_str),
            "q={q}"
        );
    }
    // FTS syntax that must not be read as such: nothing contains these.
    for q in [
        "NEAR(a b)",
        "\"unbalanced",
        "plain NOT words",
        "plain OR nothing",
        "-plain",
        "plain*x",
        "text:plain",
        "^plain",
        "''",
        "😀",
        "\\%",
    ] {
        assert!(search(&app, &s.access, q).await.is_empty(), "q={q}");
    }
    // Long input answers, and cannot find what is not there.
    assert!(search(&app, &s.access, &"x".repeat(5000)).await.is_empty());
    let many: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
    assert!(search(&app, &s.access, &many.join(" ")).await.is_empty());
    // A long passage of a message finds it; changed at its end, it does
    // not (the index only looks up its start).
    let passage = format!("{} END", "Plain words, only longer. ".repeat(400));
    let long = conversation_saying(&app, &s.access, &[&passage]).await;
    assert_eq!(
        search(&app, &s.access, &passage).await,
        [&long].map(String::as_str)
    );
    let changed = format!("{} end!", &passage[..passage.len() - 4]);
    assert!(search(&app, &s.access, &changed).await.is_empty());
    assert_eq!(
        search(&app, &s.access, "plain words, only longer").await,
        [&long].map(String::as_str)
    );
    assert_eq!(
        search(&app, &s.access, "plain words only").await,
        [&plain].map(String::as_str)
    );
}

#[tokio::test]
async fn search_never_finds_another_users_conversations() {
    let app = TestApp::spawn().await;
    let owner = app.register(&email("owner-s")).await;
    let other = app.register(&email("other-s")).await;
    let mine = conversation_saying(&app, &owner.access, &["zebra crossing"]).await;
    rename(&app, &owner.access, &mine, "Zebra plans")
        .await
        .expect(200);
    let theirs = conversation_saying(&app, &other.access, &["zebra zebra zebra"]).await;
    for q in ["zebra", "zeb", "ze", "z", "zebra plans", "crossing"] {
        let for_owner = search(&app, &owner.access, q).await;
        let for_other = search(&app, &other.access, q).await;
        assert!(!for_owner.contains(&theirs), "q={q}");
        assert!(!for_other.contains(&mine), "q={q}");
    }
    assert_eq!(
        search(&app, &other.access, "zebra").await,
        [&theirs].map(String::as_str)
    );
    assert!(search(&app, &other.access, "plans").await.is_empty());
    let nobody = app.register(&email("empty-s")).await;
    assert!(search(&app, &nobody.access, "zebra").await.is_empty());
}

/// Rows of the search index: documents on PostgreSQL, FTS entries on SQLite
/// (where the FTS table is kept beside `search_docs`).
fn indexed(app: &TestApp) -> (i64, i64) {
    let mut conn = app.connect_db();
    let docs = crate::support::count_rows(&mut conn, "search_docs");
    let entries = if app.is_postgres() {
        docs
    } else {
        crate::support::count_rows(&mut conn, "search_index")
    };
    (docs, entries)
}

#[tokio::test]
async fn search_follows_renames_new_messages_and_deletes() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("sync")).await;
    let id = app.new_conversation(&s.access).await;
    let found = [&id].map(String::as_str);
    assert_eq!(
        search(&app, &s.access, "conversation").await,
        found,
        "the default title is searchable"
    );
    rename(&app, &s.access, &id, "Alpha project")
        .await
        .expect(200);
    assert_eq!(search(&app, &s.access, "alpha").await, found);
    assert!(search(&app, &s.access, "conversation").await.is_empty());
    rename(&app, &s.access, &id, "Beta project")
        .await
        .expect(200);
    assert!(search(&app, &s.access, "alpha").await.is_empty());
    assert_eq!(search(&app, &s.access, "beta").await, found);
    assert!(search(&app, &s.access, "gamma").await.is_empty());
    app.add_user_message(&id, "gamma rays").await;
    assert_eq!(search(&app, &s.access, "gamma").await, found);
    assert_eq!(search(&app, &s.access, "gamma ray").await, found);
    assert!(
        search(&app, &s.access, "project gamma").await.is_empty(),
        "the title and a message are separate texts"
    );

    let keep = conversation_saying(&app, &s.access, &["gamma too"]).await;
    assert_eq!(indexed(&app), (4, 4), "two titles, two messages");
    app.call(
        Method::DELETE,
        &format!("/api/conversations/{id}"),
        Some(&s.access),
        None,
    )
    .await
    .expect(200);
    assert!(search(&app, &s.access, "beta").await.is_empty());
    assert_eq!(
        search(&app, &s.access, "gamma").await,
        [&keep].map(String::as_str)
    );
    assert_eq!(
        indexed(&app),
        (2, 2),
        "the deleted conversation left nothing"
    );

    // Deleting the account removes the rest.
    app.call(
        Method::DELETE,
        "/api/auth/me",
        Some(&s.access),
        Some(json!({"password": crate::support::PASSWORD})),
    )
    .await
    .expect(200);
    assert_eq!(indexed(&app), (0, 0));
}

#[tokio::test]
async fn a_finished_answer_becomes_searchable() {
    use council_testkit::{Behavior, FakeUpstream};

    let fake = FakeUpstream::start().await.expect("fake upstream starts");
    let base = fake.base_url();
    let app = TestApp::spawn_with(|c| c.openrouter_base_url = base).await;
    let s = app.register(&email("answer")).await;
    app.save_key(&s.access, "sk-or-v1-search-test").await;
    fake.set_behavior(
        "fake/chair",
        Behavior {
            reply: Some("The council's verdict: travel by Zeppelin.".into()),
            ..Behavior::default()
        },
    );
    fake.set_behavior(
        "fake/alpha",
        Behavior {
            reply: Some("A stage-one aside about xylographs.".into()),
            ..Behavior::default()
        },
    );
    let id = app
        .conversation_with(&s.access, &["fake/alpha", "fake/beta"], "fake/chair")
        .await;
    assert!(search(&app, &s.access, "zeppelin").await.is_empty());
    let answer = app
        .ask(&s.access, &id, "How should I cross the Atlantic?")
        .await
        .expect(200);
    assert_eq!(answer.body["status"], "complete");
    let found = [&id].map(String::as_str);
    assert_eq!(
        search(&app, &s.access, "zeppelin").await,
        found,
        "the final answer"
    );
    assert_eq!(
        search(&app, &s.access, "verdict: travel by zeppelin").await,
        found,
        "a phrase of it"
    );
    assert!(
        search(&app, &s.access, "atlantic zeppelin")
            .await
            .is_empty()
    );
    assert!(
        search(&app, &s.access, "xylograph").await.is_empty(),
        "stage-1 answers are not searched, only the final answer"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn the_search_migration_indexes_existing_conversations() {
    use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
    const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
    const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

    let app = TestApp::spawn().await;
    let s = app.register(&email("backfill")).await;
    let titled = app.new_conversation(&s.access).await;
    rename(&app, &s.access, &titled, "Backfilled title")
        .await
        .expect(200);
    let said = conversation_saying(&app, &s.access, &["a backfilled message"]).await;

    // Down and up again: the rows written before the migration are indexed.
    let mut conn = app.connect_db();
    match &mut conn {
        council_server::db::DbConnection::Sqlite(c) => {
            let m = search_migration(&SQLITE);
            c.revert_migration(m.as_ref()).expect("down");
            c.run_migration(m.as_ref()).expect("up");
        }
        council_server::db::DbConnection::Pg(c) => {
            let m = search_migration(&POSTGRES);
            c.revert_migration(m.as_ref()).expect("down");
            c.run_migration(m.as_ref()).expect("up");
        }
    }
    assert_eq!(
        search(&app, &s.access, "backfilled").await,
        [&titled, &said].map(String::as_str)
    );
    assert_eq!(
        search(&app, &s.access, "message").await,
        [&said].map(String::as_str)
    );
}

fn search_migration<DB: diesel::backend::Backend>(
    source: &impl diesel::migration::MigrationSource<DB>,
) -> Box<dyn diesel::migration::Migration<DB>> {
    source
        .migrations()
        .expect("migrations")
        .into_iter()
        .find(|m| m.name().to_string().ends_with("_search"))
        .expect("the search migration")
}

#[tokio::test]
async fn a_damaged_stored_id_is_a_server_error_not_a_nil_uuid() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let s = app.register(&email("damaged")).await;
    let id = app.new_conversation(&s.access).await;
    app.add_user_message(&id, "a question").await;
    app.connect_db()
        .batch_execute(&format!(
            "UPDATE messages SET id = 'not-a-uuid' WHERE conversation_id = '{id}'"
        ))
        .expect("damage the row");

    let r = app
        .get(&format!("/api/conversations/{id}"), &s.access)
        .await
        .expect_error(500);
    assert_eq!(r.detail(), "Internal server error");
    // The rest of the account still works.
    app.get("/api/conversations", &s.access).await.expect(200);
}
