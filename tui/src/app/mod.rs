//! The client as a pure state machine: `App::update(event)` changes the
//! state and returns the effects (requests, quitting) the runtime must
//! perform. Nothing here touches the terminal or the network, so every
//! screen's behaviour is testable as plain data.

mod auth;
mod chat;
mod settings;

use std::time::Instant;

use chrono::{DateTime, Utc};

use council_shared::{
    ApiKeyResponse, Conversation, ConversationSummary, CouncilEvent, ModelsResponse,
};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use uuid::Uuid;

pub use auth::{AuthField, AuthForm};
pub use chat::{
    ChatState, Dialog, LiveRun, ModelProgress, ModelState, NARROW_WIDTH, Pane, StageView,
};
pub use settings::{SettingsField, SettingsState};

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    Register,
    Chat,
    Settings,
}

/// A one-line message for the user, shown until the next key press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// What happens to the app: input, time, and the results of effects.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// Time passes: the monotonic clock for timers, the wall clock for
    /// "2m ago".
    Tick {
        now: Instant,
        wall: DateTime<Utc>,
    },
    SignedIn {
        email: String,
    },
    AuthFailed {
        error: Failure,
    },
    ConversationsLoaded {
        query: Option<String>,
        list: Vec<ConversationSummary>,
    },
    ConversationLoaded(Box<Conversation>),
    ModelsLoaded(ModelsResponse),
    KeysLoaded(Vec<ApiKeyResponse>),
    Created(Box<Conversation>),
    Renamed(ConversationSummary),
    Deleted(Uuid),
    KeySaved(ApiKeyResponse),
    KeyDeleted,
    PasswordChanged,
    SignedOut,
    /// An event of the council running for `conversation`.
    Council {
        conversation: Uuid,
        event: Box<CouncilEvent>,
        at: Instant,
    },
    /// The stream of a council ended without a terminal event, or could
    /// not start.
    CouncilFailed {
        conversation: Uuid,
        error: Failure,
    },
    Cancelled(Uuid),
    /// The text of [`Effect::Copy`] went to the terminal's clipboard.
    Copied {
        what: String,
        chars: usize,
    },
    /// [`Effect::Export`] wrote the conversation to `path`.
    Exported {
        path: std::path::PathBuf,
    },
    /// A request failed.
    Failed {
        what: Request,
        error: Failure,
    },
}

/// A failed request as the app needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub status: Option<u16>,
    /// The session is gone: back to Login.
    pub session_expired: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: None,
            session_expired: false,
        }
    }
}

/// The requests the app asks the runtime to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Conversations,
    Conversation,
    Models,
    Keys,
    Create,
    Rename,
    Delete,
    SaveKey,
    DeleteKey,
    ChangePassword,
    Logout,
    Cancel,
    /// Writing an export file.
    Export,
    /// Writing the clipboard sequence to the terminal.
    Copy,
}

/// What the runtime must do.
#[derive(Clone, PartialEq, Eq)]
pub enum Effect {
    Login {
        email: String,
        password: String,
    },
    Register {
        email: String,
        password: String,
    },
    Logout,
    LoadConversations {
        query: Option<String>,
    },
    LoadConversation(Uuid),
    /// Load again after a pause (a run still going on the server).
    ReloadConversationSoon(Uuid),
    LoadModels,
    LoadKeys,
    CreateConversation {
        models: Option<Vec<String>>,
        lead_model: Option<String>,
    },
    Rename {
        id: Uuid,
        title: String,
    },
    Delete(Uuid),
    Send {
        conversation: Uuid,
        content: String,
    },
    Cancel(Uuid),
    SaveKey(String),
    DeleteKey(String),
    ChangePassword {
        current: String,
        new: String,
    },
    /// Put `text` on the clipboard (OSC 52); `what` names it for the
    /// notice ("answer").
    Copy {
        what: String,
        text: String,
    },
    /// Write `contents` to a new file named `file_name` in the export
    /// directory, never replacing an existing file.
    Export {
        file_name: String,
        contents: String,
    },
    Quit,
}

