//! The client as a pure state machine: `App::update(event)` changes the
//! state and returns the effects (requests, quitting) the runtime must
//! perform. Nothing here touches the terminal or the network, so every
//! screen's behaviour is testable as plain data.
//!
//! Each screen's handlers return one type, [`Outcome`]: the effects to
//! perform, a notice to show and where to go next. Keys mean what
//! [`crate::keymap`] says they mean.

mod auth;
mod chat;
pub mod progress;
mod settings;

use std::time::Instant;

use chrono::{DateTime, Utc};

use council_shared::{
    ApiKeyResponse, Conversation, ConversationSummary, CouncilEvent, ModelsResponse,
};
use crossterm::event::{KeyEvent, KeyEventKind};
use uuid::Uuid;

pub use auth::{AuthField, AuthForm};
pub use chat::{
    ChatState, Dialog, KeyContext, LiveRun, NARROW, Pane, PendingSearch, SEARCH_DELAY,
    SEARCH_MIN_CHARS, SidebarMode, StageView, WIDE,
};
pub use progress::{Milestone, ModelProgress, ModelState, RunProgress};
pub use settings::{SettingsField, SettingsState};

use crate::keymap::{self, Action, Scope};

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

/// Where a handler sends the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    Chat,
    Settings,
    Login,
    Register,
    /// The help overlay, over the current screen.
    Help,
}

/// What a screen's handler asks of the app besides its own state change:
/// the one output type of every screen.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub effects: Vec<Effect>,
    pub notice: Option<Notice>,
    pub go: Option<Go>,
}

impl Outcome {
    pub fn effect(effect: Effect) -> Self {
        Self::effects(vec![effect])
    }

    pub fn effects(effects: Vec<Effect>) -> Self {
        Self {
            effects,
            ..Self::default()
        }
    }

    pub fn notice(text: impl Into<String>) -> Self {
        Self {
            notice: Some(Notice {
                text: text.into(),
                error: false,
            }),
            ..Self::default()
        }
    }

    pub fn warn(text: impl Into<String>) -> Self {
        Self {
            notice: Some(Notice {
                text: text.into(),
                error: true,
            }),
            ..Self::default()
        }
    }

    pub fn go(to: Go) -> Self {
        Self {
            go: Some(to),
            ..Self::default()
        }
    }
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
    /// Local mode could not sign in again; the message says why.
    LocalSignInFailed(String),
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
    /// Local mode: sign in again with the local account (the session
    /// ended, e.g. after a week away).
    SignInLocally,
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
            Self::SignInLocally => f.write_str("SignInLocally"),
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
    /// The server runs in-process with an account of its own: no signing
    /// out, no password to change.
    pub local: bool,
    pub email: Option<String>,
    pub notice: Option<Notice>,
    /// The help overlay is shown, scrolled this many lines.
    pub help: Option<usize>,
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
            local: false,
            email: email.clone(),
            notice: None,
            help: None,
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

