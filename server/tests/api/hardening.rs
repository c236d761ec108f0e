//! Every failure answers `{"detail"}` with a telling 4xx; limits hold.

use reqwest::Method;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, email};

async fn raw_post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> crate::support::Resp {
    let mut req = app.client.post(app.url(path)).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    TestApp::read(req.send().await.expect("sent")).await
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let h = app
        .call(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    assert_eq!(h.body, json!({"status": "ok"}));
    let r = app
        .call(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(r.body, json!({"status": "ok"}));
}

#[tokio::test]
async fn malformed_bodies_get_400_or_422_with_detail() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("bodies")).await;
    let json_ct = Some("application/json");
    raw_post(
        &app,
        "/api/auth/login",
        None,
        json_ct,
        b"{not json".to_vec(),
    )
    .await
    .expect_error(400);
    raw_post(&app, "/api/auth/login", None, json_ct, b"".to_vec())
        .await
        .expect_error(400);
    raw_post(
        &app,
        "/api/auth/login",
        None,
        json_ct,
        br#"{"email":"a@x.io"}"#.to_vec(),
    )
    .await
    .expect_error(422);
    raw_post(
        &app,
        "/api/auth/login",
        None,
        json_ct,
        br#"{"email":1,"password":2}"#.to_vec(),
    )
    .await
    .expect_error(422);
    raw_post(&app, "/api/auth/login", None, json_ct, b"[]".to_vec())
        .await
        .expect_error(422);
    let no_ct = raw_post(
        &app,
        "/api/auth/login",
        None,
        None,
        br#"{"email":"a@x.io","password":"x"}"#.to_vec(),
    )
    .await;
    assert!(no_ct.status.is_client_error(), "{}", no_ct.status);
    assert!(!no_ct.detail().is_empty());
    raw_post(
        &app,
        "/api/conversations",
        Some(&s.access),
        json_ct,
        b"{oops".to_vec(),
    )
    .await
    .expect_error(400);
    raw_post(
        &app,
        "/api/settings/api-key",
        Some(&s.access),
        json_ct,
        br#"{"api_key":5}"#.to_vec(),
    )
    .await
    .expect_error(422);
    let q = app.get("/api/conversations?q=%FF%FE", &s.access).await;
    assert!(
        q.status.is_success() || q.status.as_u16() == 400,
        "{}",
        q.status
    );
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json() {
    let app = TestApp::spawn().await;
    let nf = app
        .call(Method::GET, "/api/nothing-here", None, None)
        .await
        .expect_error(404);
    assert_eq!(nf.body, json!({"detail": "Not Found"}));
    app.call(Method::GET, "/", None, None)
        .await
        .expect_error(404);
    let wm = app
        .call(Method::PUT, "/api/auth/login", None, Some(json!({})))
        .await
        .expect_error(405);
    assert_eq!(wm.body, json!({"detail": "Method Not Allowed"}));
    app.call(Method::DELETE, "/healthz", None, None)
        .await
        .expect_error(405);
    app.call(Method::GET, "/api/auth/register", None, None)
        .await
        .expect_error(405);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_get_413() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("big")).await;
    let huge = json!({"title": "x".repeat(1024 * 1024 + 10)})
        .to_string()
        .into_bytes();
    let id = app.new_conversation(&s.access).await;
    let req = app
        .client
        .patch(app.url(&format!("/api/conversations/{id}")))
        .bearer_auth(&s.access)
        .header("content-type", "application/json")
        .body(huge.clone());
    TestApp::read(req.send().await.expect("sent"))
        .await
        .expect_error(413);
    raw_post(
        &app,
        "/api/conversations",
        Some(&s.access),
        Some("application/json"),
        huge.clone(),
    )
    .await
    .expect_error(413);
    raw_post(
        &app,
        "/api/auth/register",
        None,
        Some("application/json"),
        huge,
    )
    .await
    .expect_error(413);
    // Just under the limit is read (and refused for what it says, not its size).
    let fits = json!({"title": "x".repeat(1000 * 1000)});
    app.call(
        Method::PATCH,
        &format!("/api/conversations/{id}"),
        Some(&s.access),
        Some(fits),
    )
    .await
    .expect_error(400);
}

#[tokio::test]
async fn login_and_register_are_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.auth_rate_per_minute = 3).await;
    for i in 0..3 {
        app.post(
            "/api/auth/register",
            None,
            json!({"email": email(&format!("rl{i}")), "password": PASSWORD}),
        )
        .await
        .expect(200);
    }
    let limited = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": email("rl4"), "password": PASSWORD}),
        )
        .await
        .expect_error(429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    app.login(&email("rl5"), PASSWORD).await.expect_error(429);
}

#[tokio::test]
async fn login_is_rate_limited_per_email() {
    let app = TestApp::spawn().await;
    let addr = email("victim");
    app.register(&addr).await;
    // Register counted once; nine wrong guesses fill the burst of ten.
    for _ in 0..9 {
        app.login(&addr, "wrong password").await.expect_error(401);
    }
    let limited = app.login(&addr, PASSWORD).await.expect_error(429);
    assert!(limited.headers.contains_key("retry-after"));
    // Another account from the same address is not affected.
    let other = email("bystander");
    app.register(&other).await;
    app.login(&other, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn no_input_gets_a_500() {
    let app = TestApp::spawn().await;
    let s = app.register(&email("fuzz")).await;
    let weird = [
        json!(null),
        json!("string"),
        json!({"email": "\u{0000}@x.io", "password": "\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}"}),
        json!({"email": "😀@😀.io", "password": "😀😀😀😀😀😀😀😀"}),
        json!({"email": "a@x.io", "password": "p".repeat(10_000)}),
        json!({"title": "\u{0000}"}),
        json!({"models": ["a/\u{0000}", "b/c"]}),
        json!({"api_key": "\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}"}),
        json!({"refresh_token": "a.b.c"}),
    ];
    let id = app.new_conversation(&s.access).await;
    let paths = [
        (Method::POST, "/api/auth/register".to_owned()),
        (Method::POST, "/api/auth/login".to_owned()),
        (Method::POST, "/api/auth/refresh".to_owned()),
        (Method::POST, "/api/auth/logout".to_owned()),
        (Method::POST, "/api/auth/password".to_owned()),
        (Method::POST, "/api/settings/api-key".to_owned()),
        (Method::POST, "/api/conversations".to_owned()),
        (Method::PATCH, format!("/api/conversations/{id}")),
    ];
    for (method, path) in &paths {
        for body in &weird {
            let r = app
                .call(method.clone(), path, Some(&s.access), Some(body.clone()))
                .await;
            assert!(
                r.status.is_success() || r.status.is_client_error(),
                "{method} {path} with {body}: {}",
                r.status
            );
            if !r.status.is_success() {
                assert!(r.body["detail"].is_string(), "{method} {path}: {}", r.body);
            }
        }
    }
    for q in ["%00", "%25%00", "%5C", "'%20OR%201=1--"] {
        let r = app
            .get(&format!("/api/conversations?q={q}"), &s.access)
            .await;
        assert!(
            r.status.is_success() || r.status.as_u16() == 400,
            "q={q}: {}",
            r.status
        );
    }
    for path in [
        "/api/conversations/%00",
        "/api/conversations/..%2F..",
        "/api/settings/api-key/%FF",
        "/api/settings/api-key/%00",
    ] {
        let r = app.call(Method::GET, path, Some(&s.access), None).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
        let r = app.call(Method::DELETE, path, Some(&s.access), None).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
    }
}
