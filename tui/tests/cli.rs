//! The `council` commands as a script would use them: the real binary
//! against a real server (in this process, SQLite in a temporary directory)
//! whose models are the fake upstream. Checks exit codes, what goes to
//! stdout and what to stderr, and the config file.

mod common;

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use council_server::Server;
use council_shared::{AssistantMessage, Conversation, ConversationSummary, Message, RunStatus};
use council_testkit::FakeUpstream;

const BIN: &str = env!("CARGO_BIN_EXE_council");
const PASSWORD: &str = "a good long password";
const KEY: &str = "sk-or-v1-cli-test-key-0001";
/// Longer than any command here should take, even on a loaded machine.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// A server with the fake upstream behind it; the client's files in `dir`.
struct Harness {
    server: Option<Server>,
    url: String,
    _fake: FakeUpstream,
    dir: tempfile::TempDir,
}

/// What a run of `council` did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The id `ask` reports on stderr (`conversation: ID`).
    fn conversation(&self) -> String {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("conversation: "))
            .unwrap_or_else(|| panic!("ask names its conversation: {self:?}"))
            .trim()
            .to_owned()
    }
}

impl Harness {
    async fn start(access_ttl: Duration) -> Harness {
        let fake = FakeUpstream::start()
            .await
            .expect("the fake upstream starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = common::server_config(
            dir.path(),
            fake.base_url(),
            &["fake/alpha", "fake/beta"],
            "fake/chair",
        );
        config.access_token_ttl = access_ttl;
        let server = Server::start(&config).await.expect("the server starts");
        let url = format!("http://{}", server.addr());
        Harness {
            server: Some(server),
            url,
            _fake: fake,
            dir,
        }
    }

    /// A config file of its own for one user of the command line.
    fn config(&self, name: &str) -> PathBuf {
        self.dir.path().join(name).join("config.toml")
    }

    /// Runs `council --server URL --config CONFIG ARGS` with `stdin` as its
    /// standard input (a pipe, never a terminal).
    async fn council(&self, config: &Path, args: &[&str], stdin: &str) -> Run {
        self.council_at(Some(&self.url), config, args, stdin).await
    }

    /// `council` in local mode: its own server in-process, on `data`, with
    /// the fake upstream behind it.
    async fn council_local(&self, data: &Path, args: &[&str], stdin: &str) -> Run {
        let env = [
            ("COUNCIL_DATA_DIR", data.display().to_string()),
            ("OPENROUTER_BASE_URL", self._fake.base_url()),
            ("COUNCIL_MODELS", "fake/alpha,fake/beta".to_owned()),
            ("COUNCIL_LEAD_MODEL", "fake/chair".to_owned()),
            ("COUNCIL_TITLE_MODEL", "fake/title".to_owned()),
            ("BCRYPT_COST", "4".to_owned()),
        ];
        self.run(None, &data.join("config.toml"), args, stdin, &env)
            .await
    }

    /// [`Harness::council`] with `--server` only when `server` is given.
    async fn council_at(
        &self,
        server: Option<&str>,
        config: &Path,
        args: &[&str],
        stdin: &str,
    ) -> Run {
        let data = (
            "COUNCIL_DATA_DIR",
            self.dir.path().join("client-data").display().to_string(),
        );
        self.run(server, config, args, stdin, &[data]).await
    }