    /// Local mode: the account is the client's own (see `local`).
    pub fn set_local(&mut self) {
        self.local = true;
        self.settings.local = true;
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

    /// The keymap scopes where the focus is, most specific first.
    pub fn scopes(&self) -> Vec<Scope> {
        if self.help.is_some() {
            return vec![Scope::Help];
        }
        match self.screen {
            Screen::Login => vec![Scope::Login],
            Screen::Register => vec![Scope::Register],
            Screen::Settings if self.settings.confirm_remove => vec![Scope::Confirm],
            Screen::Settings => vec![Scope::Settings],
            Screen::Chat => self.chat.scopes(),
        }
    }

    fn enter_chat(&mut self) -> Vec<Effect> {
        self.screen = Screen::Chat;
        // Typing a question is what people do first.
        self.chat.focus = Pane::Input;
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
        self.settings = SettingsState {
            local: self.local,
            ..SettingsState::default()
        };
        self.help = None;
        match message {
            Some(m) => self.warn(m),
            None => self.notice = None,
        }
    }

    /// Applies what a screen's handler asked for; returns the effects.
    fn apply(&mut self, outcome: Outcome) -> Vec<Effect> {
        let Outcome {
            mut effects,
            notice,
            go,
        } = outcome;
        if notice.is_some() {
            self.notice = notice;
        }
        match go {
            Some(Go::Help) => self.help = Some(0),
            Some(Go::Settings) => {
                self.screen = Screen::Settings;
                self.settings.open();
                effects.push(Effect::LoadKeys);
            }
            Some(Go::Chat) => {
                self.screen = Screen::Chat;
                // Back from settings, the next keys are a question.
                self.chat.focus = Pane::Input;
                self.chat.sidebar_open = false;
            }
            Some(Go::Login) => {
                self.screen = Screen::Login;
                let email = value_of(&self.register.email);
                self.login.set_email(&email);
            }
            Some(Go::Register) => {
                self.screen = Screen::Register;
                let email = value_of(&self.login.email);
                self.register.set_email(&email);
            }
            None => {}
        }
        effects
    }

    /// Applies one event; returns what the runtime must do.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Key(key) if key.kind == KeyEventKind::Release => vec![],
            Event::Key(key) => self.on_key(key),
            Event::Paste(text) => {
                self.on_paste(&text);
                vec![]
            }
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
                let outcome = self.chat.on_tick(now);
                self.apply(outcome)
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
            Event::Failed { error, .. } | Event::CouncilFailed { error, .. }
                if error.session_expired && self.local =>
            {
                // There is no password to ask for: the local account's is
                // in its file.
                self.notify("Signing in again…");
                vec![Effect::SignInLocally]
            }
            Event::Failed { error, .. } | Event::CouncilFailed { error, .. }
                if error.session_expired =>
            {
                self.signed_out(Some("Your session has expired. Please sign in again."));
                vec![]
            }
            Event::LocalSignInFailed(why) => {
                self.local = false;
                self.settings.local = false;
                self.signed_out(Some(&why));
                vec![]
            }
            Event::KeysLoaded(keys) => {
                let missing = keys.is_empty();
                self.settings.keys_loaded(keys);
                if missing && self.screen == Screen::Chat {
                    if self.local && !self.settings.asked_for_key {
                        // Alone on this machine, the key is all that is
                        // missing: ask for it first.
                        self.settings.asked_for_key = true;
                        let effects = self.apply(Outcome::go(Go::Settings));
                        self.settings.welcome();
                        return effects;
                    }
                    self.notify(
                        "No API key saved yet: press Esc, then s, to add your OpenRouter key.",
                    );
                }
                vec![]
            }
            Event::KeySaved(_) | Event::KeyDeleted | Event::PasswordChanged => {
                let outcome = self.settings.on_result(&event);
                self.apply(outcome)
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
                    let outcome = self.settings.on_failure(&what, &error);
                    self.apply(outcome)
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
                    let outcome = self.chat.on_failure(&other, error);
                    self.apply(outcome)
                }
            },
            other => {
                let outcome = self.chat.on_event(other, self.now);
                self.apply(outcome)
            }
        }
    }

    fn on_paste(&mut self, text: &str) {
        match self.screen {
            Screen::Login => self.login.paste(text),
            Screen::Register => self.register.paste(text),
            Screen::Settings => self.settings.paste(text),
            Screen::Chat => self.chat.paste(text),
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.notice = None;
        if let Some(scroll) = self.help {
            match keymap::action(&[Scope::Help], &key) {
                Some(Action::Back) => self.help = None,
                Some(Action::Down) => self.help = Some(scroll.saturating_add(1)),
                Some(Action::Up) => self.help = Some(scroll.saturating_sub(1)),
                Some(Action::PageDown) => self.help = Some(scroll.saturating_add(10)),
                Some(Action::PageUp) => self.help = Some(scroll.saturating_sub(10)),
                _ => {}
            }
            return vec![];
        }
        match keymap::action(&[Scope::Anywhere], &key) {
            Some(Action::Help) => {
                self.help = Some(0);
                return vec![];
            }
            Some(Action::Interrupt) if self.screen != Screen::Chat => return vec![Effect::Quit],
            _ => {}
        }
        let outcome = match self.screen {
            Screen::Login => self.login.on_key(key),
            Screen::Register => self.register.on_key(key),
            Screen::Settings => self.settings.on_key(key),
            Screen::Chat => {
                let at = KeyContext {
                    width: self.width,
                    now: self.now,
                    today: self.wall.with_timezone(&self.utc_offset).date_naive(),
                };
                self.chat.on_key(key, &at)
            }
        };
        self.apply(outcome)
    }
}

fn value_of(t: &ratatui_textarea::TextArea<'_>) -> String {
    t.lines().concat()
}

#[cfg(test)]
pub(crate) mod tests;
