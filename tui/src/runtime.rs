//! The terminal UI's event loop: terminal events, effect results and time
//! go into the app; all pending events are applied, then the screen is
//! drawn once, and only when something changed. Effects run as tasks so
//! the network never blocks drawing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Local, Offset, Utc};
use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event as TermEvent, EventStream,
};
use crossterm::execute;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::app::{App, Effect, Event, Failure, Request};
#[cfg(feature = "local")]
use crate::local::{LocalServer, LocalSignIn};
use crate::screens::{self, RenderCache};
use crate::theme::Theme;
use crate::{clipboard, export};
use council_client::state::ConfigFile;
use council_client::{Client, ClientError, Session};

/// How often time advances for spinners and timers.
const TICK: Duration = Duration::from_millis(100);
/// How long to wait before looking again at a run still going on the server.
const RELOAD_PAUSE: Duration = Duration::from_secs(2);

/// Where to connect and where the state file is.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--server` / `COUNCIL_SERVER`; else the config file's; else local mode.
    pub server: Option<String>,
    pub config_path: PathBuf,
}

fn failure(e: &ClientError) -> Failure {
    Failure {
        message: e.to_string(),
        status: e.status(),
        session_expired: matches!(e, ClientError::SessionExpired),
    }
}

/// The server to talk to: connected, or started here.
pub struct Connection {
    pub client: Client,
    pub label: String,
    /// The remote server's URL; `None` in local mode.
    pub server: Option<String>,
    #[cfg(feature = "local")]
    pub local: Option<(LocalServer, LocalSignIn)>,
}

impl Connection {
    /// Local mode signed in with its own account: no forms, no signing out.
    pub fn local_account(&self) -> Option<&str> {
        #[cfg(feature = "local")]
        if let Some((_, LocalSignIn::Account { email, .. })) = &self.local {
            return Some(email);
        }
        None
    }

    /// Why local mode could not sign in by itself, for the forms' notice.
    pub fn local_problem(&self) -> Option<&str> {
        #[cfg(feature = "local")]
        if let Some((_, LocalSignIn::Forms { problem })) = &self.local {
            return Some(problem);
        }
        None
    }

    /// What local mode wants the person to know although it signed in
    /// (a damaged account file, used through the saved session).
    pub fn local_warning(&self) -> Option<&str> {
        #[cfg(feature = "local")]
        if let Some((
            _,
            LocalSignIn::Account {
                warning: Some(w), ..
            },
        )) = &self.local
        {
            return Some(w);
        }
        None
    }

    /// The local server's data directory, in local mode.
    pub fn local_data_dir(&self) -> Option<&std::path::Path> {
        #[cfg(feature = "local")]
        if let Some((server, _)) = &self.local {
            return Some(&server.data_dir);
        }
        None
    }

    /// Stops the local server, if any.
    pub async fn close(self) {
        #[cfg(feature = "local")]
        if let Some((local, _)) = self.local {
            local.stop().await;
        }
    }
}

/// The remote server to use: `--server`, else the one remembered with the
/// session; `None` is local mode (`--server ""` asks for it even when a
/// server is remembered).
pub fn chosen_server(flag: Option<String>, config: &ConfigFile) -> Option<String> {
    flag.or_else(|| config.server.clone())
        .filter(|s| !s.trim().is_empty())
}

/// Connects to the configured server or starts the local one (and signs
/// in there with the local account).
pub async fn connect(server: Option<String>, config: &ConfigFile) -> anyhow::Result<Connection> {
    let remote = chosen_server(server, config);
    let client;
    let label;
    #[cfg(feature = "local")]
    let mut local = None;
    match &remote {
        Some(url) => {
            client = Client::new(url)?;
            label = client.base_url().to_owned();
        }
        #[cfg(feature = "local")]
        None => {
            let server = LocalServer::start().await?;
            client = Client::new(&server.url)?;
            label = format!("local (data in {})", server.data_dir.display());
            local = Some(server);
        }
        #[cfg(not(feature = "local"))]
        None => anyhow::bail!(
            "this council was built without local mode: give a server with --server URL \
             (or COUNCIL_SERVER)"
        ),
    }
    // Tokens of another server would only be refused there.
    if let (Some(access), Some(refresh)) = (&config.access_token, &config.refresh_token)
        && config.session_is_for(remote.as_deref())
    {
        client.set_session(Some(Session {
            access_token: access.clone(),
            refresh_token: refresh.clone(),
        }));
    }
    #[cfg(feature = "local")]
    let local = match local {
        Some(server) => {
            let signed_in = server.sign_in(&client).await;
            Some((server, signed_in))
        }
        None => None,
    };
    Ok(Connection {
        client,
        label,
        server: remote,
        #[cfg(feature = "local")]
        local,
    })
}

