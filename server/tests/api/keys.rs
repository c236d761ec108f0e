//! `/api/settings`: provider keys, sealed at rest.

use reqwest::Method;
use serde_json::json;

use crate::support::{TestApp, contains, database_contents, email, ts};

const KEY: &str = "sk-or-v1-plaintext-never-stored-4f2a";

#[tokio::test]
async fn save_list_replace_delete() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("keys")).await;
    let none = app
        .get("/api/settings/api-keys", &s.access)
        .await
        .expect(200);
    assert_eq!(none.body, json!([]));

    let saved = app
        .post(
            "/api/settings/api-key",
            Some(&s.access),
            json!({"api_key": format!("  {KEY}  ")}),
        )
        .await
        .expect(200);
    assert_eq!(saved.body["provider"], "openrouter");
    assert_eq!(saved.body["key_hint"], "...4f2a");
    let fields: Vec<&String> = saved.body.as_object().expect("object").keys().collect();
    assert_eq!(
        fields,
        ["created_at", "id", "key_hint", "provider", "updated_at"]
    );
    assert!(!saved.body.to_string().contains(KEY));

    let listed = app
        .get("/api/settings/api-keys", &s.access)
        .await
        .expect(200);
    assert_eq!(listed.body, json!([saved.body.clone()]));

    // Saving again replaces the key of that provider: still one row, same
    // id and creation time, new hint and update time.
    let replaced = app
        .post(
            "/api/settings/api-key",
            Some(&s.access),
            json!({"api_key": "sk-or-v1-second-key-9999", "provider": "openrouter"}),
        )
        .await
        .expect(200);
    assert_eq!(replaced.body["id"], saved.body["id"]);
    assert_eq!(replaced.body["created_at"], saved.body["created_at"]);
    assert_eq!(replaced.body["key_hint"], "...9999");
    assert!(ts(&replaced.body["updated_at"]) > ts(&saved.body["updated_at"]));
    let listed = app
        .get("/api/settings/api-keys", &s.access)
        .await
        .expect(200);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));

    let del = app
        .call(
            Method::DELETE,
            "/api/settings/api-key/openrouter",
            Some(&s.access),
            None,
        )
        .await
        .expect(200);
    assert_eq!(del.body, json!({"status": "deleted"}));
    app.call(
        Method::DELETE,
        "/api/settings/api-key/openrouter",
        Some(&s.access),
        None,
    )
    .await
    .expect_error(404);
    app.call(
        Method::DELETE,
        "/api/settings/api-key/acme",
        Some(&s.access),
        None,
    )
    .await
    .expect_error(404);
    assert_eq!(
        app.get("/api/settings/api-keys", &s.access)
            .await
            .expect(200)
            .body,
        json!([])
    );
}

#[tokio::test]
async fn bad_keys_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("badkeys")).await;
    for body in [
        json!({"api_key": "short"}),
        json!({"api_key": "          x         "}),
        json!({"api_key": "sk-or-v1 with spaces"}),
        json!({"api_key": "sk-or-v1-0123456789", "provider": "acme"}),
    ] {
        app.post("/api/settings/api-key", Some(&s.access), body)
            .await
            .expect_error(400);
    }
    app.post(
        "/api/settings/api-key",
        Some(&s.access),
        json!({"provider": "openrouter"}),
    )
    .await
    .expect_error(422);
    assert_eq!(
        app.get("/api/settings/api-keys", &s.access)
            .await
            .expect(200)
            .body,
        json!([])
    );
}

#[tokio::test]
async fn keys_need_authentication_and_stay_per_user() {
    let app = TestApp::spawn().await;
    let a = app.register(&email("ka")).await;
    let b = app.register(&email("kb")).await;
    app.call(Method::GET, "/api/settings/api-keys", None, None)
        .await
        .expect_error(401);
    app.call(
        Method::POST,
        "/api/settings/api-key",
        None,
        Some(json!({"api_key": KEY})),
    )
    .await
    .expect_error(401);
    app.call(
        Method::DELETE,
        "/api/settings/api-key/openrouter",
        None,
        None,
    )
    .await
    .expect_error(401);

    app.post(
        "/api/settings/api-key",
        Some(&a.access),
        json!({"api_key": KEY}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get("/api/settings/api-keys", &b.access)
            .await
            .expect(200)
            .body,
        json!([])
    );
    app.call(
        Method::DELETE,
        "/api/settings/api-key/openrouter",
        Some(&b.access),
        None,
    )
    .await
    .expect_error(404);
    let still = app
        .get("/api/settings/api-keys", &a.access)
        .await
        .expect(200);
    assert_eq!(still.body.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_plaintext_key_is_nowhere_in_the_database() {
    let mut app = TestApp::spawn().await;
    let s = app.register(&email("sealed")).await;
    app.post(
        "/api/settings/api-key",
        Some(&s.access),
        json!({"api_key": KEY}),
    )
    .await
    .expect(200);
    // Stopping the server releases the pool, so SQLite's WAL is as it was written.
    app.stop().await;
    let bytes = database_contents(&app);
    assert!(
        contains(&bytes, "...4f2a"),
        "the hint is stored (so the dump really saw the row)"
    );
    assert!(
        !contains(&bytes, KEY),
        "the plaintext key is in the database"
    );
    assert!(
        !contains(&bytes, "plaintext-never-stored"),
        "part of the key is in the database"
    );
}

#[tokio::test]
async fn a_sealed_key_copied_to_another_user_does_not_open() {
    use council_server::db::api_keys;
    let app = TestApp::spawn().await;
    let a = app.register(&email("owner")).await;
    let b = app.register(&email("thief")).await;
    app.post(
        "/api/settings/api-key",
        Some(&a.access),
        json!({"api_key": KEY}),
    )
    .await
    .expect(200);
    app.post(
        "/api/settings/api-key",
        Some(&b.access),
        json!({"api_key": "sk-or-v1-bs-own-key"}),
    )
    .await
    .expect(200);
    let state = app.server.as_ref().expect("running").state().clone();
    let a_id = app.get("/api/auth/me", &a.access).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let b_id = app.get("/api/auth/me", &b.access).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let (a_row, b_row) = {
        let a_uuid: uuid::Uuid = a_id.parse().expect("a uuid");
        let b_uuid: uuid::Uuid = b_id.parse().expect("a uuid");
        state
            .db
            .read(move |c| {
                Ok((
                    api_keys::find(c, a_uuid, "openrouter")?.expect("a's key"),
                    api_keys::find(c, b_uuid, "openrouter")?.expect("b's key"),
                ))
            })
            .await
            .expect("read")
    };
    use secrecy::ExposeSecret;
    let opened = state
        .sealer
        .open(&a_id, "openrouter", &a_row.encrypted_key)
        .expect("owner opens");
    assert_eq!(opened.expose_secret(), KEY);
    assert!(
        state
            .sealer
            .open(&b_id, "openrouter", &a_row.encrypted_key)
            .is_err()
    );
    assert!(
        state
            .sealer
            .open(&b_id, "openrouter", &b_row.encrypted_key)
            .is_ok()
    );
}
