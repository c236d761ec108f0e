//! The `council-server` binary: subcommands and refusals at start-up.

use std::process::{Command, Stdio};

use crate::process::{BIN, ServerProcess, command as server};

#[test]
fn gen_key_prints_32_bytes_of_base64() {
    use base64::Engine;
    let out = Command::new(BIN).arg("gen-key").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64");
    assert_eq!(bytes.len(), 32);
    let again = Command::new(BIN).arg("gen-key").output().expect("runs");
    assert_ne!(again.stdout, text.as_bytes(), "a new key each time");
}

#[test]
fn the_placeholder_secret_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = server(dir.path())
        .env("JWT_SECRET", "change-me-in-production")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("JWT_SECRET") && err.contains("placeholder"),
        "{err}"
    );
}

#[test]
fn a_short_jwt_secret_stops_the_start_without_echoing_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = server(dir.path())
        .env("JWT_SECRET", "too-short-secret-value")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32 bytes"), "{err}");
    assert!(
        !err.contains("too-short-secret-value"),
        "the secret was echoed: {err}"
    );
}

#[test]
fn a_bad_encryption_key_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = server(dir.path())
        .env("API_KEY_ENCRYPTION_KEY", "bm90IDMyIGJ5dGVz")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("API_KEY_ENCRYPTION_KEY") && err.contains("32 bytes"),
        "{err}"
    );
}

#[test]
fn credentials_directory_secrets_are_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = tempfile::tempdir().expect("tempdir");
    // A placeholder in the credential file proves the file was read.
    std::fs::write(creds.path().join("jwt_secret"), "change-me-in-production\n").expect("write");
    let out = server(dir.path())
        .env("CREDENTIALS_DIRECTORY", creds.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("placeholder"));
    assert!(
        !dir.path().join("jwt_secret").exists(),
        "nothing generated when a credential exists"
    );
}

#[test]
fn migrate_applies_then_reports_up_to_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = server(dir.path()).arg("migrate").output().expect("runs");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("applied"), "{text}");
    let second = server(dir.path()).arg("migrate").output().expect("runs");
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
    assert!(dir.path().join("council.db").exists());
    assert!(
        !dir.path().join("jwt_secret").exists(),
        "migrate needs no secrets"
    );
}

#[test]
fn serve_generates_private_secrets_once_and_logs_only_paths() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = server(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut log = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let secret = std::fs::read_to_string(dir.path().join("jwt_secret")).expect("generated");
    let key =
        std::fs::read_to_string(dir.path().join("api_key_encryption_key")).expect("generated");
    assert!(
        log.contains("jwt_secret") && log.contains("api_key_encryption_key"),
        "{log}"
    );
    assert!(
        !log.contains(secret.trim()) && !log.contains(key.trim()),
        "a secret value was logged"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["jwt_secret", "api_key_encryption_key", "council.db"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{f} is readable by others");
        }
    }
}

async fn full_run(base: &str, password: &str, key: &str) -> Vec<String> {
    use serde_json::{Value, json};
    let http = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut r = http.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let tokens: Value = post(
        "/api/auth/register",
        None,
        json!({"email": "logs@example.com", "password": password}),
    )
    .await
    .expect("register")
    .json()
    .await
    .expect("json");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let wrong = post(
        "/api/auth/login",
        None,
        json!({"email": "logs@example.com", "password": "a wrong guess"}),
    )
    .await
    .expect("login");
    assert_eq!(wrong.status(), 401);
    post(
        "/api/settings/api-key",
        Some(&access),
        json!({"api_key": key}),
    )
    .await
    .expect("key");
    let conv: Value = post("/api/conversations", Some(&access), json!({}))
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = conv["id"].as_str().expect("id").to_owned();
    let answer = post(
        &format!("/api/conversations/{id}/message"),
        Some(&access),
        json!({"content": "Is this logged?"}),
    )
    .await
    .expect("ask");
    assert_eq!(answer.status(), 200);
    let rotated: Value = post("/api/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .expect("refresh")
        .json()
        .await
        .expect("json");
    let second = rotated["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    post(
        "/api/auth/logout",
        None,
        json!({"refresh_token": second.clone()}),
    )
    .await
    .expect("logout");
    vec![access, refresh, second]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_have_a_line_per_request_and_no_secret() {
    let fake = council_testkit::FakeUpstream::start().await.expect("fake");
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let jwt = "jwt-secret-for-the-log-test-0123456789abcdef";
        let enc = council_server::crypto::KeySealer::generate_master_key().expect("key");
        let password = "password-that-must-not-leak";
        let key = "sk-or-v1-key-that-must-not-leak";
        let mut command = server(dir.path());
        command
            .env("RUST_LOG", "debug")
            .env("COUNCIL_LOG_FORMAT", format)
            .env("JWT_SECRET", jwt)
            .env("API_KEY_ENCRYPTION_KEY", &enc)
            .env("BCRYPT_COST", "4")
            .env("OPENROUTER_BASE_URL", fake.base_url())
            .env("COUNCIL_MODELS", "fake/a,fake/b")
            .env("COUNCIL_LEAD_MODEL", "fake/lead");
        let mut running = ServerProcess::start(command);
        let tokens = full_run(&running.base, password, key).await;
        running.terminate();
        let log = running.log_text();

        let secrets = [jwt, enc.as_str(), password, key, "key-that-must-not-leak"];
        for secret in secrets
            .iter()
            .copied()
            .chain(tokens.iter().map(String::as_str))
        {
            assert!(
                !log.contains(secret),
                "{format}: a secret is in the log:\n{log}"
            );
        }
        let request_lines: Vec<&str> = log.lines().filter(|l| l.contains("latency_ms")).collect();
        assert!(
            request_lines.len() >= 7,
            "{format}: one line per request:\n{log}"
        );
        let keyed = request_lines
            .iter()
            .find(|l| l.contains("/api/settings/api-key"))
            .unwrap_or_else(|| panic!("{format}: no line for the key request:\n{log}"));
        for field in ["POST", "status", "200", "request_id", "user_id"] {
            assert!(
                keyed.contains(field),
                "{format}: {field} missing in {keyed}"
            );
        }
        assert!(
            request_lines.iter().any(|l| l.contains("401")),
            "{format}: the failed login is logged with its status"
        );
        if format == "json" {
            for line in log.lines().filter(|l| l.starts_with('{')) {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            }
        }
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = council_server::Config::with_defaults(
        council_server::db::DatabaseUrl::sqlite_in(dir.path()),
        dir.path().to_owned(),
        4,
    )
    .expect("config");
    config.cors_origins = vec!["https://app.example.com".into()];
    let server = council_server::Server::start(&config)
        .await
        .expect("starts");
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    for path in ["/healthz", "/api/auth/me", "/nowhere"] {
        let r = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("sent");
        let h = r.headers();
        assert!(
            h.get("x-request-id").is_some_and(|v| !v.is_empty()),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
    // A client's own request id comes back.
    let r = http
        .get(format!("{base}/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    // CORS: the configured origin is allowed, another is not.
    let preflight = |origin: &'static str| {
        http.request(
            reqwest::Method::OPTIONS,
            format!("{base}/api/conversations"),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
    };
    let ok = preflight("https://app.example.com").await.expect("sent");
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = preflight("https://evil.example.com").await.expect("sent");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    server.shutdown().await.expect("stops");
}