/// Runs the terminal UI until the user quits.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let (mut config, warnings) = ConfigFile::load(&options.config_path)?;
    let connection = connect(options.server.clone(), &config).await?;
    let client = connection.client.clone();
    // The local account's sign-in happened before the callback was set.
    if connection.local_account().is_some()
        && let Some(session) = client.session()
    {
        persist_session(Some(session), None, &mut config, &options.config_path).await;
    }

    // Token changes are persisted by this loop, off the callback's task.
    let (session_tx, mut session_rx) = mpsc::unbounded_channel::<Option<Session>>();
    client.on_session_change(Arc::new(move |s| {
        let _ = session_tx.send(s);
    }));

    let theme = Theme::detect();
    let mut terminal = ratatui::try_init()?;
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    let result = event_loop(
        &mut terminal,
        &client,
        &connection,
        &mut config,
        &options.config_path,
        &mut session_rx,
        warnings,
        theme,
    )
    .await;
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    connection.close().await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    client: &Client,
    connection: &Connection,
    config: &mut ConfigFile,
    config_path: &std::path::Path,
    session_rx: &mut mpsc::UnboundedReceiver<Option<Session>>,
    warnings: Vec<String>,
    theme: Theme,
) -> anyhow::Result<()> {
    let local_account = connection.local_account();
    let signed_in = client.session().is_some()
        && (local_account.is_some() || connection.local_problem().is_none());
    let email = local_account
        .map(str::to_owned)
        .or_else(|| config.email.clone());
    let (mut app, first) = App::new(
        connection.label.clone(),
        email,
        signed_in,
        Instant::now(),
        Utc::now(),
    );
    if local_account.is_some() {
        app.set_local();
    }
    app.utc_offset = Local::now().offset().fix();
    if let Ok(size) = terminal.size() {
        app.width = size.width;
        app.height = size.height;
    }
    if let Some(w) = warnings.into_iter().next() {
        app.warn(w);
    }
    if let Some(problem) = connection.local_problem().or(connection.local_warning()) {
        app.warn(problem);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let mut cache = RenderCache::default();
    let mut terminal_events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut pending = first;
    let mut dirty = true;
    loop {
        let mut quit = false;
        for effect in pending.drain(..) {
            if effect == Effect::Quit {
                quit = true;
                continue;
            }
            if effect == Effect::SignInLocally {
                if let Some(dir) = connection.local_data_dir() {
                    tokio::spawn(sign_in_locally(dir.to_owned(), client.clone(), tx.clone()));
                }
                continue;
            }
            // The terminal is this loop's: the sequence goes out between
            // two frames, never in the middle of one.
            if let Effect::Copy { what, text } = effect {
                let event = match copy_to_clipboard(&text) {
                    Ok(()) => Event::Copied {
                        what,
                        chars: text.chars().count(),
                    },
                    Err(e) => Event::Failed {
                        what: Request::Copy,
                        error: Failure::new(format!("Could not copy: {e}")),
                    },
                };
                let _ = tx.send(event);
                continue;
            }
            spawn_effect(effect, client.clone(), tx.clone());
        }
        if quit {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| screens::draw(f, &app, &mut cache, &theme))?;
            dirty = false;
        }
        tokio::select! {
            event = terminal_events.next() => {
                let Some(event) = event else { return Ok(()) };
                if let Some(e) = translate(event?) {
                    pending.extend(app.update(e));
                    dirty = true;
                }
            }
            Some(event) = rx.recv() => {
                remember_email(&event, config, config_path).await;
                pending.extend(app.update(event));
                // Apply everything already waiting before drawing once.
                while let Ok(event) = rx.try_recv() {
                    remember_email(&event, config, config_path).await;
                    pending.extend(app.update(event));
                }
                dirty = true;
            }
            Some(session) = session_rx.recv() => {
                persist_session(session, connection.server.as_deref(), config, config_path).await;
            }
            _ = tick.tick() => {
                let animating = app.animating();
                pending.extend(app.update(Event::Tick { now: Instant::now(), wall: Utc::now() }));
                dirty |= animating;
            }
        }
    }
}