    async fn run(
        &self,
        server: Option<&str>,
        config: &Path,
        args: &[&str],
        stdin: &str,
        env: &[(&str, String)],
    ) -> Run {
        let mut cmd = Command::new(BIN);
        if let Some(server) = server {
            cmd.arg("--server").arg(server);
        }
        cmd.arg("--config")
            .arg(config)
            .args(args)
            .env_remove("COUNCIL_SERVER")
            .env_remove("COUNCIL_CONFIG")
            .env_remove("TMUX")
            // The client's log file goes there, not to the user's data dir.
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let input = stdin.to_owned();
        let what = format!("council {}", args.join(" "));
        let run = tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().expect("the council binary starts");
            if let Some(mut pipe) = child.stdin.take() {
                // A command that does not read stdin may close it first.
                let _ = pipe.write_all(input.as_bytes());
            }
            let read = |pipe: Option<Box<dyn Read + Send>>| {
                std::thread::spawn(move || {
                    let mut bytes = Vec::new();
                    if let Some(mut pipe) = pipe {
                        let _ = pipe.read_to_end(&mut bytes);
                    }
                    String::from_utf8(bytes).expect("the output is UTF-8")
                })
            };
            let stdout = read(
                child
                    .stdout
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            );
            let stderr = read(
                child
                    .stderr
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            );
            // A command that hangs must fail the test, not stall it.
            let deadline = Instant::now() + COMMAND_TIMEOUT;
            let status = loop {
                if let Some(status) = child.try_wait().expect("the binary runs") {
                    break Some(status);
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            Run {
                code: status.and_then(|s| s.code()).unwrap_or(-1),
                stdout: stdout.join().expect("stdout is read"),
                stderr: stderr.join().expect("stderr is read"),
            }
        });
        let run = run.await.expect("the command's thread");
        assert_ne!(run.code, -1, "{what} was killed: {run:?}");
        run
    }

