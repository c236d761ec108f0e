//! The one table of keys. The handlers ask it what a key means where the
//! focus is ([`action`]); the hint bar ([`hints`]) and the help overlay
//! ([`help`]) are drawn from it. A key that is not in the table does
//! nothing but type text, so no key can work without being shown.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a key applies: a pane of the chat, an overlay, or a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The chat screen while the focus is not on the input box.
    Chat,
    Sidebar,
    /// The conversation.
    Messages,
    /// An answer's stages, expanded over the conversation.
    Stages,
    /// The question being typed.
    Input,
    /// The sidebar's filter being typed.
    Filter,
    /// The new-conversation dialog.
    NewConversation,
    /// A yes/no question (delete, stop a running council).
    Confirm,
    /// The rename dialog.
    Rename,
    Login,
    Register,
    Settings,
    /// The help overlay.
    Help,
    /// Every screen.
    Anywhere,
}

impl Scope {
    /// The heading of the scope's section in the help overlay.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Anywhere => "Anywhere",
            Self::Chat => "Chat (outside the input box)",
            Self::Sidebar => "Conversation list",
            Self::Messages => "Conversation",
            Self::Stages => "An answer's stages",
            Self::Input => "Input box",
            Self::Filter => "Filter",
            Self::NewConversation => "New conversation",
            Self::Confirm => "Questions",
            Self::Rename => "Rename",
            Self::Login => "Sign in",
            Self::Register => "Create account",
            Self::Settings => "Settings",
            Self::Help => "This help",
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Help,
    Quit,
    /// Ctrl-C: quit, or ask to stop a running council.
    Interrupt,
    FocusNext,
    FocusPrev,
    ToggleSidebar,
    Settings,
    Down,
    Up,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Filter,
    New,
    Rename,
    Delete,
    /// Esc: close, collapse, leave.
    Back,
    Copy,
    Export,
    PrevTab,
    NextTab,
    /// `1`–`9`: the tab of that number.
    Tab(u8),
    SwitchStage,
    Send,
    Newline,
    /// Keep the filter's result and leave it.
    Keep,
    Toggle,
    Lead,
    Yes,
    No,
    Submit,
    ToRegister,
    ToLogin,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    /// Control and Alt only: Shift is part of the character typed.
    pub mods: KeyModifiers,
}

