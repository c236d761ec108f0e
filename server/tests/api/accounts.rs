//! `/api/auth`: register, login, refresh, logout, me, password, deletion.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, email, session};

#[tokio::test]
async fn register_then_me() {
    let app = TestApp::spawn().await;
    let addr = email("reg");
    // Raw: the answer's shape is the contract (`TestApp::register` goes
    // through council-client, which only needs it to parse).
    let registered = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": addr, "password": PASSWORD}),
        )
        .await
        .expect(200);
    let s = session(&addr, &registered.body);
    let me = app.get("/api/auth/me", &s.access).await.expect(200);
    assert_eq!(me.body["email"], addr.as_str());
    assert!(uuid::Uuid::parse_str(me.body["id"].as_str().expect("id")).is_ok());
    let created = me.body["created_at"].as_str().expect("created_at");
    assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'));
    assert_eq!(
        me.body.as_object().map(|o| o.len()),
        Some(3),
        "exactly id, email, created_at"
    );
}

#[tokio::test]
async fn register_refuses_bad_input_and_duplicates() {
    let app = TestApp::spawn().await;
    let reg = |e: &str, p: &str| {
        app.post(
            "/api/auth/register",
            None,
            json!({"email": e, "password": p}),
        )
    };
    for bad in ["no-at-sign", "a@b", "a b@x.io", "a@@x.io", ""] {
        reg(bad, PASSWORD).await.expect_error(400);
    }
    reg(&email("short"), "1234567").await.expect_error(400);
    reg(&email("long"), &"p".repeat(72)).await.expect_error(400);
    reg(&email("max"), &"p".repeat(71)).await.expect(200);

    let addr = email("dup");
    app.register(&addr).await;
    let again = reg(&format!("  {}  ", addr.to_uppercase()), PASSWORD)
        .await
        .expect_error(400);
    assert_eq!(again.detail(), "Email already registered");
}

#[tokio::test]
async fn login_is_case_insensitive_and_failures_look_alike() {
    let app = TestApp::spawn().await;
    let addr = email("login");
    app.register(&addr).await;
    let ok = app
        .login(&format!(" {} ", addr.to_uppercase()), PASSWORD)
        .await
        .expect(200);
    session(&addr, &ok.body);

    let wrong = app.login(&addr, "wrong password").await.expect_error(401);
    let unknown = app
        .login(&email("nobody"), PASSWORD)
        .await
        .expect_error(401);
    let malformed = app.login("not an email", PASSWORD).await.expect_error(401);
    let too_long = app
        .login(&addr, &format!("{PASSWORD}{}", "x".repeat(80)))
        .await
        .expect_error(401);
    assert_eq!(wrong.body, json!({"detail": "Invalid email or password"}));
    assert_eq!(
        unknown.body, wrong.body,
        "same body whether the email exists or not"
    );
    assert_eq!(malformed.body, wrong.body);
    assert_eq!(too_long.body, wrong.body);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_only_that_login() {
    let app = TestApp::spawn().await;
    let addr = email("rot");
    let first_login = app.register(&addr).await;
    let other_login = app.login(&addr, PASSWORD).await.expect(200);
    let other = session(&addr, &other_login.body);

    let rotated = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": first_login.refresh}),
        )
        .await
        .expect(200);
    let next = session(&addr, &rotated.body);
    assert_ne!(next.refresh, first_login.refresh, "a new refresh token");
    app.get("/api/auth/me", &next.access).await.expect(200);

    // The rotated-away token is presented again: theft. That login's whole
    // family is revoked, including the token just issued...
    app.refresh(&first_login.refresh).await.expect_error(401);
    app.refresh(&next.refresh).await.expect_error(401);
    // ...while the user's other login keeps working.
    app.refresh(&other.refresh).await.expect(200);
}

#[tokio::test]
async fn refresh_refuses_access_tokens_and_garbage() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("kind")).await;
    app.refresh(&s.access).await.expect_error(401);
    app.refresh("garbage").await.expect_error(401);
    // And the refresh token is no access token.
    app.get("/api/auth/me", &s.refresh).await.expect_error(401);
}

#[tokio::test]
async fn logout_revokes_the_family() {
    let app = TestApp::spawn().await;
    let addr = email("out");
    let s = app.register(&addr).await;
    let r = app
        .post(
            "/api/auth/logout",
            None,
            json!({"refresh_token": s.refresh}),
        )
        .await
        .expect(200);
    assert_eq!(r.body, json!({"status": "ok"}));
    app.refresh(&s.refresh).await.expect_error(401);
    app.post(
        "/api/auth/logout",
        None,
        json!({"refresh_token": s.refresh}),
    )
    .await
    .expect_error(401);
    app.post("/api/auth/logout", None, json!({"refresh_token": "nope"}))
        .await
        .expect_error(401);
    app.post("/api/auth/logout", None, json!({"refresh_token": s.access}))
        .await
        .expect_error(401);
}

#[tokio::test]
async fn me_needs_a_valid_access_token() {
    let app = TestApp::spawn().await;
    let me = app
        .call(Method::GET, "/api/auth/me", None, None)
        .await
        .expect_error(401);
    assert!(!me.detail().is_empty());
    app.get("/api/auth/me", "not-a-token")
        .await
        .expect_error(401);
    let raw = app
        .client
        .get(app.url("/api/auth/me"))
        .header("authorization", "Basic dXNlcjpwdw==")
        .send()
        .await
        .expect("sent");
    TestApp::read(raw).await.expect_error(401);
}

