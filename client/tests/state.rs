//! The client's state file: where it is, what it holds, who may read it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use council_client::Session;
use council_client::state::{ConfigError, ConfigFile, resolve_path, resolve_path_from};

const ACCESS: &str = "eyJhbGciOiJIUzI1NiJ9.access-secret-value.sig";
const REFRESH: &str = "eyJhbGciOiJIUzI1NiJ9.refresh-secret-value.sig";

fn signed_in() -> ConfigFile {
    ConfigFile {
        server: Some("http://127.0.0.1:8001".into()),
        email: Some("ada@example.com".into()),
        access_token: Some(ACCESS.into()),
        refresh_token: Some(REFRESH.into()),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("the path exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_session_is_kept_with_the_server_that_issued_it() {
    let mut config = ConfigFile::default();
    config.remember_session("a".into(), "r".into(), Some("https://council.example.com/"));
    assert!(config.signed_in());
    assert!(config.session_is_for(Some("https://Council.example.com")));
    assert!(!config.session_is_for(Some("https://other.example.com")));
    assert!(!config.session_is_for(None), "local mode is another server");

    config.remember_session("a".into(), "r".into(), None);
    assert_eq!(config.server, None);
    assert!(config.session_is_for(None));

    // A file from before servers were remembered: its tokens are tried.
    let old = signed_in();
    let unrecorded = ConfigFile {
        server: None,
        ..old
    };
    assert!(unrecorded.session_is_for(Some("http://127.0.0.1:8001")));
}

#[test]
fn a_missing_file_is_an_empty_configuration() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (config, warnings) =
        ConfigFile::load(&dir.path().join("nowhere/config.toml")).expect("loads");
    assert_eq!(config, ConfigFile::default());
    assert!(warnings.is_empty());
    assert!(!config.signed_in());
}

#[test]
fn what_is_saved_loads_back() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("council/config.toml");
    let config = signed_in();
    config.save(&path).expect("saves");
    let (loaded, warnings) = ConfigFile::load(&path).expect("loads");
    assert_eq!(loaded, config);
    assert!(warnings.is_empty(), "{warnings:?}");

    // Saving again replaces the file and leaves no temporary file behind.
    let mut signed_out = config.clone();
    signed_out.clear_session();
    signed_out.save(&path).expect("saves again");
    assert_eq!(ConfigFile::load(&path).expect("loads").0, signed_out);
    let entries: Vec<_> = std::fs::read_dir(path.parent().expect("a parent"))
        .expect("the directory lists")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(entries, vec![OsString::from("config.toml")]);

    // Absent values are left out rather than written empty.
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(!text.contains("token"), "{text}");
}

#[test]
fn signed_in_needs_both_tokens_and_clearing_keeps_server_and_email() {
    let mut config = signed_in();
    assert!(config.signed_in());
    config.refresh_token = None;
    assert!(!config.signed_in());

    let mut config = signed_in();
    config.clear_session();
    assert!(!config.signed_in());
    assert_eq!(config.access_token, None);
    assert_eq!(config.refresh_token, None);
    assert_eq!(config.server.as_deref(), Some("http://127.0.0.1:8001"));
    assert_eq!(config.email.as_deref(), Some("ada@example.com"));
}

#[test]
fn unknown_keys_are_ignored_and_empty_values_are_absent() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "server = \"http://example.com\"\nemail = \"\"\ntheme = \"dark\"\n\n[future]\nsetting = 3\n",
    )
    .expect("written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let (config, warnings) = ConfigFile::load(&path).expect("loads");
    assert!(warnings.is_empty());
    assert_eq!(
        config,
        ConfigFile {
            server: Some("http://example.com".into()),
            ..ConfigFile::default()
        }
    );
}

#[cfg(unix)]
#[test]
fn the_file_is_0600_and_a_new_directory_0700() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let council_dir = dir.path().join("deep/council");
    let path = council_dir.join("config.toml");
    signed_in().save(&path).expect("saves");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&council_dir), 0o700);
    assert_eq!(mode(&dir.path().join("deep")), 0o700);
}

#[cfg(unix)]
#[test]
fn a_file_others_can_read_is_made_private_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.toml");
    signed_in().save(&path).expect("saves");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let (config, warnings) = ConfigFile::load(&path).expect("loads");
    assert_eq!(config, signed_in());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .ends_with("config.toml was readable by other users; its permissions are now 0600"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains(
            &dir.path()
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .to_string()
        )
    );

    // Fixed once, quiet afterwards.
    let (_, warnings) = ConfigFile::load(&path).expect("loads");
    assert!(warnings.is_empty());
}

