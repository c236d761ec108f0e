//! The chat screen: the sidebar of conversations, the open conversation
//! with a council running live, the input box and the dialogs.

use std::time::Instant;

use council_shared::{
    Conversation, ConversationSummary, CouncilEvent, Message, ModelsResponse, RunStatus,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;
use uuid::Uuid;

use super::auth::{edit, paste_line, single_line, value};
use super::{Effect, Event, Failure, Notice, Request, is_char};

/// Below this width the sidebar folds away and opens as an overlay.
pub const NARROW_WIDTH: u16 = 100;

/// The focused pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Sidebar,
    Messages,
    Input,
}

/// An assistant message expanded to its stages (replaces the message pane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageView {
    /// Index into the conversation's messages.
    pub message: usize,
    /// 1 (answers) or 2 (evaluations).
    pub stage: u8,
    pub tab: usize,
}

/// A modal question over the chat.
#[derive(Debug, Clone)]
pub enum Dialog {
    /// Pick the council (space) and the lead (l) for a new conversation.
    NewConversation {
        models: Vec<String>,
        chosen: Vec<bool>,
        lead: usize,
        cursor: usize,
        error: Option<String>,
    },
    Rename {
        id: Uuid,
        input: Box<TextArea<'static>>,
    },
    ConfirmDelete {
        id: Uuid,
        title: String,
    },
    /// Ctrl-C while a council runs.
    StopRun {
        id: Uuid,
    },
}

/// How one council model is doing in stage 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelState {
    Waiting,
    Streaming,
    Done,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ModelProgress {
    pub model: String,
    pub state: ModelState,
    pub finished: Option<Instant>,
    pub chars: usize,
}

/// A council running in the open conversation, as its events tell it.
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub conversation: Uuid,
    pub question: String,
    pub started: Instant,
    pub models: Vec<ModelProgress>,
    /// 1, 2 or 3.
    pub stage: u8,
    pub stage2_done: usize,
    pub stage2_total: usize,
    pub lead: Option<String>,
    pub answer: String,
    pub stopping: bool,
}

impl LiveRun {
    fn new(conversation: Uuid, question: String, now: Instant) -> Self {
        Self {
            conversation,
            question,
            started: now,
            models: vec![],
            stage: 1,
            stage2_done: 0,
            stage2_total: 0,
            lead: None,
            answer: String::new(),
            stopping: false,
        }
    }

    fn model(&mut self, name: &str) -> Option<&mut ModelProgress> {
        self.models.iter_mut().find(|m| m.model == name)
    }
}

/// The chat screen's state.
#[derive(Debug, Default)]
pub struct ChatState {
    pub conversations: Vec<ConversationSummary>,
    pub selected: usize,
    /// The filter being typed, while filtering.
    pub filter: Option<TextArea<'static>>,
    /// The query the list reflects.
    pub query: Option<String>,
    pub focus: Pane,
    /// On a narrow terminal: the sidebar shown over the messages.
    pub sidebar_open: bool,
    pub current: Option<Conversation>,
    pub run: Option<LiveRun>,
    pub input: Input,
    /// Lines scrolled up from the bottom of the conversation.
    pub scroll: usize,
    /// The assistant message Enter expands (index into messages).
    pub selected_message: Option<usize>,
    pub view: Option<StageView>,
    pub dialog: Option<Dialog>,
    pub models: Option<ModelsResponse>,
    pub loading: bool,
    /// The new-conversation dialog waits for the model catalogue.
    pub wants_dialog: bool,
    /// A question typed before any conversation existed: sent once the
    /// conversation made for it exists.
    pub pending_question: Option<String>,
    /// Why the last key was refused, for the app to show.
    pub refusal: Option<String>,
}

