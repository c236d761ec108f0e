//! The settings screen: the provider key, the password, signing out.

use council_shared::{ApiKeyResponse, DEFAULT_PROVIDER, validate};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::auth::{edit, paste_line, single_line, value};
use super::{Effect, Event, Failure, Request, is_char};

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
        }
    }
}

impl SettingsState {
    /// Entering the screen: fresh fields, the key list being reloaded.
    pub fn open(&mut self) {
        let saved = self.saved.take();
        *self = Self {
            saved,
            ..Self::default()
        };
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
        let at = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % ORDER.len()
        } else {
            (at + ORDER.len() - 1) % ORDER.len()
        };
        self.focus = ORDER[next];
        self.confirm_remove = false;
    }

    /// A key; returns effects, whether to leave for the chat, whether to
    /// open the help.
    pub fn on_key(&mut self, key: KeyEvent) -> (Vec<Effect>, bool, bool) {
        if self.confirm_remove {
            self.confirm_remove = false;
            if is_char(&key, 'y') || is_char(&key, 'Y') {
                self.busy = true;
                return (
                    vec![Effect::DeleteKey(DEFAULT_PROVIDER.into())],
                    false,
                    false,
                );
            }
            return (vec![], false, false);
        }
        let typing = self.input().is_some();
        match key.code {
            KeyCode::Esc => return (vec![], true, false),
            KeyCode::Tab | KeyCode::Down => self.move_focus(true),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(false),
            KeyCode::Enter => return (self.activate(), false, false),
            _ if !typing && is_char(&key, 'q') => return (vec![], true, false),
            _ if !typing && is_char(&key, '?') => return (vec![], false, true),
            _ => {
                if let Some(t) = self.input() {
                    edit(t, key);
                }
            }
        }
        (vec![], false, false)
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

    /// The result of a settings request; returns effects and a notice.
    pub fn on_result(&mut self, event: &Event) -> (Vec<Effect>, Option<String>) {
        self.busy = false;
        match event {
            Event::KeySaved(key) => {
                self.key = single_line(true, "sk-or-v1-…");
                self.saved = Some(Some(key.clone()));
                self.status = Some((format!("Key saved ({}).", key.key_hint), false));
                (vec![], None)
            }
            Event::KeyDeleted => {
                self.saved = Some(None);
                self.status = Some(("Key removed.".into(), false));
                (vec![], None)
            }
            Event::PasswordChanged => {
                // The server signed every session out; the runtime signs in
                // again with the new password, so nothing else is needed.
                self.current = single_line(true, "");
                self.new = single_line(true, "at least 8 characters");
                self.confirm = single_line(true, "");
                self.status = Some(("Password changed.".into(), false));
                (vec![], None)
            }
            _ => (vec![], None),
        }
    }

    pub fn on_failure(&mut self, what: &Request, error: &Failure) {
        self.busy = false;
        if *what == Request::ChangePassword && error.status == Some(401) {
            self.focus = SettingsField::CurrentPassword;
            self.current = single_line(true, "");
        }
        self.status = Some((error.message.clone(), true));
    }
}