/// Secrets stay out of logs and test failure output.
impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Login { email, .. } => write!(f, "Login {{ email: {email:?}, .. }}"),
            Self::Register { email, .. } => write!(f, "Register {{ email: {email:?}, .. }}"),
            Self::SaveKey(_) => f.write_str("SaveKey(..)"),
            Self::ChangePassword { .. } => f.write_str("ChangePassword { .. }"),
            Self::Logout => f.write_str("Logout"),
            Self::LoadConversations { query } => {
                write!(f, "LoadConversations {{ query: {query:?} }}")
            }
            Self::LoadConversation(id) => write!(f, "LoadConversation({id})"),
            Self::ReloadConversationSoon(id) => write!(f, "ReloadConversationSoon({id})"),
            Self::LoadModels => f.write_str("LoadModels"),
            Self::LoadKeys => f.write_str("LoadKeys"),
            Self::CreateConversation { models, lead_model } => write!(
                f,
                "CreateConversation {{ models: {models:?}, lead_model: {lead_model:?} }}"
            ),
            Self::Rename { id, title } => write!(f, "Rename {{ id: {id}, title: {title:?} }}"),
            Self::Delete(id) => write!(f, "Delete({id})"),
            Self::Send {
                conversation,
                content,
            } => {
                write!(
                    f,
                    "Send {{ conversation: {conversation}, content: {content:?} }}"
                )
            }
            Self::Cancel(id) => write!(f, "Cancel({id})"),
            Self::DeleteKey(p) => write!(f, "DeleteKey({p:?})"),
            // Sizes only: an answer is long, and test output stays readable.
            Self::Copy { what, text } => {
                write!(
                    f,
                    "Copy {{ what: {what:?}, {} chars }}",
                    text.chars().count()
                )
            }
            Self::Export {
                file_name,
                contents,
            } => write!(
                f,
                "Export {{ file_name: {file_name:?}, {} bytes }}",
                contents.len()
            ),
            Self::Quit => f.write_str("Quit"),
        }
    }
}

/// The whole client state.
#[derive(Debug)]
pub struct App {
    pub screen: Screen,
    /// Where the server is, as shown to the user.
    pub server_label: String,
    pub email: Option<String>,
    pub notice: Option<Notice>,
    pub help: bool,
    pub login: AuthForm,
    pub register: AuthForm,
    pub chat: ChatState,
    pub settings: SettingsState,
    pub width: u16,
    pub height: u16,
    /// Advances on ticks while something animates (spinners).
    pub frame: u64,
    pub now: Instant,
    pub wall: DateTime<Utc>,
    /// The local time zone's offset, for showing message times.
    pub utc_offset: chrono::FixedOffset,
    pub quit: bool,
}