#[test]
fn invalid_toml_names_the_file_and_line_but_no_token() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        format!("server = \"http://x\"\naccess_token = \"{ACCESS}\" trailing\nrefresh_token = \"{REFRESH}\n"),
    )
    .expect("written");
    let error = ConfigFile::load(&path).expect_err("invalid TOML is refused");
    let shown = error.to_string();
    assert!(
        matches!(error, ConfigError::Invalid { line: Some(2), .. }),
        "{error:?}"
    );
    assert!(shown.contains("broken.toml line 2, column"), "{shown}");
    for secret in ["access-secret", "refresh-secret"] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!format!("{error:?}").contains(secret), "{error:?}");
    }

    // A token of the wrong type: the key is named, the value is not.
    std::fs::write(&path, "refresh_token = 424242424242\n").expect("written");
    let shown = ConfigFile::load(&path).expect_err("refused").to_string();
    assert!(shown.contains("refresh_token"), "{shown}");
    assert!(!shown.contains("424242"), "{shown}");
}

/// An environment for [`resolve_path_from`].
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let vars: Vec<(String, OsString)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn the_path_comes_from_the_flag_then_the_environment_then_home() {
    let home = Some(PathBuf::from("/home/ada"));
    let flag = Path::new("/flag/config.toml");
    let all = env(&[
        ("COUNCIL_CONFIG", "/env/config.toml"),
        ("XDG_CONFIG_HOME", "/xdg"),
    ]);
    fn resolve(
        flag: Option<&Path>,
        env: impl Fn(&str) -> Option<OsString>,
        home: Option<PathBuf>,
    ) -> PathBuf {
        resolve_path_from(flag, env, home).expect("resolves")
    }

    assert_eq!(resolve(Some(flag), &all, home.clone()), flag);
    assert_eq!(
        resolve(None, &all, home.clone()),
        Path::new("/env/config.toml")
    );
    assert_eq!(
        resolve(None, env(&[("XDG_CONFIG_HOME", "/xdg")]), home.clone()),
        Path::new("/xdg/council/config.toml")
    );
    // Empty variables count as unset.
    let empty = env(&[("COUNCIL_CONFIG", ""), ("XDG_CONFIG_HOME", "")]);
    assert_eq!(
        resolve(None, &empty, home.clone()),
        Path::new("/home/ada/.config/council/config.toml")
    );
    // A relative XDG_CONFIG_HOME is invalid by the XDG specification.
    assert_eq!(
        resolve(None, env(&[("XDG_CONFIG_HOME", "rel")]), home.clone()),
        Path::new("/home/ada/.config/council/config.toml")
    );
    assert!(matches!(
        resolve_path_from(None, &empty, None),
        Err(ConfigError::NoHome)
    ));
    // The flag needs neither environment nor home.
    assert_eq!(
        resolve_path(Some(flag)).expect("the flag always resolves"),
        flag
    );
}

/// Set by [`the_real_environment_is_read`] in the children it starts.
const CHILD_MARKER: &str = "COUNCIL_CLIENT_RESOLVE_CHILD";

/// Not a test by itself: run as a child process by
/// [`the_real_environment_is_read`], it prints what `resolve_path` finds in
/// the environment it was given.
#[test]
fn resolve_path_child() {
    if std::env::var_os(CHILD_MARKER).is_none() {
        return;
    }
    let path = resolve_path(None).expect("resolves");
    println!("RESOLVED={}", path.display());
}

/// The one test that sets environment variables — of child processes, so
/// no test of this process races with it.
#[test]
fn the_real_environment_is_read() {
    let exe = std::env::current_exe().expect("the test binary");
    let run = |vars: &[(&str, &str)]| -> String {
        let mut command = std::process::Command::new(&exe);
        command
            .args([
                "resolve_path_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_MARKER, "1")
            .env_remove("COUNCIL_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", "/home/ada");
        for (k, v) in vars {
            command.env(k, v);
        }
        let output = command.output().expect("the child runs");
        assert!(output.status.success(), "the child failed: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        stdout
            .lines()
            // The harness prints the test's name on the same line.
            .find_map(|l| l.split_once("RESOLVED=").map(|(_, path)| path))
            .unwrap_or_else(|| panic!("no path printed: {stdout}"))
            .to_owned()
    };
    assert_eq!(
        run(&[
            ("COUNCIL_CONFIG", "/env/config.toml"),
            ("XDG_CONFIG_HOME", "/xdg")
        ]),
        "/env/config.toml"
    );
    assert_eq!(
        run(&[("COUNCIL_CONFIG", ""), ("XDG_CONFIG_HOME", "/xdg")]),
        "/xdg/council/config.toml"
    );
    assert_eq!(
        run(&[("XDG_CONFIG_HOME", "")]),
        "/home/ada/.config/council/config.toml"
    );
}

#[test]
fn debug_output_holds_no_token() {
    let shown = format!("{:?}", signed_in());
    assert!(!shown.contains("secret-value"), "{shown}");
    assert!(shown.contains("ada@example.com"), "{shown}");
    let session = Session {
        access_token: ACCESS.into(),
        refresh_token: REFRESH.into(),
    };
    assert!(!format!("{session:?}").contains("secret-value"));
}
