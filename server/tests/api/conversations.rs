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