/// Signs in again with the local account of `data_dir`.
async fn sign_in_locally(data_dir: PathBuf, client: Client, tx: mpsc::UnboundedSender<Event>) {
    let event = match local_account(&data_dir).await {
        Ok((email, password)) => match client.login(&email, &password).await {
            Ok(_) => Event::SignedIn { email },
            Err(e) => Event::LocalSignInFailed(format!(
                "The local account could not sign in again: {e}. Sign in here, or restart council."
            )),
        },
        Err(why) => Event::LocalSignInFailed(why),
    };
    let _ = tx.send(event);
}

#[cfg(feature = "local")]
async fn local_account(data_dir: &std::path::Path) -> Result<(String, String), String> {
    let dir = data_dir.to_owned();
    let loaded =
        tokio::task::spawn_blocking(move || crate::local::account::LocalAccount::load(&dir))
            .await
            .map_err(|e| e.to_string())?;
    match loaded {
        Ok(Some(account)) => Ok((account.email.clone(), account.password().to_owned())),
        Ok(None) => {
            Err("The local account file is gone: restart council to make a new one.".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(not(feature = "local"))]
async fn local_account(_data_dir: &std::path::Path) -> Result<(String, String), String> {
    Err("this council was built without local mode".into())
}

/// Sends the OSC 52 sequence for `text` to the terminal (see `clipboard`).
fn copy_to_clipboard(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let sequence = clipboard::copy_sequence(text, clipboard::in_tmux());
    let mut out = std::io::stdout().lock();
    out.write_all(sequence.as_bytes())?;
    out.flush()
}

/// Writes an export to a new file in the export directory.
async fn export(file_name: String, contents: String) -> Event {
    let written = tokio::task::spawn_blocking(move || {
        let dir = export::export_dir()?;
        // A configured export directory may not exist yet.
        std::fs::create_dir_all(&dir)?;
        export::save_new(&dir, &file_name, &contents)
    })
    .await;
    let failed = |why: String| Event::Failed {
        what: Request::Export,
        error: Failure::new(format!("Could not export: {why}")),
    };
    match written {
        Ok(Ok(path)) => Event::Exported { path },
        Ok(Err(e)) => failed(e.to_string()),
        Err(e) => failed(e.to_string()),
    }
}

fn translate(event: TermEvent) -> Option<Event> {
    match event {
        TermEvent::Key(k) => Some(Event::Key(k)),
        TermEvent::Paste(p) => Some(Event::Paste(p)),
        TermEvent::Resize(w, h) => Some(Event::Resize(w, h)),
        _ => None,
    }
}

async fn save(config: &ConfigFile, path: &std::path::Path) {
    let (config, path) = (config.clone(), path.to_owned());
    match tokio::task::spawn_blocking(move || config.save(&path)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not save the config file"),
        Err(e) => tracing::warn!(error = %e, "config save task failed"),
    }
}

async fn persist_session(
    session: Option<Session>,
    server: Option<&str>,
    config: &mut ConfigFile,
    path: &std::path::Path,
) {
    match session {
        Some(s) => config.remember_session(s.access_token, s.refresh_token, server),
        None => config.clear_session(),
    }
    save(config, path).await;
}

async fn remember_email(event: &Event, config: &mut ConfigFile, path: &std::path::Path) {
    if let Event::SignedIn { email } = event
        && config.email.as_deref() != Some(email)
    {
        config.email = Some(email.clone());
        save(config, path).await;
    }
}

/// Runs one effect as a task; its result comes back as an event.
fn spawn_effect(effect: Effect, client: Client, tx: mpsc::UnboundedSender<Event>) {
    tokio::spawn(async move {
        for event in perform(effect, &client, &tx).await {
            let _ = tx.send(event);
        }
    });
}

/// Performs an effect; returns the events it produces (a council's events
/// are sent as they arrive instead).
pub async fn perform(
    effect: Effect,
    client: &Client,
    tx: &mpsc::UnboundedSender<Event>,
) -> Vec<Event> {
    let fail = |what: Request, e: ClientError| {
        vec![Event::Failed {
            what,
            error: failure(&e),
        }]
    };
    match effect {
        Effect::Login { email, password } => match client.login(&email, &password).await {
            Ok(_) => vec![Event::SignedIn { email }],
            Err(e) => vec![Event::AuthFailed { error: failure(&e) }],
        },
        Effect::Register { email, password } => match client.register(&email, &password).await {
            Ok(_) => vec![Event::SignedIn { email }],
            Err(e) => vec![Event::AuthFailed { error: failure(&e) }],
        },
        Effect::Logout => match client.logout().await {
            Ok(()) => vec![Event::SignedOut],
            Err(e) => fail(Request::Logout, e),
        },
        Effect::LoadConversations { query } => match client.conversations(query.as_deref()).await {
            Ok(list) => vec![Event::ConversationsLoaded { query, list }],
            Err(e) => fail(Request::Conversations, e),
        },
        Effect::LoadConversation(id) => match client.conversation(id).await {
            Ok(c) => vec![Event::ConversationLoaded(Box::new(c))],
            Err(e) => fail(Request::Conversation, e),
        },
        Effect::ReloadConversationSoon(id) => {
            tokio::time::sleep(RELOAD_PAUSE).await;
            match client.conversation(id).await {
                Ok(c) => vec![Event::ConversationLoaded(Box::new(c))],
                Err(e) => fail(Request::Conversation, e),
            }
        }
        Effect::LoadModels => match client.models().await {
            Ok(m) => vec![Event::ModelsLoaded(m)],
            Err(e) => fail(Request::Models, e),
        },
        Effect::LoadKeys => match client.api_keys().await {
            Ok(k) => vec![Event::KeysLoaded(k)],
            Err(e) => fail(Request::Keys, e),
        },
        Effect::CreateConversation { models, lead_model } => {
            match client.create_conversation(models, lead_model).await {
                Ok(c) => vec![Event::Created(Box::new(c))],
                Err(e) => fail(Request::Create, e),
            }
        }
        Effect::Rename { id, title } => match client.rename_conversation(id, &title).await {
            Ok(s) => vec![Event::Renamed(s)],
            Err(e) => fail(Request::Rename, e),
        },
        Effect::Delete(id) => match client.delete_conversation(id).await {
            Ok(()) => vec![Event::Deleted(id)],
            Err(e) => fail(Request::Delete, e),
        },
        Effect::Send {
            conversation,
            content,
        } => {
            let mut stream = match client.stream_message(conversation, &content).await {
                Ok(s) => s,
                Err(e) => {
                    return vec![Event::CouncilFailed {
                        conversation,
                        error: failure(&e),
                    }];
                }
            };
            while let Some(item) = stream.next().await {
                match item {
                    Ok(event) => {
                        let terminal = event.is_terminal();
                        let _ = tx.send(Event::Council {
                            conversation,
                            event: Box::new(event),
                            at: Instant::now(),
                        });
                        if terminal {
                            return vec![];
                        }
                    }
                    Err(e) => {
                        return vec![Event::CouncilFailed {
                            conversation,
                            error: failure(&e),
                        }];
                    }
                }
            }
            vec![Event::CouncilFailed {
                conversation,
                error: Failure::new(
                    "The connection to the server was lost; the council goes on there.",
                ),
            }]
        }
        Effect::Cancel(id) => match client.cancel(id).await {
            Ok(()) => vec![Event::Cancelled(id)],
            Err(e) => fail(Request::Cancel, e),
        },
        Effect::SaveKey(key) => match client.save_api_key(&key).await {
            Ok(k) => vec![Event::KeySaved(k)],
            Err(e) => fail(Request::SaveKey, e),
        },
        Effect::DeleteKey(provider) => match client.delete_api_key(&provider).await {
            Ok(()) => vec![Event::KeyDeleted],
            Err(e) => fail(Request::DeleteKey, e),
        },
        // The client signs in again with the new password (the server
        // revoked every session), so this one goes on.
        Effect::ChangePassword { current, new } => {
            match client.change_password(&current, &new).await {
                Ok(()) => vec![Event::PasswordChanged],
                Err(e) => fail(Request::ChangePassword, e),
            }
        }
        Effect::Export {
            file_name,
            contents,
        } => vec![export(file_name, contents).await],
        // The event loop does these itself: it owns the terminal's output
        // and knows the local account.
        Effect::Copy { .. } | Effect::Quit | Effect::SignInLocally => vec![],
    }
}