#[tokio::test]
async fn access_tokens_expire() {
    let app = TestApp::spawn_with(|c| c.access_token_ttl = Duration::from_secs(1)).await;
    let s = app.register(&email("ttl")).await;
    app.get("/api/auth/me", &s.access).await.expect(200);
    // TTL 1 s plus the 2 s leeway, and a margin for the second boundary.
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let expired = app.get("/api/auth/me", &s.access).await.expect_error(401);
    assert_eq!(expired.detail(), "Token expired");
    // The refresh token still gets a fresh access token.
    let r = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": s.refresh}),
        )
        .await
        .expect(200);
    app.get(
        "/api/auth/me",
        r.body["access_token"].as_str().expect("token"),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn expired_refresh_tokens_are_refused() {
    let app = TestApp::spawn_with(|c| c.refresh_token_ttl = Duration::from_secs(1)).await;
    let s = app.register(&email("rttl")).await;
    tokio::time::sleep(Duration::from_millis(4200)).await;
    app.refresh(&s.refresh).await.expect_error(401);
}

#[tokio::test]
async fn password_change_revokes_every_refresh_token() {
    let app = TestApp::spawn().await;
    let addr = email("pw");
    let s = app.register(&addr).await;
    let second = session(&addr, &app.login(&addr, PASSWORD).await.expect(200).body);
    let change = |current: &str, new: &str| {
        app.post(
            "/api/auth/password",
            Some(&s.access),
            json!({"current_password": current, "new_password": new}),
        )
    };
    change(PASSWORD, "short").await.expect_error(400);
    change("wrong password", "a much better one")
        .await
        .expect_error(401);
    app.login(&addr, PASSWORD).await.expect(200);

    let ok = change(PASSWORD, "a much better one").await.expect(200);
    assert_eq!(ok.body, json!({"status": "ok"}));
    for token in [&s.refresh, &second.refresh] {
        app.refresh(token).await.expect_error(401);
    }
    app.login(&addr, PASSWORD).await.expect_error(401);
    app.login(&addr, "a much better one").await.expect(200);
    app.call(
        Method::POST,
        "/api/auth/password",
        None,
        Some(json!({"current_password": "x", "new_password": "yyyyyyyy"})),
    )
    .await
    .expect_error(401);
}

#[tokio::test]
async fn deleting_the_account_removes_everything() {
    let app = TestApp::spawn().await;
    let addr = email("del");
    let s = app.register(&addr).await;
    let conv = app.new_conversation(&s.access).await;
    app.add_user_message(&conv, "hello").await;
    app.post(
        "/api/settings/api-key",
        Some(&s.access),
        json!({"api_key": "sk-or-v1-0123456789"}),
    )
    .await
    .expect(200);

    delete_account(&app, &s.access, "wrong password")
        .await
        .expect_error(401);
    let r = delete_account(&app, &s.access, PASSWORD).await.expect(200);
    assert_eq!(r.body, json!({"status": "deleted"}));

    // The still-unexpired access token no longer works; nor does the login.
    app.get("/api/auth/me", &s.access).await.expect_error(401);
    app.get("/api/conversations", &s.access)
        .await
        .expect_error(401);
    app.login(&addr, PASSWORD).await.expect_error(401);
    app.refresh(&s.refresh).await.expect_error(401);

    // Nothing of the user is left in any table (ON DELETE CASCADE).
    let mut conn = app.connect_db();
    for table in [
        "users",
        "user_api_keys",
        "refresh_token_families",
        "conversations",
        "messages",
    ] {
        assert_eq!(
            crate::support::count_rows(&mut conn, table),
            0,
            "{table} still has rows"
        );
    }
    // The email can be registered again.
    app.register(&addr).await;
}

#[tokio::test]
async fn a_deleted_account_is_refused_by_every_server_of_the_database() {
    let app = TestApp::spawn().await;
    // A second server on the same database and secrets: a replica on
    // PostgreSQL, a second process on the same file on SQLite.
    let replica = council_server::Server::start(&app.config)
        .await
        .expect("a second server starts");
    let replica_me = format!("http://{}/api/auth/me", replica.addr());
    let me_there = |token: String| {
        let (client, url) = (app.client.clone(), replica_me.clone());
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("the replica answers")
                .status()
                .as_u16()
        }
    };
    let s = app.register(&email("replica")).await;
    // Both servers now know the account (and remember it).
    app.get("/api/auth/me", &s.access).await.expect(200);
    for _ in 0..3 {
        assert_eq!(me_there(s.access.clone()).await, 200);
    }

    delete_account(&app, &s.access, PASSWORD).await.expect(200);
    app.get("/api/auth/me", &s.access).await.expect_error(401);
    // The other server learns of it at its next poll of the deletions.
    let deleted = std::time::Instant::now();
    let mut status = me_there(s.access.clone()).await;
    while status == 200 && deleted.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        status = me_there(s.access.clone()).await;
    }
    assert_eq!(status, 401, "still accepted {:?} after", deleted.elapsed());
    assert!(
        deleted.elapsed() < council_server::auth::cache::FRESH,
        "refused only after {:?}",
        deleted.elapsed()
    );
    replica.shutdown().await.expect("the replica stops");
}

async fn delete_account(app: &TestApp, token: &str, password: &str) -> crate::support::Resp {
    app.call(
        Method::DELETE,
        "/api/auth/me",
        Some(token),
        Some(json!({"password": password})),
    )
    .await
}