    /// Registers `email` with config file `config` and saves a key.
    async fn user_with_key(&self, config: &Path, email: &str) {
        let run = self
            .council(
                config,
                &["register", "--email", email, "--password-stdin"],
                &format!("{PASSWORD}\n"),
            )
            .await;
        assert_eq!(run.code, 0, "{run:?}");
        let run = self
            .council(config, &["key", "set", "--key-stdin"], &format!("{KEY}\n"))
            .await;
        assert_eq!(run.code, 0, "{run:?}");
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("the file exists")
        .permissions()
        .mode()
        & 0o777
}

fn saved(config: &Path) -> toml::Table {
    std::fs::read_to_string(config)
        .expect("the config file exists")
        .parse()
        .expect("the config file is TOML")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_key_and_logout_from_the_command_line() {
    let h = Harness::start(Duration::from_secs(900)).await;
    let config = h.config("accounts");

    // Not signed in: logout is fine, the rest says what to do.
    let run = h.council(&config, &["logout"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("Not signed in"), "{run:?}");
    let run = h.council(&config, &["ask", "Hello?"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("not signed in") && run.stderr.contains("council login --email"),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");

    // Register with the password on stdin: the tokens are saved, 0600.
    let run = h
        .council(
            &config,
            &["register", "--email", "Me@Example.com", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(run.stderr.contains("me@example.com"), "{run:?}");
    assert!(!run.stderr.contains(PASSWORD), "{run:?}");
    let table = saved(&config);
    assert_eq!(
        table.get("email").and_then(|v| v.as_str()),
        Some("me@example.com")
    );
    assert!(table.contains_key("access_token") && table.contains_key("refresh_token"));
    assert_eq!(mode(&config), 0o600);
    // The server is remembered with the session: later commands go there
    // without `--server`.
    assert_eq!(
        table.get("server").and_then(|v| v.as_str()),
        Some(h.url.as_str())
    );
    let run = h.council_at(None, &config, &["conversations"], "").await;
    assert_eq!(run.code, 0, "{run:?}");

    // Refusals: exit 1 with the server's reason on stderr.
    let run = h
        .council(
            &config,
            &["register", "--email", "me@example.com", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Email already registered"), "{run:?}");
    let run = h
        .council(
            &config,
            &["login", "--email", "me@example.com", "--password-stdin"],
            "not the password\n",
        )
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Invalid email or password"), "{run:?}");
    assert!(!run.stderr.contains("not the password"), "{run:?}");
    // No flag and no terminal: a clear refusal, not a hang.
    let run = h
        .council(&config, &["login", "--email", "me@example.com"], "")
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("not a terminal") && run.stderr.contains("--password-stdin"),
        "{run:?}"
    );
    let run = h
        .council(
            &config,
            &["login", "--email", "me@example.com", "--password-stdin"],
            "",
        )
        .await;
    assert_eq!(run.code, 1, "an empty stdin is refused: {run:?}");

    // Sign in again (CRLF line ends are fine).
    let run = h
        .council(
            &config,
            &["login", "--email", "me@example.com", "--password-stdin"],
            &format!("{PASSWORD}\r\n"),
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("Signed in as me@example.com"),
        "{run:?}"
    );

    // Without a key the council is refused, with the way out.
    let run = h.council(&config, &["ask", "Hello?"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("No API key") && run.stderr.contains("council key set"),
        "{run:?}"
    );
    let run = h
        .council(&config, &["key", "set", "--key-stdin"], "short\n")
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    let run = h.council(&config, &["key", "set"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--key-stdin"), "{run:?}");
    let run = h
        .council(
            &config,
            &["key", "set", "--provider", "openrouter", "--key-stdin"],
            &format!("{KEY}\n"),
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("...0001"), "{run:?}");
    assert!(
        !run.stderr.contains(KEY) && !run.stdout.contains(KEY),
        "{run:?}"
    );
    let run = h
        .council(
            &config,
            &["key", "set", "--provider", "nope", "--key-stdin"],
            &format!("{KEY}\n"),
        )
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Unknown provider"), "{run:?}");

    // Sign out: the refresh token is revoked on the server and gone here.
    let refresh = saved(&config)
        .get("refresh_token")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .expect("a refresh token is saved");
    let run = h.council(&config, &["logout"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("Signed out"), "{run:?}");
    let table = saved(&config);
    assert!(!table.contains_key("refresh_token") && !table.contains_key("access_token"));
    let status = reqwest::Client::new()
        .post(format!("{}/api/auth/refresh", h.url))
        .json(&serde_json::json!({ "refresh_token": refresh }))
        .send()
        .await
        .expect("the server answers")
        .status();
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    let run = h.council(&config, &["logout"], "").await;
    assert_eq!(run.code, 0, "a second logout is fine too: {run:?}");
    let run = h.council(&config, &["conversations"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("not signed in: run `council login --email me@example.com`"),
        "{run:?}"
    );
    // A usage error is 1 too: 2 means "partial" for ask.
    let run = h.council(&config, &["ask", "--bogus"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_on_stdout_and_exits_by_the_councils_status() {
    let h = Harness::start(Duration::from_secs(900)).await;
    let config = h.config("ask");
    h.user_with_key(&config, "asker@example.com").await;

    // A complete council: the answer alone on stdout, progress on stderr.
    let run = h
        .council(&config, &["ask", "Why is the sky blue?"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("Answer from fake/chair"), "{run:?}");
    assert!(
        run.stdout.ends_with('\n') && !run.stdout.contains("stage"),
        "{run:?}"
    );
    for step in [
        "stage 1: asking 2 models: fake/alpha, fake/beta",
        "stage 1: fake/alpha answered",
        "stage 2:",
        "stage 3: fake/chair writes the final answer",
        "title: Fake Council Title",
        "done: complete",
    ] {
        assert!(run.stderr.contains(step), "{step:?} in {run:?}");
    }
    // Not a terminal: plain lines, no cursor movement.
    assert!(!run.stderr.contains('\x1b'), "{run:?}");
    // What it used, in one line: the fake reports its cost.
    let used = run
        .stderr
        .lines()
        .find(|l| l.starts_with("council: 2 models · "))
        .unwrap_or_else(|| panic!("a summary line: {run:?}"));
    assert!(
        used.contains(" tok · ") && used.contains('$') && !used.contains("$?"),
        "{used}"
    );
    let first = run.conversation();

    // The question from stdin, with `-` and with no argument at all.
    let run = h
        .council(&config, &["ask", "-"], "What about\nmultiline questions?\n")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("Answer from fake/chair"), "{run:?}");
    let run = h
        .council(&config, &["ask"], "A question from a pipe\n")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let run = h.council(&config, &["ask", "-"], "  \n").await;
    assert_eq!(run.code, 1, "an empty question is refused: {run:?}");

    // --json: the AssistantMessage.
    let run = h
        .council(
            &config,
            &[
                "ask",
                "--json",
                "--models",
                "test/one,test/two,test/three",
                "--lead",
                "test/lead",
                "Name three colours",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let message: AssistantMessage =
        serde_json::from_str(&run.stdout).expect("stdout is an AssistantMessage");
    assert_eq!(message.status, RunStatus::Complete);
    assert_eq!(message.stage1.len(), 3);
    assert_eq!(message.stage2.len(), 3);
    assert_eq!(
        message.stage3.as_ref().map(|s| s.model.as_str()),
        Some("test/lead")
    );

    // A follow-up in the first conversation.
    let run = h
        .council(
            &config,
            &["ask", "--conversation", &first, "And at sunset?"],
            "",
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.conversation(), first);
    let run = h
        .council(&config, &["export", &first, "--format", "json"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let conversation: Conversation = serde_json::from_str(&run.stdout).expect("a Conversation");
    assert_eq!(conversation.messages.len(), 4);
    assert!(matches!(&conversation.messages[2], Message::User(u) if u.content == "And at sunset?"));

    // Partial: one council model fails; the answer still comes, exit 2.
    let run = h
        .council(
            &config,
            &[
                "ask",
                "--models",
                "test/a,test/b:bad400",
                "--lead",
                "test/c",
                "Partial, please",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.starts_with("Answer from test/c"), "{run:?}");
    assert!(
        run.stderr.contains("partial") && run.stderr.contains("test/b:bad400"),
        "{run:?}"
    );

    // Failed: the lead fails; nothing on stdout, the reason on stderr.
    let run = h
        .council(
            &config,
            &[
                "ask",
                "--models",
                "test/a,test/b",
                "--lead",
                "test/c:bad400",
                "Fail, please",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("council: the council failed"),
        "{run:?}"
    );
    // …and with --json the failed message, as stored, is on stdout.
    let run = h
        .council(
            &config,
            &[
                "ask",
                "--json",
                "--models",
                "test/a,test/b",
                "--lead",
                "test/c:bad400",
                "Fail again",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    let message: AssistantMessage =
        serde_json::from_str(&run.stdout).expect("stdout is the failed AssistantMessage");
    assert_eq!(message.status, RunStatus::Failed);
    assert!(message.error.is_some() && message.stage3.is_none());
    assert_eq!(message.stage1.len(), 2, "finished stages are kept");

    // Refusals before any council.
    let run = h
        .council(
            &config,
            &["ask", "--conversation", &first, "--models", "a/b,c/d", "x"],
            "",
        )
        .await;
    assert_eq!(run.code, 1, "--conversation and --models conflict: {run:?}");
    let run = h
        .council(&config, &["ask", "--models", "only/one", "x"], "")
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--models"), "{run:?}");
    let missing = uuid::Uuid::new_v4().to_string();
    let run = h
        .council(&config, &["ask", "--conversation", &missing, "x"], "")
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not found"), "{run:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_listed_searched_and_exported() {
    let h = Harness::start(Duration::from_secs(900)).await;
    let config = h.config("lists");
    h.user_with_key(&config, "reader@example.com").await;
    let run = h.council(&config, &["conversations"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.is_empty() && run.stderr.contains("No conversations"),
        "{run:?}"
    );

    let run = h
        .council(&config, &["ask", "Which database for a small app?"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let id = run.conversation();
    let run = h
        .council(
            &config,
            &[
                "ask",
                "--models",
                "test/a,test/b:bad400",
                "Tell me about zebras",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    let zebras = run.conversation();

    // The table: a header, then one line per conversation, newest first.
    let run = h.council(&config, &["conversations"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("MESSAGES") && lines[0].ends_with("TITLE"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with(&zebras) && lines[2].starts_with(&id),
        "{run:?}"
    );
    assert!(
        lines[2].contains(" 2  ") && lines[2].ends_with("Fake Council Title"),
        "{run:?}"
    );

    // Search: the server's ?q= over titles and messages.
    let run = h
        .council(&config, &["conversations", "--search", "ZEBRAS"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 2, "{run:?}");
    assert!(
        run.stdout.contains(&zebras) && !run.stdout.contains(&id),
        "{run:?}"
    );
    let run = h
        .council(&config, &["conversations", "--search", "no such thing"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.is_empty() && run.stderr.contains("No conversation matches"),
        "{run:?}"
    );
    let run = h.council(&config, &["conversations", "--json"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let list: Vec<ConversationSummary> = serde_json::from_str(&run.stdout).expect("a list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].id.to_string(), id);

    // Markdown export: title, question, answer, folded stages, rankings.
    let run = h.council(&config, &["export", &id], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let md = run.stdout;
    assert!(md.starts_with("# Fake Council Title\n"), "{md}");
    assert!(
        md.contains("## Question 1\n\n> Which database for a small app?\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "### Answer\n\n*Final answer by `fake/chair` · complete*\n\nAnswer from fake/chair"
        ),
        "{md}"
    );
    assert!(
        md.contains("<details>\n<summary>Stage 1 · 2 answers</summary>"),
        "{md}"
    );
    assert!(
        md.contains("#### `fake/alpha`\n\nAnswer from fake/alpha"),
        "{md}"
    );
    assert!(
        md.contains("<summary>Stage 2 · 2 rankings</summary>"),
        "{md}"
    );
    assert!(md.contains("#### Evaluation by `fake/beta`"), "{md}");
    assert!(md.contains("| # | model | average rank | votes |"), "{md}");
    assert!(md.contains("| 1 | `fake/"), "{md}");
    assert_eq!(md.matches("<details>").count(), 2, "{md}");
    assert_eq!(md.matches("</details>").count(), 2, "{md}");
    // A partial council says so, and names the model that failed.
    let run = h
        .council(&config, &["export", &zebras, "--format", "md"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("partial: some council models failed"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("#### `test/b:bad400` failed"),
        "{run:?}"
    );

    // JSON export parses as the Conversation; -o writes a file instead.
    let run = h
        .council(&config, &["export", &id, "--format", "json"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let conversation: Conversation = serde_json::from_str(&run.stdout).expect("a Conversation");
    assert_eq!(conversation.id.to_string(), id);
    assert_eq!(conversation.messages.len(), 2);
    let file = h.dir.path().join("out.md");
    let run = h
        .council(
            &config,
            &["export", &id, "-o", &file.display().to_string()],
            "",
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_eq!(std::fs::read_to_string(&file).expect("written"), md);
    let missing = uuid::Uuid::new_v4().to_string();
    let run = h.council(&config, &["export", &missing], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not found"), "{run:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_renewed_and_the_new_tokens_saved() {
    let h = Harness::start(Duration::from_secs(1)).await;
    let config = h.config("refresh");
    let run = h
        .council(
            &config,
            &[
                "register",
                "--email",
                "late@example.com",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let before = saved(&config);
    // The token's lifetime plus the server's leeway.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let run = h.council(&config, &["conversations"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let after = saved(&config);
    assert_ne!(before.get("refresh_token"), after.get("refresh_token"));
    assert_ne!(before.get("access_token"), after.get("access_token"));
    // The rotated token is the one that works now.
    let run = h.council(&config, &["conversations"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_signs_in_by_itself_and_keeps_a_damaged_account_file() {
    let h = Harness::start(Duration::from_secs(900)).await;
    let data = h.dir.path().join("local");
    // No account, no sign-in: the key can be saved at once.
    let run = h
        .council_local(&data, &["key", "set", "--key-stdin"], &format!("{KEY}\n"))
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let account = data.join("local-account.toml");
    assert_eq!(mode(&account), 0o600);
    let run = h
        .council_local(&data, &["ask", "Why is the sky blue?"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("Answer from fake/chair"), "{run:?}");
    // The same account next time: the conversation is there.
    let run = h.council_local(&data, &["conversations"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Fake Council Title"), "{run:?}");

    // A damaged file: a clear message, a way out, nothing deleted. While
    // the saved session lasts it still opens the account, with a warning.
    let damaged = "email = \"local@council.localhost\"\npassword = [";
    std::fs::write(&account, damaged).expect("write");
    let run = h.council_local(&data, &["ask", "Still there?"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("warning: ") && run.stderr.contains("local-account.toml is damaged"),
        "{run:?}"
    );
    // Once the session is gone, the message says what to do.
    std::fs::remove_file(data.join("config.toml")).expect("forget the session");
    let run = h.council_local(&data, &["ask", "Still there?"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("local-account.toml is damaged")
            && run.stderr.contains("Nothing was deleted")
            && run.stderr.contains("move the file away"),
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&account).expect("kept"), damaged);
    assert!(data.join("council.db").exists(), "the database is kept");
    h.stop().await;
}
