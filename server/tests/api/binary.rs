//! The `council-server` binary: subcommands and refusals at start-up.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_council-server");

fn server(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COUNCIL_DATA_DIR", data_dir)
        .env("COUNCIL_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    c
}

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
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut log = String::new();
    for line in BufReader::new(stderr).lines() {
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
