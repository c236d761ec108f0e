//! The settings screen: the provider key, the password, signing out. In
//! local mode the account is the client's own: only the key is shown.

use council_shared::{ApiKeyResponse, DEFAULT_PROVIDER, validate};
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::auth::{edit, paste_line, single_line, value};
use super::{Effect, Event, Failure, Go, Outcome, Request};
use crate::keymap::{self, Action, Scope};

/// The focusable rows of the form, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsField {
    NewKey,
    RemoveKey,
    CurrentPassword,
    NewPassword,
    ConfirmPassword,
    SignOut,
}

const ORDER: [SettingsField; 6] = [
    SettingsField::NewKey,
    SettingsField::RemoveKey,
    SettingsField::CurrentPassword,
    SettingsField::NewPassword,
    SettingsField::ConfirmPassword,
    SettingsField::SignOut,
];

#[derive(Debug)]
pub struct SettingsState {
    pub focus: SettingsField,
    pub key: TextArea<'static>,
    pub current: TextArea<'static>,
    pub new: TextArea<'static>,
    pub confirm: TextArea<'static>,
    /// The saved key (None: none saved; the outer None: not loaded yet).
    pub saved: Option<Option<ApiKeyResponse>>,
    pub confirm_remove: bool,
    /// The result of the last action: (text, is error).
    pub status: Option<(String, bool)>,
    pub busy: bool,
    /// Local mode: no password, no signing out.
    pub local: bool,
    /// The first start asked for the key here; saving it goes on to the
    /// chat.
    pub first_run: bool,
    /// The key was asked for once already (not again after Esc).
    pub asked_for_key: bool,
}

impl Default for SettingsState {
    fn default() -> Self {
        Self {
            focus: SettingsField::NewKey,
            key: single_line(true, "sk-or-v1-…"),
            current: single_line(true, ""),
            new: single_line(true, "at least 8 characters"),
            confirm: single_line(true, ""),
            saved: None,
            confirm_remove: false,
            status: None,
            busy: false,
            local: false,
            first_run: false,
            asked_for_key: false,
        }
    }
}

impl SettingsState {
    /// Entering the screen: fresh fields, the key list being reloaded.
    pub fn open(&mut self) {
        *self = Self {
            saved: self.saved.take(),
            local: self.local,
            asked_for_key: self.asked_for_key,
            ..Self::default()
        };
    }

    /// The first start in local mode: only the key is missing.
    pub fn welcome(&mut self) {
        self.first_run = true;
        self.focus = SettingsField::NewKey;
        self.status = None;
    }

    /// The rows that can take the focus, top to bottom.
    pub fn fields(&self) -> &'static [SettingsField] {
        if self.local { &ORDER[..2] } else { &ORDER }
    }

    pub fn keys_loaded(&mut self, keys: Vec<ApiKeyResponse>) {
        self.saved = Some(keys.into_iter().find(|k| k.provider == DEFAULT_PROVIDER));
    }

    fn input(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            SettingsField::NewKey => Some(&mut self.key),
            SettingsField::CurrentPassword => Some(&mut self.current),
            SettingsField::NewPassword => Some(&mut self.new),
            SettingsField::ConfirmPassword => Some(&mut self.confirm),
            SettingsField::RemoveKey | SettingsField::SignOut => None,
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(t) = self.input() {
            paste_line(t, text);
        }
    }

    fn move_focus(&mut self, forward: bool) {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % fields.len()
        } else {
            (at + fields.len() - 1) % fields.len()
        };
        self.focus = fields[next];
        self.confirm_remove = false;
    }

    /// A key on the settings form.
    pub fn on_key(&mut self, key: KeyEvent) -> Outcome {
        if self.confirm_remove {
            self.confirm_remove = false;
            if keymap::action(&[Scope::Confirm], &key) == Some(Action::Yes) {
                self.busy = true;
                return Outcome::effect(Effect::DeleteKey(DEFAULT_PROVIDER.into()));
            }
            return Outcome::default();
        }
        match keymap::action(&[Scope::Settings], &key) {
            Some(Action::Back) => return Outcome::go(Go::Chat),
            Some(Action::FocusNext) => self.move_focus(true),
            Some(Action::FocusPrev) => self.move_focus(false),
            Some(Action::Submit) => return Outcome::effects(self.activate()),
            _ => {
                if let Some(t) = self.input() {
                    edit(t, key);
                }
            }
        }
        Outcome::default()
    }

    fn activate(&mut self) -> Vec<Effect> {
        if self.busy {
            return vec![];
        }
        match self.focus {
            SettingsField::NewKey => match validate::api_key(&value(&self.key)) {
                Ok(key) => {
                    self.busy = true;
                    self.status = None;
                    vec![Effect::SaveKey(key)]
                }
                Err(e) => self.fail(e.0),
            },
            SettingsField::RemoveKey => {
                if matches!(self.saved, Some(Some(_))) {
                    self.confirm_remove = true;
                } else {
                    self.status = Some(("No key is saved.".into(), true));
                }
                vec![]
            }
            SettingsField::CurrentPassword | SettingsField::NewPassword => {
                self.move_focus(true);
                vec![]
            }
            SettingsField::ConfirmPassword => {
                let current = value(&self.current);
                let new = value(&self.new);
                if current.is_empty() {
                    self.focus = SettingsField::CurrentPassword;
                    return self.fail("Enter your current password".into());
                }
                if let Err(e) = validate::password(&new) {
                    self.focus = SettingsField::NewPassword;
                    return self.fail(e.0);
                }
                if new != value(&self.confirm) {
                    return self.fail("Passwords do not match".into());
                }
                self.busy = true;
                self.status = None;
                vec![Effect::ChangePassword { current, new }]
            }
            SettingsField::SignOut => {
                self.busy = true;
                vec![Effect::Logout]
            }
        }
    }

    fn fail(&mut self, message: String) -> Vec<Effect> {
        self.status = Some((message, true));
        vec![]
    }

    /// The result of a settings request.
    pub fn on_result(&mut self, event: &Event) -> Outcome {
        self.busy = false;
        match event {
            Event::KeySaved(key) => {
                self.key = single_line(true, "sk-or-v1-…");
                self.saved = Some(Some(key.clone()));
                self.status = Some((format!("Key saved ({}).", key.key_hint), false));
                if self.first_run {
                    // The one thing the first start needed: on to asking.
                    self.first_run = false;
                    return Outcome {
                        go: Some(Go::Chat),
                        ..Outcome::notice(format!(
                            "Key saved ({}). Type a question and press Enter.",
                            key.key_hint
                        ))
                    };
                }
                Outcome::default()
            }
            Event::KeyDeleted => {
                self.saved = Some(None);
                self.status = Some(("Key removed.".into(), false));
                Outcome::default()
            }
            Event::PasswordChanged => {
                // The server signed every session out; the runtime signs in
                // again with the new password, so nothing else is needed.
                self.current = single_line(true, "");
                self.new = single_line(true, "at least 8 characters");
                self.confirm = single_line(true, "");
                self.status = Some(("Password changed.".into(), false));
                Outcome::default()
            }
            _ => Outcome::default(),
        }
    }

    /// A settings request failed: said on the form, where the user looks.
    pub fn on_failure(&mut self, what: &Request, error: &Failure) -> Outcome {
        self.busy = false;
        if *what == Request::ChangePassword && error.status == Some(401) {
            self.focus = SettingsField::CurrentPassword;
            self.current = single_line(true, "");
        }
        self.status = Some((error.message.clone(), true));
        Outcome::default()
    }
}