impl App {
    /// A client that starts signed in (`email` known) or on Login.
    pub fn new(
        server_label: String,
        email: Option<String>,
        signed_in: bool,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> (Self, Vec<Effect>) {
        let mut app = Self {
            screen: if signed_in {
                Screen::Chat
            } else {
                Screen::Login
            },
            server_label,
            email: email.clone(),
            notice: None,
            help: false,
            login: AuthForm::login(email.as_deref().unwrap_or_default()),
            register: AuthForm::register(),
            chat: ChatState::default(),
            settings: SettingsState::default(),
            width: 80,
            height: 24,
            frame: 0,
            now,
            wall,
            utc_offset: chrono::Offset::fix(&Utc),
            quit: false,
        };
        let effects = if signed_in { app.enter_chat() } else { vec![] };
        if !signed_in {
            app.login.focus = if email.is_some() {
                AuthField::Password
            } else {
                AuthField::Email
            };
        }
        (app, effects)
    }

    /// True while something on screen moves by itself (spinner, timer).
    pub fn animating(&self) -> bool {
        self.login.busy
            || self.register.busy
            || self.chat.run.is_some()
            || self.chat.loading
            || self.settings.busy
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    fn enter_chat(&mut self) -> Vec<Effect> {
        self.screen = Screen::Chat;
        self.chat.focus = if self.chat.current.is_some() {
            Pane::Input
        } else {
            Pane::Sidebar
        };
        vec![Effect::LoadConversations { query: None }, Effect::LoadKeys]
    }

    /// Back to Login, keeping the email, e.g. when the session expired.
    fn signed_out(&mut self, message: Option<&str>) {
        let email = self.email.clone().unwrap_or_default();
        self.screen = Screen::Login;
        self.login = AuthForm::login(&email);
        self.login.focus = if email.is_empty() {
            AuthField::Email
        } else {
            AuthField::Password
        };
        self.register = AuthForm::register();
        self.chat = ChatState::default();
        self.settings = SettingsState::default();
        self.help = false;
        match message {
            Some(m) => self.warn(m),
            None => self.notice = None,
        }
    }

    /// Applies one event; returns what the runtime must do.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Key(key) if key.kind == KeyEventKind::Release => vec![],
            Event::Key(key) => self.on_key(key),
            Event::Paste(text) => self.on_paste(&text),
            Event::Resize(w, h) => {
                self.width = w;
                self.height = h;
                vec![]
            }
            Event::Tick { now, wall } => {
                self.now = now;
                self.wall = wall;
                if self.animating() {
                    self.frame = self.frame.wrapping_add(1);
                }
                vec![]
            }
            Event::SignedIn { email } => {
                self.email = Some(email);
                self.login = AuthForm::login("");
                self.register = AuthForm::register();
                self.notice = None;
                self.enter_chat()
            }
            Event::AuthFailed { error } => {
                let form = if self.screen == Screen::Register {
                    &mut self.register
                } else {
                    &mut self.login
                };
                form.server_error(&error);
                vec![]
            }
            Event::SignedOut => {
                self.signed_out(None);
                self.notify("Signed out.");
                vec![]
            }
            Event::Failed { error, .. } if error.session_expired => {
                self.signed_out(Some("Your session has expired. Please sign in again."));
                vec![]
            }
            Event::CouncilFailed { error, .. } if error.session_expired => {
                self.signed_out(Some("Your session has expired. Please sign in again."));
                vec![]
            }
            Event::KeysLoaded(keys) => {
                let missing = keys.is_empty();
                self.settings.keys_loaded(keys);
                if missing && self.screen == Screen::Chat {
                    self.notify("No API key saved yet: press s to add your OpenRouter key.");
                }
                vec![]
            }
            Event::KeySaved(_) | Event::KeyDeleted | Event::PasswordChanged => {
                let (effects, message) = self.settings.on_result(&event);
                if let Some(m) = message {
                    self.notify(m);
                }
                effects
            }
            Event::Copied { what, chars } => {
                self.notify(format!("Copied {what} ({chars} chars)"));
                vec![]
            }
            Event::Exported { path } => {
                self.notify(format!("Exported to {}", path.display()));
                vec![]
            }
            Event::Failed { what, error } => match what {
                Request::SaveKey | Request::DeleteKey | Request::ChangePassword | Request::Keys => {
                    self.settings.on_failure(&what, &error);
                    vec![]
                }
                Request::Logout => {
                    // Signed out locally all the same.
                    self.signed_out(None);
                    self.warn(format!(
                        "Signed out here; the server could not be told: {}",
                        error.message
                    ));
                    vec![]
                }
                other => {
                    let effects = self.chat.on_failure(&other, &error);
                    self.warn(error.message);
                    effects
                }
            },
            other => {
                let (effects, notice) = self.chat.on_event(other, self.now);
                if let Some(n) = notice {
                    self.notice = Some(n);
                }
                effects
            }
        }
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        match self.screen {
            Screen::Login => self.login.paste(text),
            Screen::Register => self.register.paste(text),
            Screen::Settings => self.settings.paste(text),
            Screen::Chat => self.chat.paste(text),
        }
        vec![]
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.notice = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.help {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::F(1) | KeyCode::Char('q')
            ) {
                self.help = false;
            }
            return vec![];
        }
        if key.code == KeyCode::F(1) {
            self.help = true;
            return vec![];
        }
        match self.screen {
            Screen::Login | Screen::Register => {
                if ctrl && key.code == KeyCode::Char('c') {
                    self.quit = true;
                    return vec![Effect::Quit];
                }
                if ctrl && key.code == KeyCode::Char('r') {
                    self.screen = Screen::Register;
                    let email = self.login.email.lines().concat();
                    self.register.set_email(&email);
                    return vec![];
                }
                if ctrl && key.code == KeyCode::Char('l') {
                    self.screen = Screen::Login;
                    let email = self.register.email.lines().concat();
                    self.login.set_email(&email);
                    return vec![];
                }
                if self.screen == Screen::Login {
                    self.login.on_key(key, false)
                } else {
                    self.register.on_key(key, true)
                }
            }
            Screen::Settings => {
                let (effects, leave, help) = self.settings.on_key(key);
                if help {
                    self.help = true;
                }
                if leave {
                    self.screen = Screen::Chat;
                }
                effects
            }
            Screen::Chat => {
                let outcome = self.chat.on_key(key, self.width, self.now);
                if outcome.help {
                    self.help = true;
                }
                if outcome.settings {
                    self.screen = Screen::Settings;
                    self.settings.open();
                    return vec![Effect::LoadKeys];
                }
                if outcome.quit {
                    self.quit = true;
                }
                if outcome.copy {
                    return self.copy_focused();
                }
                if outcome.export {
                    return self.export_current();
                }
                if let Some(why) = self.chat.refusal.take() {
                    self.warn(why);
                }
                outcome.effects
            }
        }
    }
}

impl App {
    /// `y`: the focused answer to the clipboard, or why not.
    fn copy_focused(&mut self) -> Vec<Effect> {
        match self.chat.focused_answer() {
            Ok((what, text)) => vec![Effect::Copy { what, text }],
            Err(why) => {
                self.warn(why);
                vec![]
            }
        }
    }

    /// `e`: the open conversation as Markdown to a new file named after its
    /// title and today's (local) date.
    fn export_current(&mut self) -> Vec<Effect> {
        let Some(conversation) = &self.chat.current else {
            self.warn("Open a conversation to export it.");
            return vec![];
        };
        let date = self.wall.with_timezone(&self.utc_offset).date_naive();
        vec![Effect::Export {
            file_name: crate::export::file_name(
                &conversation.title,
                date,
                crate::export::Format::Markdown,
            ),
            contents: crate::export::markdown(conversation),
        }]
    }
}

/// Key helpers shared by the screens.
pub(crate) fn is_char(key: &KeyEvent, c: char) -> bool {
    key.code == KeyCode::Char(c)
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

#[cfg(test)]
pub(crate) mod tests;
