//! End to end, as a person would: the real `council` binary in tmux
//! (send-keys, capture-pane) against the fake upstream. With a server:
//! register, save a key, ask, see the answer and the stage tabs, sign out,
//! sign in, find the conversation again. In local mode at 80×24: paste
//! the key the first screen asks for, ask, see the cost, look at the
//! stages and the settings, come back and type a question, resize.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use council_server::Server;
use council_testkit::FakeUpstream;

const BIN: &str = env!("CARGO_BIN_EXE_council");

/// A tmux server of its own (`-L`), so tests never touch the user's.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, command: &str, width: u16, height: u16, env: &[(&str, String)]) -> Self {
        let socket = format!("council-e2e-{name}-{}", std::process::id());
        let mut cmd = Command::new("tmux");
        cmd.args([
            "-L",
            &socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        for (k, v) in env {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
        cmd.arg(command);
        let status = cmd
            .status()
            .expect("tmux must be installed (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        // Applications may set tmux's clipboard with OSC 52 (the `y` key).
        let status = Command::new("tmux")
            .args(["-L", &socket, "set-option", "-g", "set-clipboard", "on"])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux set-option failed");
        Self { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Escape on its own: a key right after it would read as Alt+key, as
    /// in any terminal, so the test pauses like a person does.
    fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn alive(&self) -> bool {
        self.tmux(&["list-panes", "-t", "e2e", "-F", "#{pane_dead}"])
            .trim()
            == "0"
    }

    /// Waits until the screen shows `needle`; fails with the screen.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_ask_sign_out_sign_in_as_a_person_would() {
    let fake = FakeUpstream::start().await.expect("fake upstream");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::server_config(
        dir.path(),
        fake.base_url(),
        &["fake/alpha", "fake/beta"],
        "fake/chair",
    );
    let server = Server::start(&config).await.expect("server starts");
    let url = format!("http://{}", server.addr());
    let config_path: PathBuf = dir.path().join("client").join("config.toml");

    let command = format!("{BIN} --server {url} --config {}", config_path.display());
    let env = [
        ("NO_COLOR", "1".to_owned()),
        ("TERM", "xterm-256color".to_owned()),
        (
            "COUNCIL_DATA_DIR",
            dir.path().join("client").display().to_string(),
        ),
        (
            "COUNCIL_EXPORT_DIR",
            dir.path().join("exports").display().to_string(),
        ),
    ];
    let ui = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("remote", &command, 120, 40, &env);
        t.wait_for("No account yet?");

        // Register.
        t.keys(&["C-r"]);
        t.wait_for("Create account");
        t.text("person@example.com");
        t.keys(&["Tab"]);
        t.text("a good password");
        t.keys(&["Tab"]);
        t.text("a good password");
        t.keys(&["Enter"]);
        t.wait_for("No API key saved yet");

        // Save a key in Settings (the focus is on the input: leave it).
        t.escape();
        t.keys(&["s"]);
        t.wait_for("OpenRouter API key");
        t.text("sk-or-v1-e2e-test-key-1234");
        t.keys(&["Enter"]);
        let settings = t.wait_for("Key saved");
        assert!(
            !settings.contains("e2e-test-key"),
            "the key is masked:\n{settings}"
        );
        t.escape();

        // Ask: back from settings, typing goes to the question.
        t.text("How do I choose a database?");
        t.keys(&["Enter"]);
        let answer = t.wait_for("final answer by chair");
        assert!(answer.contains("Answer from fake/chair"), "{answer}");
        assert_tidy(&answer, 120);
        t.wait_for("Fake Council Title");

        // Copy the answer: with set-clipboard on, tmux takes the OSC 52
        // sequence into its paste buffer, as it would pass it to a terminal.
        t.escape();
        t.keys(&["y"]);
        t.wait_for("Copied answer (");
        let copied = t.tmux(&["show-buffer"]);
        assert!(copied.starts_with("Answer from fake/chair"), "{copied:?}");
        // Export twice: the second file never replaces the first.
        t.keys(&["e"]);
        t.wait_for("Exported to");
        t.keys(&["e"]);
        t.wait_for("-2.md");

        // Expand the stages: tabs per model, then the rankings.
        t.keys(&["Enter"]);
        let stage1 = t.wait_for("Stage 1 · answers");
        assert!(
            stage1.contains("alpha") && stage1.contains("beta"),
            "{stage1}"
        );
        assert!(stage1.contains("Answer from fake/alpha"), "{stage1}");
        t.keys(&["Right"]);
        t.wait_for("Answer from fake/beta");
        t.keys(&["Tab"]);
        t.wait_for("Stage 2 · rankings");
        t.keys(&["3"]);
        t.wait_for("avg rank");
        t.escape();

        // Sign out from Settings (the last row; Up wraps to it).
        t.keys(&["s"]);
        t.wait_for("Sign out");
        t.keys(&["Up", "Enter"]);
        t.wait_for("No account yet?");

        // Sign in again: the email is remembered, the password is asked.
        t.text("a good password");
        t.keys(&["Enter"]);
        t.wait_for("Fake Council Title");
        // Tab from the input to the list, Enter opens the conversation.
        t.keys(&["Tab", "Enter"]);
        t.wait_for("Answer from fake/chair");

        // Quit from the sidebar.
        t.escape();
        t.keys(&["q"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while t.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    ui.await.expect("the terminal session went as expected");

    let saved = std::fs::read_to_string(&config_path).expect("config file written");
    assert!(
        saved.contains("person@example.com") && saved.contains("refresh_token"),
        "{saved}"
    );
    assert_eq!(mode(&config_path), 0o600);
    let mut exports: Vec<String> = std::fs::read_dir(dir.path().join("exports"))
        .expect("the export directory was made")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // The first export's name is the shorter one.
    exports.sort_by_key(String::len);
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(
        exports[0].starts_with("fake-council-title-") && exports[1].ends_with("-2.md"),
        "{exports:?}"
    );
    let md = std::fs::read_to_string(dir.path().join("exports").join(&exports[0]))
        .expect("the export is readable");
    assert!(
        md.starts_with("# Fake Council Title\n") && md.contains("> How do I choose a database?"),
        "{md}"
    );
    server.shutdown().await.expect("server stops");
}

/// Waits until `path` exists.
#[cfg(feature = "local")]
fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every line of the screen fits the width, and box corners pair up: no
/// box drawn over another, no title cut from the left.
fn assert_tidy(screen: &str, width: usize) {
    for line in screen.lines() {
        assert!(
            unicode_width::UnicodeWidthStr::width(line) <= width,
            "a line wider than {width}:\n{screen}"
        );
        assert!(
            !line.contains("┐┌") || line.starts_with('┌'),
            "boxes collide:\n{screen}"
        );
        let trimmed = line.trim_start();
        assert!(
            !trimmed.starts_with('─') && !trimmed.starts_with("Alt-Enter"),
            "a title cut from the left:\n{screen}"
        );
    }
}

#[cfg(feature = "local")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_at_80x24_from_the_first_key_to_the_cost() {
    let fake = FakeUpstream::start().await.expect("fake upstream");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config_path = dir.path().join("client").join("config.toml");
    // No --server: the server runs in-process, configured like any other.
    let command = format!("{BIN} --config {}", config_path.display());
    let env = [
        ("NO_COLOR", "1".to_owned()),
        ("TERM", "xterm-256color".to_owned()),
        ("COUNCIL_DATA_DIR", data.display().to_string()),
        ("OPENROUTER_BASE_URL", fake.base_url()),
        ("COUNCIL_MODELS", "fake/alpha,fake/beta".to_owned()),
        ("COUNCIL_LEAD_MODEL", "fake/chair".to_owned()),
        ("COUNCIL_TITLE_MODEL", "fake/title".to_owned()),
        ("BCRYPT_COST", "4".to_owned()),
    ];
    let account = data.join("local-account.toml");
    let checked = account.clone();
    let ui = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("local", &command, 80, 24, &env);
        // No form: the first screen asks for the key.
        let first = t.wait_for("Welcome! Paste your OpenRouter key");
        assert!(
            !first.contains("Sign in") && !first.contains("Sign out"),
            "{first}"
        );
        assert_tidy(&first, 80);
        wait_for_file(&checked);
        // Paste it, as a person would (bracketed paste).
        t.tmux(&["set-buffer", "sk-or-v1-local-e2e-key-5678"]);
        t.tmux(&["paste-buffer", "-p", "-t", "e2e"]);
        t.keys(&["Enter"]);
        let chat = t.wait_for("Type a question and press Enter");
        assert!(
            !chat.contains("local-e2e-key"),
            "the key is never shown:\n{chat}"
        );

        t.text("Why is the sky blue?");
        t.keys(&["Enter"]);
        // The answer's header: tokens, cost and seconds; the title bar
        // the conversation's total.
        let answered = t.wait_for("✔ complete");
        assert!(answered.contains("Answer from fake/chair"), "{answered}");
        let header = answered
            .lines()
            .find(|l| l.contains("✔ complete"))
            .unwrap_or_default();
        assert!(
            header.contains(" tok · ") && header.contains('$') && header.contains('s'),
            "{answered}"
        );
        assert!(
            !header.contains("$?"),
            "the fake reports its cost:\n{answered}"
        );
        let title_bar = answered.lines().next().unwrap_or_default();
        assert!(
            title_bar.contains(" tok · ") && title_bar.contains('$'),
            "{answered}"
        );
        assert_tidy(&answered, 80);

        // The stages: each model's share.
        t.escape();
        t.keys(&["Enter"]);
        let stages = t.wait_for("Stage 1 · answers");
        assert!(
            stages.contains("alpha: ") && stages.contains("% of the cost"),
            "{stages}"
        );
        assert_tidy(&stages, 80);
        t.keys(&["Right"]);
        t.wait_for("beta: ");
        t.escape();

        // Settings and back: no signing out here, and the next keys are a
        // question, `s` included.
        t.keys(&["s"]);
        let settings = t.wait_for("OpenRouter API key");
        assert!(
            !settings.contains("Sign out") && !settings.contains("password"),
            "{settings}"
        );
        t.escape();
        t.text("so what about sunsets?");
        t.wait_for("so what about sunsets?");
        t.keys(&["Enter"]);
        let second = t.wait_for("You · ");
        assert!(second.contains("so what about sunsets?"), "{second}");
        t.wait_for("Answer from fake/chair");

        // Smaller, then back: nothing breaks on the way.
        t.tmux(&["resize-window", "-t", "e2e", "-x", "60", "-y", "20"]);
        std::thread::sleep(Duration::from_millis(500));
        let small = t.screen();
        assert_tidy(&small, 60);
        assert!(small.contains("Ask the council"), "{small}");
        t.tmux(&["resize-window", "-t", "e2e", "-x", "80", "-y", "24"]);
        std::thread::sleep(Duration::from_millis(500));
        let back = t.screen();
        assert_tidy(&back, 80);
        assert!(back.lines().count() >= 23, "{back}");

        t.keys(&["C-c"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while t.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!t.alive(), "Ctrl-C quits");
    });
    ui.await.expect("the terminal session went as expected");
    assert_eq!(mode(&account), 0o600, "the local account is private");
    let text = std::fs::read_to_string(&account).expect("account file");
    assert!(text.contains("local@council.localhost"), "{text}");
}