/// The multi-line input box.
#[derive(Debug)]
pub struct Input(pub TextArea<'static>);

impl Default for Input {
    fn default() -> Self {
        let mut t = TextArea::default();
        t.set_placeholder_text("Ask the council…");
        t.set_cursor_line_style(ratatui::style::Style::default());
        Self(t)
    }
}

/// What a key did beyond the chat state.
#[derive(Debug, Default)]
pub struct KeyOutcome {
    pub effects: Vec<Effect>,
    pub quit: bool,
    pub settings: bool,
    pub help: bool,
    /// `y`: copy the focused answer.
    pub copy: bool,
    /// `e`: export the open conversation.
    pub export: bool,
}

impl KeyOutcome {
    fn effects(effects: Vec<Effect>) -> Self {
        Self {
            effects,
            ..Self::default()
        }
    }
}

fn id_of(summary: &ConversationSummary) -> Uuid {
    summary.id
}

impl ChatState {
    pub fn selected_summary(&self) -> Option<&ConversationSummary> {
        self.conversations.get(self.selected)
    }

    /// True when the sidebar is drawn: always on wide terminals, on demand
    /// on narrow ones.
    pub fn sidebar_visible(&self, width: u16) -> bool {
        width >= NARROW_WIDTH
            || self.sidebar_open
            || self.focus == Pane::Sidebar && self.current.is_none()
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(Dialog::Rename { input, .. }) = &mut self.dialog {
            paste_line(input, text);
        } else if let Some(filter) = &mut self.filter {
            paste_line(filter, text);
        } else {
            self.focus = Pane::Input;
            self.input.0.insert_str(text.replace('\r', ""));
        }
    }

    fn open(&mut self, id: Uuid) -> Vec<Effect> {
        self.view = None;
        self.scroll = 0;
        self.focus = Pane::Input;
        self.sidebar_open = false;
        if self.current.as_ref().is_some_and(|c| c.id == id) {
            return vec![];
        }
        self.loading = true;
        vec![Effect::LoadConversation(id)]
    }

    fn cycle_focus(&mut self, forward: bool, width: u16) {
        let order = [Pane::Sidebar, Pane::Messages, Pane::Input];
        let at = order.iter().position(|p| *p == self.focus).unwrap_or(0);
        let step = if forward { 1 } else { order.len() - 1 };
        self.focus = order[(at + step) % order.len()];
        if width < NARROW_WIDTH {
            self.sidebar_open = self.focus == Pane::Sidebar;
        }
    }

    fn assistant_indices(&self) -> Vec<usize> {
        self.current
            .as_ref()
            .map(|c| {
                c.messages
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| matches!(m, Message::Assistant(_)))
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Handles a key on the chat screen.
    pub fn on_key(&mut self, key: KeyEvent, width: u16, now: Instant) -> KeyOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.dialog.is_some() {
            return KeyOutcome::effects(self.dialog_key(key));
        }
        if ctrl && key.code == KeyCode::Char('c') {
            if let Some(run) = &self.run {
                self.dialog = Some(Dialog::StopRun {
                    id: run.conversation,
                });
                return KeyOutcome::default();
            }
            return KeyOutcome {
                quit: true,
                effects: vec![Effect::Quit],
                ..KeyOutcome::default()
            };
        }
        if self.filter.is_some() {
            return KeyOutcome::effects(self.filter_key(key));
        }
        if self.view.is_some() && self.focus == Pane::Messages && self.view_key(key) {
            return KeyOutcome::default();
        }
        match self.focus {
            Pane::Input => self.input_key(key, width, now),
            Pane::Sidebar => self.sidebar_key(key, width),
            Pane::Messages => self.messages_key(key, width),
        }
    }

    /// Keys every pane but the input shares.
    fn common_key(&mut self, key: KeyEvent, width: u16) -> Option<KeyOutcome> {
        match key.code {
            KeyCode::Tab => self.cycle_focus(true, width),
            KeyCode::BackTab => self.cycle_focus(false, width),
            _ if is_char(&key, '?') => {
                return Some(KeyOutcome {
                    help: true,
                    ..KeyOutcome::default()
                });
            }
            _ if is_char(&key, 's') => {
                return Some(KeyOutcome {
                    settings: true,
                    ..KeyOutcome::default()
                });
            }
            _ if is_char(&key, 'q') => {
                return Some(KeyOutcome {
                    quit: true,
                    effects: vec![Effect::Quit],
                    ..KeyOutcome::default()
                });
            }
            _ if is_char(&key, 'b') && width < NARROW_WIDTH => {
                self.sidebar_open = !self.sidebar_open;
                self.focus = if self.sidebar_open {
                    Pane::Sidebar
                } else {
                    Pane::Messages
                };
            }
            _ if is_char(&key, 'i') => self.focus = Pane::Input,
            _ => return None,
        }
        Some(KeyOutcome::default())
    }

    fn input_key(&mut self, key: KeyEvent, width: u16, now: Instant) -> KeyOutcome {
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Enter if alt || key.modifiers.contains(KeyModifiers::SHIFT) => {
                self.input.0.insert_newline();
                KeyOutcome::default()
            }
            KeyCode::Enter => KeyOutcome::effects(self.send(now)),
            KeyCode::Esc => {
                self.focus = Pane::Messages;
                KeyOutcome::default()
            }
            KeyCode::Tab => {
                self.cycle_focus(true, width);
                KeyOutcome::default()
            }
            KeyCode::BackTab => {
                self.cycle_focus(false, width);
                KeyOutcome::default()
            }
            _ => {
                self.input.0.input(key);
                KeyOutcome::default()
            }
        }
    }

    /// Sends the typed question (making a conversation first if none is open).
    fn send(&mut self, now: Instant) -> Vec<Effect> {
        let text = self.input.0.lines().join("\n");
        if text.trim().is_empty() {
            return vec![];
        }
        if let Err(e) = council_shared::validate::content(&text) {
            self.pending_question = None;
            return self.refuse(e.0);
        }
        let Some(conv) = &self.current else {
            if self.pending_question.is_some() {
                return vec![];
            }
            self.pending_question = Some(text);
            self.input = Input::default();
            return vec![Effect::CreateConversation {
                models: None,
                lead_model: None,
            }];
        };
        if self.run.is_some() {
            return self.refuse(
                "A council is still running here: wait for it, or press Ctrl-C to stop it.".into(),
            );
        }
        let id = conv.id;
        self.input = Input::default();
        self.start_run(id, text, now)
    }

    fn start_run(&mut self, id: Uuid, text: String, now: Instant) -> Vec<Effect> {
        self.run = Some(LiveRun::new(id, text.clone(), now));
        self.scroll = 0;
        self.view = None;
        vec![Effect::Send {
            conversation: id,
            content: text,
        }]
    }

    /// Refusals are shown through a notice; the chat state keeps one in
    /// `refusal` for the app to pick up.
    fn refuse(&mut self, message: String) -> Vec<Effect> {
        self.refusal = Some(message);
        vec![]
    }

    fn sidebar_key(&mut self, key: KeyEvent, width: u16) -> KeyOutcome {
        let last = self.conversations.len().saturating_sub(1);
        match key.code {
            KeyCode::Down => self.selected = (self.selected + 1).min(last),
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = last,
            KeyCode::Enter => {
                if let Some(id) = self.selected_summary().map(id_of) {
                    return KeyOutcome::effects(self.open(id));
                }
            }
            KeyCode::Esc if width < NARROW_WIDTH => {
                self.sidebar_open = false;
                self.focus = Pane::Messages;
            }
            _ if is_char(&key, 'j') => self.selected = (self.selected + 1).min(last),
            _ if is_char(&key, 'k') => self.selected = self.selected.saturating_sub(1),
            _ if is_char(&key, 'g') => self.selected = 0,
            _ if is_char(&key, 'G') => self.selected = last,
            _ if is_char(&key, '/') => {
                let mut filter = single_line(false, "filter…");
                if let Some(q) = &self.query {
                    filter.insert_str(q);
                }
                self.filter = Some(filter);
            }
            _ if is_char(&key, 'n') => return KeyOutcome::effects(self.new_conversation()),
            _ if is_char(&key, 'r') => {
                if let Some(s) = self.selected_summary() {
                    let mut input = single_line(false, "title");
                    input.insert_str(&s.title);
                    self.dialog = Some(Dialog::Rename {
                        id: s.id,
                        input: Box::new(input),
                    });
                }
            }
            _ if is_char(&key, 'd') => {
                if let Some(s) = self.selected_summary() {
                    self.dialog = Some(Dialog::ConfirmDelete {
                        id: s.id,
                        title: s.title.clone(),
                    });
                }
            }
            _ => return self.common_key(key, width).unwrap_or_default(),
        }
        KeyOutcome::default()
    }

    fn new_conversation(&mut self) -> Vec<Effect> {
        match &self.models {
            Some(m) => {
                self.dialog = Some(new_dialog(m));
                vec![]
            }
            None => {
                self.wants_dialog = true;
                vec![Effect::LoadModels]
            }
        }
    }

    fn filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(filter) = &mut self.filter else {
            return vec![];
        };
        match key.code {
            KeyCode::Esc => {
                self.filter = None;
                if self.query.take().is_some() {
                    self.loading = true;
                    return vec![Effect::LoadConversations { query: None }];
                }
                vec![]
            }
            KeyCode::Enter => {
                self.filter = None;
                vec![]
            }
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.conversations.len().saturating_sub(1));
                vec![]
            }
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                vec![]
            }
            _ => {
                edit(filter, key);
                let text = value(filter).trim().to_owned();
                let query = (!text.is_empty()).then_some(text);
                if query == self.query {
                    return vec![];
                }
                self.query = query.clone();
                self.loading = true;
                vec![Effect::LoadConversations { query }]
            }
        }
    }

    fn messages_key(&mut self, key: KeyEvent, width: u16) -> KeyOutcome {
        let assistants = self.assistant_indices();
        let at = self
            .selected_message
            .and_then(|m| assistants.iter().position(|i| *i == m))
            .unwrap_or(assistants.len().saturating_sub(1));
        match key.code {
            KeyCode::Up => self.select_message(&assistants, at.checked_sub(1)),
            KeyCode::Down => self.select_message(&assistants, Some(at + 1)),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Home => self.scroll = usize::MAX / 2,
            KeyCode::End => self.scroll = 0,
            KeyCode::Enter => {
                if let Some(message) = self.selected_message.or(assistants.last().copied()) {
                    self.view = Some(StageView {
                        message,
                        stage: 1,
                        tab: 0,
                    });
                    self.scroll = usize::MAX / 2;
                }
            }
            KeyCode::Esc => self.focus = Pane::Input,
            _ if is_char(&key, 'k') => self.select_message(&assistants, at.checked_sub(1)),
            _ if is_char(&key, 'j') => self.select_message(&assistants, Some(at + 1)),
            _ if is_char(&key, 'g') => self.scroll = usize::MAX / 2,
            _ if is_char(&key, 'G') => self.scroll = 0,
            _ if is_char(&key, 'y') => {
                return KeyOutcome {
                    copy: true,
                    ..KeyOutcome::default()
                };
            }
            _ if is_char(&key, 'e') => {
                return KeyOutcome {
                    export: true,
                    ..KeyOutcome::default()
                };
            }
            _ => return self.common_key(key, width).unwrap_or_default(),
        }
        KeyOutcome::default()
    }

    /// What `y` copies, named for the notice: in the stage 1 view the
    /// answer of the model whose tab is shown (that is what the user reads),
    /// elsewhere the final answer of the picked (else the last) council
    /// message. Err says why there is nothing to copy.
    pub fn focused_answer(&self) -> Result<(String, String), String> {
        let Some(conversation) = &self.current else {
            return Err("Open a conversation first.".into());
        };
        let index = self
            .view
            .map(|v| v.message)
            .or(self.selected_message)
            .or_else(|| self.assistant_indices().last().copied());
        let Some(Message::Assistant(a)) = index.and_then(|i| conversation.messages.get(i)) else {
            return Err("No answer to copy yet.".into());
        };
        if let Some(view) = self.view.filter(|v| v.stage == 1)
            && let Some(r) = a.stage1.get(view.tab)
        {
            let name = r
                .model
                .rsplit_once('/')
                .map_or(r.model.as_str(), |(_, n)| n);
            return Ok((format!("{name}'s answer"), r.response.clone()));
        }
        match crate::export::final_answer(a) {
            Some(text) => Ok(("answer".into(), text.to_owned())),
            None if a.status == RunStatus::Running => {
                Err("The council is still working on this answer.".into())
            }
            None => Err("This council has no final answer to copy.".into()),
        }
    }

    fn select_message(&mut self, assistants: &[usize], index: Option<usize>) {
        if let Some(i) = index.and_then(|i| assistants.get(i)) {
            self.selected_message = Some(*i);
            self.scroll = 0;
        }
    }

    /// Keys of the expanded stage view; false when the key is not its own.
    fn view_key(&mut self, key: KeyEvent) -> bool {
        let Some(view) = &mut self.view else {
            return false;
        };
        let tabs = self
            .current
            .as_ref()
            .and_then(|c| c.messages.get(view.message))
            .map(|m| match m {
                Message::Assistant(a) if view.stage == 1 => a.stage1.len(),
                Message::Assistant(a) => a.stage2.len() + 1,
                Message::User(_) => 0,
            })
            .unwrap_or(0)
            .max(1);
        match key.code {
            KeyCode::Esc => {
                self.view = None;
                self.scroll = 0;
            }
            KeyCode::Left => view.tab = (view.tab + tabs - 1) % tabs,
            KeyCode::Right => view.tab = (view.tab + 1) % tabs,
            KeyCode::Tab | KeyCode::BackTab => {
                view.stage = if view.stage == 1 { 2 } else { 1 };
                view.tab = 0;
                self.scroll = usize::MAX / 2;
            }
            KeyCode::Char(c @ '1'..='9') => {
                let n = usize::from(c as u8 - b'1');
                if n < tabs {
                    view.tab = n;
                }
            }
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(10),
            _ if is_char(&key, 'h') => view.tab = (view.tab + tabs - 1) % tabs,
            _ if is_char(&key, 'l') => view.tab = (view.tab + 1) % tabs,
            _ => return false,
        }
        true
    }

    fn dialog_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(dialog) = &mut self.dialog else {
            return vec![];
        };
        match dialog {
            Dialog::ConfirmDelete { id, .. } => {
                let id = *id;
                self.dialog = None;
                if is_char(&key, 'y') || is_char(&key, 'Y') {
                    return vec![Effect::Delete(id)];
                }
                vec![]
            }
            Dialog::StopRun { id } => {
                let id = *id;
                if is_char(&key, 'y') || is_char(&key, 'Y') {
                    self.dialog = None;
                    if let Some(run) = &mut self.run {
                        run.stopping = true;
                    }
                    return vec![Effect::Cancel(id)];
                }
                if is_char(&key, 'q')
                    || key.code == KeyCode::Char('c')
                        && key.modifiers.contains(KeyModifiers::CONTROL)
                {
                    self.dialog = None;
                    return vec![Effect::Quit];
                }
                if key.code == KeyCode::Esc || is_char(&key, 'n') {
                    self.dialog = None;
                }
                vec![]
            }
            Dialog::Rename { id, input } => match key.code {
                KeyCode::Esc => {
                    self.dialog = None;
                    vec![]
                }
                KeyCode::Enter => {
                    let title = value(input).trim().to_owned();
                    match council_shared::validate::title(&title) {
                        Ok(title) => {
                            let id = *id;
                            self.dialog = None;
                            vec![Effect::Rename { id, title }]
                        }
                        Err(e) => self.refuse(e.0),
                    }
                }
                _ => {
                    edit(input, key);
                    vec![]
                }
            },
            Dialog::NewConversation {
                models,
                chosen,
                lead,
                cursor,
                error,
            } => {
                let last = models.len().saturating_sub(1);
                match key.code {
                    KeyCode::Esc => self.dialog = None,
                    KeyCode::Down => *cursor = (*cursor + 1).min(last),
                    KeyCode::Up => *cursor = cursor.saturating_sub(1),
                    KeyCode::Char(' ') => {
                        if let Some(c) = chosen.get_mut(*cursor) {
                            *c = !*c;
                        }
                        *error = None;
                    }
                    KeyCode::Enter => {
                        let council: Vec<String> = models
                            .iter()
                            .zip(chosen.iter())
                            .filter(|(_, c)| **c)
                            .map(|(m, _)| m.clone())
                            .collect();
                        match council_shared::validate::council_models(&council) {
                            Ok(council) => {
                                let lead_model = models.get(*lead).cloned();
                                self.dialog = None;
                                return vec![Effect::CreateConversation {
                                    models: Some(council),
                                    lead_model,
                                }];
                            }
                            Err(e) => *error = Some(e.0),
                        }
                    }
                    _ if is_char(&key, 'j') => *cursor = (*cursor + 1).min(last),
                    _ if is_char(&key, 'k') => *cursor = cursor.saturating_sub(1),
                    _ if is_char(&key, 'l') => *lead = *cursor,
                    _ => {}
                }
                vec![]
            }
        }
    }

    /// A request result or a council event; returns effects and a notice.
    pub fn on_event(&mut self, event: Event, now: Instant) -> (Vec<Effect>, Option<Notice>) {
        let _ = now;
        match event {
            Event::ConversationsLoaded { query, list } => {
                if query == self.query {
                    let keep = self.selected_summary().map(id_of);
                    self.conversations = list;
                    self.selected = keep
                        .and_then(|id| self.conversations.iter().position(|c| c.id == id))
                        .unwrap_or(0)
                        .min(self.conversations.len().saturating_sub(1));
                    self.loading = false;
                }
                (vec![], None)
            }
            Event::ConversationLoaded(conv) => {
                self.loading = false;
                let still_running = self.run.as_ref().is_none_or(|r| r.conversation != conv.id)
                    && conv.messages.last().is_some_and(
                        |m| matches!(m, Message::Assistant(a) if a.status == RunStatus::Running),
                    );
                let id = conv.id;
                let same = self.current.as_ref().is_some_and(|c| c.id == conv.id);
                if !same {
                    self.scroll = 0;
                    self.view = None;
                }
                self.current = Some(*conv);
                self.selected_message = self.assistant_indices().last().copied();
                if let Some(pos) = self.conversations.iter().position(|c| c.id == id)
                    && let Some(c) = &self.current
                {
                    self.conversations[pos] = c.summary();
                }
                let effects = if still_running {
                    vec![Effect::ReloadConversationSoon(id)]
                } else {
                    vec![]
                };
                let notice = still_running.then(|| Notice {
                    text: "A council is still running in this conversation on the server…".into(),
                    error: false,
                });
                (effects, notice)
            }
            Event::ModelsLoaded(models) => {
                if self.wants_dialog {
                    self.wants_dialog = false;
                    self.dialog = Some(new_dialog(&models));
                }
                self.models = Some(models);
                (vec![], None)
            }
            Event::Created(conv) => {
                let summary = conv.summary();
                self.conversations.insert(0, summary);
                self.selected = 0;
                self.current = Some(*conv);
                self.scroll = 0;
                self.view = None;
                self.focus = Pane::Input;
                self.sidebar_open = false;
                let effects = match (self.pending_question.take(), &self.current) {
                    (Some(q), Some(c)) => {
                        let id = c.id;
                        self.start_run(id, q, now)
                    }
                    _ => vec![],
                };
                (effects, None)
            }
            Event::Renamed(summary) => {
                if let Some(c) = self.conversations.iter_mut().find(|c| c.id == summary.id) {
                    *c = summary.clone();
                }
                if let Some(c) = self.current.as_mut().filter(|c| c.id == summary.id) {
                    c.title = summary.title;
                }
                (vec![], None)
            }
            Event::Deleted(id) => {
                self.conversations.retain(|c| c.id != id);
                self.selected = self
                    .selected
                    .min(self.conversations.len().saturating_sub(1));
                if self.current.as_ref().is_some_and(|c| c.id == id) {
                    self.current = None;
                    self.view = None;
                    self.focus = Pane::Sidebar;
                }
                (
                    vec![],
                    Some(Notice {
                        text: "Conversation deleted.".into(),
                        error: false,
                    }),
                )
            }
            Event::Council {
                conversation,
                event,
                at,
            } => self.council_event(conversation, *event, at),
            Event::CouncilFailed {
                conversation,
                error,
            } => {
                if self
                    .run
                    .as_ref()
                    .is_some_and(|r| r.conversation == conversation)
                {
                    self.run = None;
                }
                let text = if error.status == Some(409) {
                    "A council is already running in this conversation.".to_owned()
                } else {
                    error.message
                };
                (
                    self.refresh(conversation),
                    Some(Notice { text, error: true }),
                )
            }
            Event::Cancelled(_) => (
                vec![],
                Some(Notice {
                    text: "Stopping the council…".into(),
                    error: false,
                }),
            ),
            _ => (vec![], None),
        }
    }

    /// Reload what a finished run changed.
    fn refresh(&mut self, conversation: Uuid) -> Vec<Effect> {
        vec![
            Effect::LoadConversation(conversation),
            Effect::LoadConversations {
                query: self.query.clone(),
            },
        ]
    }

    fn council_event(
        &mut self,
        conversation: Uuid,
        event: CouncilEvent,
        at: Instant,
    ) -> (Vec<Effect>, Option<Notice>) {
        if let CouncilEvent::TitleComplete { data } = &event {
            if let Some(c) = self.conversations.iter_mut().find(|c| c.id == conversation) {
                c.title = data.title.clone();
            }
            if let Some(c) = self.current.as_mut().filter(|c| c.id == conversation) {
                c.title = data.title.clone();
            }
            return (vec![], None);
        }
        let Some(run) = self.run.as_mut().filter(|r| r.conversation == conversation) else {
            return (vec![], None);
        };
        match event {
            CouncilEvent::Stage1Start { models } => {
                run.models = models
                    .into_iter()
                    .map(|model| ModelProgress {
                        model,
                        state: ModelState::Waiting,
                        finished: None,
                        chars: 0,
                    })
                    .collect();
            }
            CouncilEvent::Stage1Delta { model, delta } => {
                if let Some(m) = run.model(&model) {
                    m.state = ModelState::Streaming;
                    m.chars += delta.len();
                }
            }
            CouncilEvent::Stage1ModelComplete { model, .. } => {
                if let Some(m) = run.model(&model) {
                    m.state = ModelState::Done;
                    m.finished = Some(at);
                }
            }
            CouncilEvent::Stage1ModelError { model, error } => {
                if let Some(m) = run.model(&model) {
                    m.state = ModelState::Failed(error);
                    m.finished = Some(at);
                }
            }
            CouncilEvent::Stage1Complete { .. } => run.stage = 2,
            CouncilEvent::Stage2Start => {
                run.stage = 2;
                run.stage2_total = run
                    .models
                    .iter()
                    .filter(|m| m.state == ModelState::Done)
                    .count();
            }
            CouncilEvent::Stage2ModelComplete { .. } => run.stage2_done += 1,
            CouncilEvent::Stage2Complete { .. } => run.stage = 3,
            CouncilEvent::Stage3Start { model } => {
                run.stage = 3;
                run.lead = Some(model);
            }
            CouncilEvent::Stage3Delta { delta } => run.answer.push_str(&delta),
            CouncilEvent::Complete { message } => {
                self.run = None;
                let notice = (message.status == RunStatus::Partial).then(|| Notice {
                    text: "Done, but some models failed: expand the answer (Enter) to see which."
                        .into(),
                    error: false,
                });
                return (self.refresh(conversation), notice);
            }
            CouncilEvent::Error { message } => {
                self.run = None;
                return (
                    self.refresh(conversation),
                    Some(Notice {
                        text: message,
                        error: true,
                    }),
                );
            }
            _ => {}
        }
        (vec![], None)
    }

    /// A request of the chat screen failed.
    pub fn on_failure(&mut self, what: &Request, _error: &Failure) -> Vec<Effect> {
        self.loading = false;
        if *what == Request::Create {
            // Give the question back rather than losing it.
            if let Some(q) = self.pending_question.take() {
                self.input = Input::default();
                self.input.0.insert_str(q);
            }
        }
        if *what == Request::Models {
            self.wants_dialog = false;
        }
        vec![]
    }
}

fn new_dialog(m: &ModelsResponse) -> Dialog {
    let mut models = m.models.clone();
    for extra in m
        .default_models
        .iter()
        .chain(std::iter::once(&m.default_lead_model))
    {
        if !models.contains(extra) {
            models.push(extra.clone());
        }
    }
    let chosen = models
        .iter()
        .map(|x| m.default_models.contains(x))
        .collect();
    let lead = models
        .iter()
        .position(|x| *x == m.default_lead_model)
        .unwrap_or(0);
    Dialog::NewConversation {
        models,
        chosen,
        lead,
        cursor: 0,
        error: None,
    }
}
