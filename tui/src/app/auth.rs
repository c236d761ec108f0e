//! The Login and Register forms.

use council_shared::validate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use ratatui_textarea::TextArea;

use super::{Effect, Failure, Go, Outcome};
use crate::keymap::{self, Action, Scope};

/// A field of the forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthField {
    Email,
    Password,
    Confirm,
}

/// A sign-in or sign-up form: fields, focus, errors and whether a request
/// is on its way.
#[derive(Debug, Clone)]
pub struct AuthForm {
    pub email: TextArea<'static>,
    pub password: TextArea<'static>,
    pub confirm: TextArea<'static>,
    pub focus: AuthField,
    /// The error shown under a field.
    pub error: Option<(AuthField, String)>,
    pub busy: bool,
    register: bool,
}

/// A one-line input; masked for secrets.
pub(crate) fn single_line(masked: bool, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::default();
    if masked {
        t.set_mask_char('•');
    }
    t.set_placeholder_text(placeholder);
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

/// The text of a one-line input.
pub(crate) fn value(t: &TextArea<'_>) -> String {
    t.lines().concat()
}

/// Feeds a key to a one-line input (never a newline).
pub(crate) fn edit(t: &mut TextArea<'static>, key: KeyEvent) {
    if matches!(key.code, KeyCode::Enter)
        || (key.code == KeyCode::Char('m') && key.modifiers.contains(KeyModifiers::CONTROL))
    {
        return;
    }
    t.input(key);
}

/// Pastes the first line of `text` into a one-line input.
pub(crate) fn paste_line(t: &mut TextArea<'static>, text: &str) {
    let line = text.lines().next().unwrap_or_default();
    t.insert_str(line.trim_end_matches('\r'));
}

impl AuthForm {
    pub fn login(email: &str) -> Self {
        let mut f = Self::new(false);
        f.set_email(email);
        f
    }

    pub fn register() -> Self {
        Self::new(true)
    }

    fn new(register: bool) -> Self {
        Self {
            email: single_line(false, "you@example.com"),
            password: single_line(
                true,
                if register {
                    "at least 8 characters"
                } else {
                    ""
                },
            ),
            confirm: single_line(true, "the same again"),
            focus: AuthField::Email,
            error: None,
            busy: false,
            register,
        }
    }

    pub fn is_register(&self) -> bool {
        self.register
    }

    pub fn set_email(&mut self, email: &str) {
        self.email = single_line(false, "you@example.com");
        self.email.insert_str(email);
    }

    fn fields(&self) -> &'static [AuthField] {
        if self.register {
            &[AuthField::Email, AuthField::Password, AuthField::Confirm]
        } else {
            &[AuthField::Email, AuthField::Password]
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
    }

    fn field_mut(&mut self, field: AuthField) -> &mut TextArea<'static> {
        match field {
            AuthField::Email => &mut self.email,
            AuthField::Password => &mut self.password,
            AuthField::Confirm => &mut self.confirm,
        }
    }

    pub fn paste(&mut self, text: &str) {
        let focus = self.focus;
        paste_line(self.field_mut(focus), text);
    }

    /// A key on the form; Enter on the last field submits.
    pub fn on_key(&mut self, key: KeyEvent) -> Outcome {
        let scope = if self.register {
            Scope::Register
        } else {
            Scope::Login
        };
        match keymap::action(&[scope], &key) {
            Some(Action::ToRegister) => return Outcome::go(Go::Register),
            Some(Action::ToLogin) => return Outcome::go(Go::Login),
            _ if self.busy => {}
            Some(Action::FocusNext) => self.move_focus(true),
            Some(Action::FocusPrev) => self.move_focus(false),
            Some(Action::Submit) => {
                let last = *self.fields().last().unwrap_or(&AuthField::Password);
                if self.focus == last {
                    return Outcome::effects(self.submit());
                }
                self.move_focus(true);
            }
            _ => {
                let focus = self.focus;
                edit(self.field_mut(focus), key);
                if self.error.as_ref().is_some_and(|(f, _)| *f == focus) {
                    self.error = None;
                }
            }
        }
        Outcome::default()
    }

    /// Checks what can be checked here, then asks the server.
    fn submit(&mut self) -> Vec<Effect> {
        let register = self.register;
        let email = match validate::email(&value(&self.email)) {
            Ok(e) => e,
            Err(e) => return self.fail(AuthField::Email, e.0),
        };
        let password = value(&self.password);
        if register {
            if let Err(e) = validate::password(&password) {
                return self.fail(AuthField::Password, e.0);
            }
            if password != value(&self.confirm) {
                return self.fail(AuthField::Confirm, "Passwords do not match".into());
            }
        } else if password.is_empty() {
            return self.fail(AuthField::Password, "Enter your password".into());
        }
        self.error = None;
        self.busy = true;
        if register {
            vec![Effect::Register { email, password }]
        } else {
            vec![Effect::Login { email, password }]
        }
    }

    fn fail(&mut self, field: AuthField, message: String) -> Vec<Effect> {
        self.focus = field;
        self.error = Some((field, message));
        vec![]
    }

    /// Shows the server's refusal under the field it concerns.
    pub fn server_error(&mut self, error: &Failure) {
        self.busy = false;
        let text = error.message.clone();
        let lower = text.to_lowercase();
        let field = if lower.contains("email") && error.status != Some(401) {
            AuthField::Email
        } else if lower.contains("password") && error.status != Some(401) {
            AuthField::Password
        } else if self.register {
            AuthField::Email
        } else {
            AuthField::Password
        };
        if error.status == Some(401) {
            self.password = single_line(true, "");
        }
        self.focus = field;
        self.error = Some((field, text));
    }
}