const fn plain(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

impl Key {
    fn matches(&self, key: &KeyEvent) -> bool {
        let mods = key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        match (self.code, key.code) {
            // Shift-Enter counts as Alt-Enter where a terminal tells them
            // apart: both make a new line.
            (KeyCode::Enter, KeyCode::Enter) if self.mods == KeyModifiers::ALT => {
                mods == KeyModifiers::ALT || key.modifiers.contains(KeyModifiers::SHIFT)
            }
            (KeyCode::Enter, KeyCode::Enter) => {
                mods == self.mods && !key.modifiers.contains(KeyModifiers::SHIFT)
            }
            (a, b) => a == b && mods == self.mods,
        }
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct Binding {
    pub scope: Scope,
    pub action: Action,
    pub keys: &'static [Key],
    /// The keys as shown ("j/k", "Enter").
    pub shown: &'static str,
    /// The hint bar's word for it; `None` to show it in the help only.
    pub hint: Option<&'static str>,
    /// The help overlay's description.
    pub help: &'static str,
}

const fn bind(
    scope: Scope,
    action: Action,
    keys: &'static [Key],
    shown: &'static str,
    hint: Option<&'static str>,
    help: &'static str,
) -> Binding {
    Binding {
        scope,
        action,
        keys,
        shown,
        hint,
        help,
    }
}

use Action as A;
use Scope as S;

const TAB: Key = plain(KeyCode::Tab);
const BACKTAB: Key = plain(KeyCode::BackTab);
const ENTER: Key = plain(KeyCode::Enter);
const ESC: Key = plain(KeyCode::Esc);
const UP: Key = plain(KeyCode::Up);
const DOWN: Key = plain(KeyCode::Down);

/// Every key of the client, in the order the hint bar and the help show
/// them within a scope. One binding a line: it reads as the table it is.
#[rustfmt::skip]
pub static BINDINGS: &[Binding] = &[
    // Anywhere.
    bind(S::Anywhere, A::Interrupt, &[ctrl('c')], "Ctrl-C", Some("quit"), "quit; while a council runs, asks whether to stop it"),
    bind(S::Anywhere, A::Help, &[plain(KeyCode::F(1))], "F1", Some("help"), "this help (also ? outside text fields)"),
    // The chat outside the input.
    bind(S::Chat, A::Help, &[ch('?')], "?", Some("help"), "this help"),
    bind(S::Chat, A::FocusNext, &[TAB], "Tab", Some("focus"), "next pane (list, conversation, input)"),
    bind(S::Chat, A::FocusPrev, &[BACKTAB], "Shift-Tab", None, "previous pane"),
    bind(S::Chat, A::ToggleSidebar, &[ch('b')], "b", None, "show or hide the conversation list (narrow terminals)"),
    bind(S::Chat, A::Settings, &[ch('s')], "s", Some("settings"), "settings: API key, password, sign out"),
    bind(S::Chat, A::Quit, &[ch('q')], "q", Some("quit"), "quit"),
    // The sidebar.
    bind(S::Sidebar, A::Down, &[ch('j'), DOWN], "j/k", Some("move"), "next conversation (k, ↑: previous)"),
    bind(S::Sidebar, A::Up, &[ch('k'), UP], "k", None, ""),
    bind(S::Sidebar, A::Top, &[ch('g'), plain(KeyCode::Home)], "g G", None, "first / last conversation"),
    bind(S::Sidebar, A::Bottom, &[ch('G'), plain(KeyCode::End)], "G", None, ""),
    bind(S::Sidebar, A::Open, &[ENTER], "Enter", Some("open"), "open the conversation"),
    bind(S::Sidebar, A::Filter, &[ch('/')], "/", Some("search"), "search titles and messages"),
    bind(S::Sidebar, A::New, &[ch('n')], "n", Some("new"), "new conversation (pick the council)"),
    bind(S::Sidebar, A::Rename, &[ch('r')], "r", Some("rename"), "rename the conversation"),
    bind(S::Sidebar, A::Delete, &[ch('d')], "d", Some("delete"), "delete the conversation (asks first)"),
    bind(S::Sidebar, A::Back, &[ESC], "Esc", None, "back to the input box"),
    // The conversation.
    bind(S::Messages, A::Down, &[ch('j'), DOWN], "j/k", Some("answer"), "next answer (k, ↑: previous)"),
    bind(S::Messages, A::Up, &[ch('k'), UP], "k", None, ""),
    bind(S::Messages, A::Open, &[ENTER], "Enter", Some("stages"), "expand the answer's stages"),
    bind(S::Messages, A::Copy, &[ch('y')], "y", Some("copy"), "copy the answer (OSC 52)"),
    bind(S::Messages, A::Export, &[ch('e')], "e", Some("export"), "export the conversation as Markdown"),
    bind(S::Messages, A::PageUp, &[plain(KeyCode::PageUp)], "PgUp/PgDn", Some("scroll"), "scroll up / down"),
    bind(S::Messages, A::PageDown, &[plain(KeyCode::PageDown)], "PgDn", None, ""),
    bind(S::Messages, A::Top, &[ch('g'), plain(KeyCode::Home)], "g G", None, "top / bottom of the conversation"),
    bind(S::Messages, A::Bottom, &[ch('G'), plain(KeyCode::End)], "G", None, ""),
    bind(S::Messages, A::Back, &[ESC], "Esc", None, "back to the input box"),
    // An answer's stages.
    bind(S::Stages, A::PrevTab, &[plain(KeyCode::Left), ch('h')], "←→", Some("tab"), "previous / next tab (h, l too)"),
    bind(S::Stages, A::NextTab, &[plain(KeyCode::Right), ch('l')], "→", None, ""),
    bind(S::Stages, A::Tab(0), &[ ch('1'), ch('2'), ch('3'), ch('4'), ch('5'), ch('6'), ch('7'), ch('8'), ch('9'), ], "1-9", None, "tab by number"),
    bind(S::Stages, A::SwitchStage, &[TAB], "Tab", Some("stage 1/2"), "switch between stage 1 and stage 2"),
    bind(S::Stages, A::Back, &[ESC], "Esc", Some("back"), "back to the conversation"),
    bind(S::Stages, A::PageUp, &[plain(KeyCode::PageUp)], "PgUp/PgDn", None, "scroll up / down"),
    bind(S::Stages, A::PageDown, &[plain(KeyCode::PageDown)], "PgDn", None, ""),
    // The input box.
    bind(S::Input, A::Send, &[ENTER], "Enter", Some("send"), "send the question"),
    bind(S::Input, A::Newline, &[Key { code: KeyCode::Enter, mods: KeyModifiers::ALT, }], "Alt-Enter", Some("newline"), "new line (Shift-Enter too, where the terminal tells it apart)"),
    bind(S::Input, A::Back, &[ESC], "Esc", Some("leave"), "leave the input box (for j/k, s, q…)"),
    bind(S::Input, A::FocusNext, &[TAB], "Tab", Some("focus"), "next pane"),
    bind(S::Input, A::FocusPrev, &[BACKTAB], "Shift-Tab", None, "previous pane"),
    // The filter.
    bind(S::Filter, A::Down, &[DOWN], "↑↓", Some("move"), "move in the results"),
    bind(S::Filter, A::Up, &[UP], "↑", None, ""),
    bind(S::Filter, A::Keep, &[ENTER], "Enter", Some("keep"), "keep the results and leave the filter"),
    bind(S::Filter, A::Back, &[ESC], "Esc", Some("clear"), "clear the filter"),
    // The new-conversation dialog.
    bind(S::NewConversation, A::Down, &[ch('j'), DOWN], "j/k", Some("move"), "next / previous model"),
    bind(S::NewConversation, A::Up, &[ch('k'), UP], "k", None, ""),
    bind(S::NewConversation, A::Toggle, &[ch(' ')], "Space", Some("council"), "put the model on the council or take it off"),
    bind(S::NewConversation, A::Lead, &[ch('l')], "l", Some("lead"), "make the model the lead"),
    bind(S::NewConversation, A::Submit, &[ENTER], "Enter", Some("create"), "create the conversation"),
    bind(S::NewConversation, A::Back, &[ESC], "Esc", Some("cancel"), "cancel"),
    // Yes/no questions.
    bind(S::Confirm, A::Yes, &[ch('y'), ch('Y')], "y", Some("yes"), "yes"),
    bind(S::Confirm, A::Quit, &[ch('q')], "q", None, "quit, letting a running council finish on the server"),
    bind(S::Confirm, A::No, &[ch('n'), ch('N'), ESC], "n/Esc", Some("no"), "no"),
    // Rename.
    bind(S::Rename, A::Submit, &[ENTER], "Enter", Some("save"), "save the title"),
    bind(S::Rename, A::Back, &[ESC], "Esc", Some("cancel"), "cancel"),
    // Sign in and create an account.
    bind(S::Login, A::Submit, &[ENTER], "Enter", Some("sign in"), "next field; sign in from the last"),
    bind(S::Login, A::FocusNext, &[TAB, DOWN], "Tab", Some("next field"), "next field (↓ too)"),
    bind(S::Login, A::FocusPrev, &[BACKTAB, UP], "Shift-Tab", None, "previous field (↑ too)"),
    bind(S::Login, A::ToRegister, &[ctrl('r')], "Ctrl-R", Some("create account"), "create an account instead"),
    bind(S::Register, A::Submit, &[ENTER], "Enter", Some("create account"), "next field; create the account from the last"),
    bind(S::Register, A::FocusNext, &[TAB, DOWN], "Tab", Some("next field"), "next field (↓ too)"),
    bind(S::Register, A::FocusPrev, &[BACKTAB, UP], "Shift-Tab", None, "previous field (↑ too)"),
    bind(S::Register, A::ToLogin, &[ctrl('l')], "Ctrl-L", Some("sign in"), "sign in instead"),
    // Settings.
    bind(S::Settings, A::FocusNext, &[TAB, DOWN], "Tab", Some("move"), "next field (↓ too)"),
    bind(S::Settings, A::FocusPrev, &[BACKTAB, UP], "Shift-Tab", None, "previous field (↑ too)"),
    bind(S::Settings, A::Submit, &[ENTER], "Enter", Some("apply"), "save, remove, change or sign out"),
    bind(S::Settings, A::Back, &[ESC], "Esc", Some("back"), "back to the chat"),
    // The help overlay.
    bind(S::Help, A::Down, &[ch('j'), DOWN], "j/k", Some("scroll"), "scroll the help (k, ↑: back)"),
    bind(S::Help, A::Up, &[ch('k'), UP], "k", None, ""),
    bind(S::Help, A::PageDown, &[plain(KeyCode::PageDown)], "PgDn/PgUp", None, "a page down / up"),
    bind(S::Help, A::PageUp, &[plain(KeyCode::PageUp)], "PgUp", None, ""),
    bind(S::Help, A::Back, &[ESC, ch('?'), ch('q'), plain(KeyCode::F(1))], "Esc", Some("close"), "close the help (? q F1 too)"),
];

/// What `key` does in the first of `scopes` that knows it.
pub fn action(scopes: &[Scope], key: &KeyEvent) -> Option<Action> {
    scopes.iter().find_map(|scope| {
        BINDINGS.iter().filter(|b| b.scope == *scope).find_map(|b| {
            let at = b.keys.iter().position(|k| k.matches(key))?;
            Some(match b.action {
                // The digit's position in the list is the tab.
                Action::Tab(_) => Action::Tab(u8::try_from(at).unwrap_or(0)),
                other => other,
            })
        })
    })
}

/// The hint bar's entries for `scopes`, in table order: (keys, word).
pub fn hints(scopes: &[Scope]) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for scope in scopes {
        for b in BINDINGS.iter().filter(|b| b.scope == *scope) {
            if let Some(hint) = b.hint
                && !out.iter().any(|(_, h)| *h == hint)
            {
                out.push((b.shown, hint));
            }
        }
    }
    out
}

/// The help overlay's sections: each scope with its rows (keys, what).
/// A row without a description is the other half of the row above it
/// ("k" of "j/k"), which already shows its key.
pub fn help(scopes: &[Scope]) -> Vec<(Scope, Vec<(&'static str, &'static str)>)> {
    scopes
        .iter()
        .map(|scope| {
            let rows = BINDINGS
                .iter()
                .filter(|b| b.scope == *scope && !b.help.is_empty())
                .map(|b| (b.shown, b.help))
                .collect();
            (*scope, rows)
        })
        .collect()
}

/// A key that types a character: no Control, no Alt.
pub fn is_printable(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_))
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn every_binding_is_shown_somewhere() {
        for (i, b) in BINDINGS.iter().enumerate() {
            assert!(!b.keys.is_empty(), "{:?} has no key", b.action);
            assert!(!b.shown.is_empty(), "{:?}", b.action);
            if b.help.is_empty() {
                // Described by the row above, which must show this key.
                let above = i.checked_sub(1).and_then(|i| BINDINGS.get(i));
                assert!(
                    above.is_some_and(|a| a.scope == b.scope
                        && a.shown
                            .contains(b.shown.split(['/', ' ']).next().unwrap_or(b.shown))),
                    "{:?} in {:?} is shown nowhere",
                    b.action,
                    b.scope
                );
            }
        }
    }

    #[test]
    fn no_key_means_two_things_in_one_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope != b.scope {
                    continue;
                }
                for k in a.keys {
                    assert!(
                        !b.keys.contains(k),
                        "{k:?} is both {:?} and {:?} in {:?}",
                        a.action,
                        b.action,
                        a.scope
                    );
                }
            }
        }
    }

    #[test]
    fn keys_are_looked_up_in_the_order_of_the_scopes() {
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(action(&[S::Sidebar, S::Chat], &j), Some(A::Down));
        let s = key(KeyCode::Char('s'), KeyModifiers::NONE);
        assert_eq!(action(&[S::Sidebar, S::Chat], &s), Some(A::Settings));
        assert_eq!(action(&[S::Input], &s), None, "s types in the input");
        let tab = key(KeyCode::Tab, KeyModifiers::NONE);
        assert_eq!(
            action(&[S::Stages, S::Messages, S::Chat], &tab),
            Some(A::SwitchStage)
        );
        let three = key(KeyCode::Char('3'), KeyModifiers::NONE);
        assert_eq!(action(&[S::Stages], &three), Some(A::Tab(2)));
        // Shift is part of the character: `G` arrives with it.
        let big_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(action(&[S::Sidebar], &big_g), Some(A::Bottom));
        // Control makes another key.
        let ctrl_j = key(KeyCode::Char('j'), KeyModifiers::CONTROL);
        assert_eq!(action(&[S::Sidebar], &ctrl_j), None);
    }

    #[test]
    fn enter_sends_and_alt_or_shift_enter_make_a_new_line() {
        let enter = key(KeyCode::Enter, KeyModifiers::NONE);
        let alt = key(KeyCode::Enter, KeyModifiers::ALT);
        let shift = key(KeyCode::Enter, KeyModifiers::SHIFT);
        assert_eq!(action(&[S::Input], &enter), Some(A::Send));
        assert_eq!(action(&[S::Input], &alt), Some(A::Newline));
        assert_eq!(action(&[S::Input], &shift), Some(A::Newline));
    }

    #[test]
    fn hints_are_the_tables_in_order_without_repeats() {
        let hints = hints(&[S::Sidebar, S::Chat]);
        let words: Vec<&str> = hints.iter().map(|(_, w)| *w).collect();
        assert_eq!(
            words,
            [
                "move", "open", "search", "new", "rename", "delete", "help", "focus", "settings",
                "quit"
            ]
        );
    }
}
