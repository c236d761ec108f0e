//! What the client does without a server: which URLs it takes, and that
//! no secret reaches `Debug` output or an error. (Its behaviour against a
//! real server is tested in `tui/tests/client.rs`: this crate may not
//! depend on the server, not even for tests.)

use council_client::{Client, Session};

#[tokio::test]
async fn debug_output_holds_no_secret() {
    let client = Client::new("http://user:hunter2-password@127.0.0.1:9/").expect("a valid URL");
    assert_eq!(
        client.base_url(),
        "http://user:hunter2-password@127.0.0.1:9"
    );
    let session = Session {
        access_token: "access-secret-value".into(),
        refresh_token: "refresh-secret-value".into(),
    };
    client.set_session(Some(session.clone()));
    for shown in [format!("{client:?}"), format!("{session:?}")] {
        for secret in ["hunter2", "access-secret", "refresh-secret"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
    }
    assert!(format!("{client:?}").contains("127.0.0.1:9"));
    let error = client.me().await.expect_err("nothing listens there");
    let shown = format!("{error} {error:?}");
    for secret in ["hunter2", "access-secret", "refresh-secret"] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
}

#[test]
fn only_http_urls_are_servers() {
    assert!(Client::new("ftp://example.com").is_err());
    assert!(Client::new("not a url").is_err());
    assert!(Client::new("").is_err());
    let client = Client::new(" https://council.example.com/base/ ").expect("valid");
    assert_eq!(client.base_url(), "https://council.example.com/base");
}
