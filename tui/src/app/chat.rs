//! The chat screen: the sidebar of conversations, the open conversation
//! with a council running live, the input box and the dialogs.

use std::time::{Duration, Instant};

use council_shared::{Conversation, ConversationSummary, CouncilEvent, Message, ModelsResponse};
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use uuid::Uuid;

use super::auth::{edit, paste_line, single_line, value};
use super::progress::{Milestone, RunProgress};
use super::{Effect, Event, Failure, Go, Outcome, Request};
use crate::keymap::{self, Action, Scope};

/// From this width on the sidebar is always shown beside the conversation.
pub const WIDE: u16 = 100;
/// Below this width the sidebar is never drawn beside anything: it hides,
/// and `b` (or Tab) shows it over the whole width.
pub const NARROW: u16 = 80;

/// How long the filter waits after the last key before it searches.
pub const SEARCH_DELAY: Duration = Duration::from_millis(200);
/// Shorter filters match almost everything: they search nothing.
pub const SEARCH_MIN_CHARS: usize = 2;

/// The focused pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    Sidebar,
    Messages,
    /// Where typing goes: the focus a person expects on an empty screen.
    #[default]
    Input,
}

/// How the sidebar is drawn at a width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidebarMode {
    /// Beside the conversation, this many columns wide.
    Column(u16),
    /// Over the whole width (narrow terminals, on request).
    Overlay,
    Hidden,
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
        error: Option<String>,
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

impl Dialog {
    /// The keymap's scope for the dialog.
    pub fn scope(&self) -> Scope {
        match self {
            Self::NewConversation { .. } => Scope::NewConversation,
            Self::Rename { .. } => Scope::Rename,
            Self::ConfirmDelete { .. } | Self::StopRun { .. } => Scope::Confirm,
        }
    }
}

/// A council running in the open conversation, followed live.
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub conversation: Uuid,
    pub question: String,
    pub progress: RunProgress,
    pub stopping: bool,
}

/// A search typed in the filter, sent once typing pauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSearch {
    pub query: Option<String>,
    pub due: Instant,
}

/// What a key handler of the chat needs to know besides the state.
#[derive(Debug, Clone, Copy)]
pub struct KeyContext {
    pub width: u16,
    pub now: Instant,
    /// The local date, for export file names.
    pub today: chrono::NaiveDate,
}

/// The chat screen's state.
#[derive(Debug, Default)]
pub struct ChatState {
    pub conversations: Vec<ConversationSummary>,
    pub selected: usize,
    /// The filter being typed, while filtering.
    pub filter: Option<TextArea<'static>>,
    /// The query the list reflects (or will, once loaded).
    pub query: Option<String>,
    /// A query typed but not sent yet (see [`SEARCH_DELAY`]).
    pub pending_search: Option<PendingSearch>,
    pub focus: Pane,
    /// Below [`WIDE`]: the sidebar asked for with `b` or Tab.
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

impl Input {
    fn text(&self) -> String {
        self.0.lines().join("\n")
    }
}

fn id_of(summary: &ConversationSummary) -> Uuid {
    summary.id
}

/// The sidebar's width beside a conversation at `width` columns.
fn column_width(width: u16) -> u16 {
    if width >= WIDE { 32 } else { 26 }
}

impl ChatState {
    pub fn selected_summary(&self) -> Option<&ConversationSummary> {
        self.conversations.get(self.selected)
    }

    /// How the sidebar is drawn at `width`: always beside the conversation
    /// on wide terminals; from [`NARROW`] on, beside it while no
    /// conversation is open or when asked for; below, over everything when
    /// asked for.
    pub fn sidebar(&self, width: u16) -> SidebarMode {
        let asked = self.sidebar_open;
        if width >= WIDE || width >= NARROW && (asked || self.current.is_none()) {
            SidebarMode::Column(column_width(width))
        } else if asked {
            SidebarMode::Overlay
        } else {
            SidebarMode::Hidden
        }
    }

    /// The keymap scopes of the focused place, most specific first.
    pub fn scopes(&self) -> Vec<Scope> {
        if let Some(d) = &self.dialog {
            return vec![d.scope()];
        }
        if self.filter.is_some() {
            return vec![Scope::Filter];
        }
        match self.focus {
            Pane::Input => vec![Scope::Input],
            Pane::Sidebar => vec![Scope::Sidebar, Scope::Chat],
            Pane::Messages if self.view.is_some() => {
                vec![Scope::Stages, Scope::Messages, Scope::Chat]
            }
            Pane::Messages => vec![Scope::Messages, Scope::Chat],
        }
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

    fn open(&mut self, id: Uuid) -> Outcome {
        self.view = None;
        self.scroll = 0;
        self.focus = Pane::Input;
        self.sidebar_open = false;
        if self.current.as_ref().is_some_and(|c| c.id == id) {
            return Outcome::default();
        }
        self.loading = true;
        Outcome::effect(Effect::LoadConversation(id))
    }

    fn cycle_focus(&mut self, forward: bool, width: u16) {
        let order = [Pane::Sidebar, Pane::Messages, Pane::Input];
        let at = order.iter().position(|p| *p == self.focus).unwrap_or(0);
        let step = if forward { 1 } else { order.len() - 1 };
        self.focus = order[(at + step) % order.len()];
        if width < WIDE {
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
    pub fn on_key(&mut self, key: KeyEvent, at: &KeyContext) -> Outcome {
        let (width, now) = (at.width, at.now);
        if self.dialog.is_some() {
            return self.dialog_key(&key);
        }
        if keymap::action(&[Scope::Anywhere], &key) == Some(Action::Interrupt) {
            if let Some(run) = &self.run {
                self.dialog = Some(Dialog::StopRun {
                    id: run.conversation,
                });
                return Outcome::default();
            }
            return Outcome::effect(Effect::Quit);
        }
        if self.filter.is_some() {
            return self.filter_key(key, now);
        }
        let scopes = self.scopes();
        let Some(action) = keymap::action(&scopes, &key) else {
            // Not a command here: text for the input box. A printable key
            // moves the focus there, so typing a question always works.
            if self.focus == Pane::Input || keymap::is_printable(&key) {
                self.focus = Pane::Input;
                self.sidebar_open = false;
                self.input.0.input(key);
            }
            return Outcome::default();
        };
        if self.view.is_some()
            && self.focus == Pane::Messages
            && let Some(done) = self.view_action(action)
        {
            return done;
        }
        match self.focus {
            Pane::Input => self.input_action(action, width, now),
            Pane::Sidebar => self.sidebar_action(action, width),
            Pane::Messages => self.messages_action(action, width, at.today),
        }
    }

    /// Actions of the chat outside the input box.
    fn chat_action(&mut self, action: Action, width: u16) -> Outcome {
        match action {
            Action::FocusNext => self.cycle_focus(true, width),
            Action::FocusPrev => self.cycle_focus(false, width),
            Action::Help => return Outcome::go(Go::Help),
            Action::Settings => return Outcome::go(Go::Settings),
            Action::Quit => return Outcome::effect(Effect::Quit),
            Action::ToggleSidebar => {
                self.sidebar_open = !self.sidebar_open;
                self.focus = if self.sidebar_open {
                    Pane::Sidebar
                } else {
                    Pane::Input
                };
            }
            _ => {}
        }
        Outcome::default()
    }

    fn input_action(&mut self, action: Action, width: u16, now: Instant) -> Outcome {
        match action {
            Action::Newline => self.input.0.insert_newline(),
            Action::Send => return self.send(now),
            Action::Back => self.focus = Pane::Messages,
            Action::FocusNext => self.cycle_focus(true, width),
            Action::FocusPrev => self.cycle_focus(false, width),
            _ => {}
        }
        Outcome::default()
    }

    /// Sends the typed question (making a conversation first if none is open).
    fn send(&mut self, now: Instant) -> Outcome {
        let text = self.input.text();
        if text.trim().is_empty() {
            return Outcome::default();
        }
        if let Err(e) = council_shared::validate::content(&text) {
            self.pending_question = None;
            return Outcome::warn(e.0);
        }
        let Some(conv) = &self.current else {
            if self.pending_question.is_some() {
                return Outcome::default();
            }
            self.pending_question = Some(text);
            self.input = Input::default();
            return Outcome::effect(Effect::CreateConversation {
                models: None,
                lead_model: None,
            });
        };
        if self.run.is_some() {
            return Outcome::warn(
                "A council is still running here: wait for it, or press Ctrl-C to stop it.",
            );
        }
        let id = conv.id;
        self.input = Input::default();
        self.start_run(id, text, now)
    }

    fn start_run(&mut self, id: Uuid, text: String, now: Instant) -> Outcome {
        self.run = Some(LiveRun {
            conversation: id,
            question: text.clone(),
            progress: RunProgress::new(now),
            stopping: false,
        });
        self.scroll = 0;
        self.view = None;
        Outcome::effect(Effect::Send {
            conversation: id,
            content: text,
        })
    }

    fn sidebar_action(&mut self, action: Action, width: u16) -> Outcome {
        let last = self.conversations.len().saturating_sub(1);
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open => {
                if let Some(id) = self.selected_summary().map(id_of) {
                    return self.open(id);
                }
            }
            Action::Back => {
                self.sidebar_open = false;
                self.focus = Pane::Input;
            }
            Action::Filter => {
                let mut filter = single_line(false, "search…");
                if let Some(q) = &self.query {
                    filter.insert_str(q);
                }
                self.filter = Some(filter);
            }
            Action::New => return self.new_conversation(),
            Action::Rename => {
                if let Some(s) = self.selected_summary() {
                    let mut input = single_line(false, "title");
                    input.insert_str(&s.title);
                    self.dialog = Some(Dialog::Rename {
                        id: s.id,
                        input: Box::new(input),
                        error: None,
                    });
                }
            }
            Action::Delete => {
                if let Some(s) = self.selected_summary() {
                    self.dialog = Some(Dialog::ConfirmDelete {
                        id: s.id,
                        title: s.title.clone(),
                    });
                }
            }
            other => return self.chat_action(other, width),
        }
        Outcome::default()
    }

    fn new_conversation(&mut self) -> Outcome {
        match &self.models {
            Some(m) => {
                self.dialog = Some(new_dialog(m));
                Outcome::default()
            }
            None => {
                self.wants_dialog = true;
                Outcome::effect(Effect::LoadModels)
            }
        }
    }

    fn filter_key(&mut self, key: KeyEvent, now: Instant) -> Outcome {
        let action = keymap::action(&[Scope::Filter], &key);
        let Some(filter) = &mut self.filter else {
            return Outcome::default();
        };
        match action {
            Some(Action::Back) => {
                self.filter = None;
                self.pending_search = None;
                if self.query.take().is_some() {
                    self.loading = true;
                    return Outcome::effect(Effect::LoadConversations { query: None });
                }
            }
            Some(Action::Keep) => {
                self.filter = None;
                // Enter does not wait for the pause.
                if let Some(p) = self.pending_search.take() {
                    return self.search(p.query);
                }
            }
            Some(Action::Down) => {
                self.selected = (self.selected + 1).min(self.conversations.len().saturating_sub(1));
            }
            Some(Action::Up) => self.selected = self.selected.saturating_sub(1),
            _ => {
                edit(filter, key);
                let text = value(filter).trim().to_owned();
                let query = (text.chars().count() >= SEARCH_MIN_CHARS).then_some(text);
                if query == self.query {
                    self.pending_search = None;
                } else {
                    self.pending_search = Some(PendingSearch {
                        query,
                        due: now + SEARCH_DELAY,
                    });
                }
            }
        }
        Outcome::default()
    }

    fn search(&mut self, query: Option<String>) -> Outcome {
        if query == self.query {
            return Outcome::default();
        }
        self.query = query.clone();
        self.loading = true;
        Outcome::effect(Effect::LoadConversations { query })
    }

    /// Time passes: a search whose pause is over goes out.
    pub fn on_tick(&mut self, now: Instant) -> Outcome {
        match &self.pending_search {
            Some(p) if p.due <= now => {
                let query = p.query.clone();
                self.pending_search = None;
                self.search(query)
            }
            _ => Outcome::default(),
        }
    }

    /// `e`: the open conversation as Markdown to a new file named after its
    /// title and `today`'s date.
    fn export(&self, today: chrono::NaiveDate) -> Outcome {
        let Some(conversation) = &self.current else {
            return Outcome::warn("Open a conversation to export it.");
        };
        Outcome::effect(Effect::Export {
            file_name: crate::export::file_name(
                &conversation.title,
                today,
                crate::export::Format::Markdown,
            ),
            contents: crate::export::markdown(conversation),
        })
    }

    fn messages_action(&mut self, action: Action, width: u16, today: chrono::NaiveDate) -> Outcome {
        let assistants = self.assistant_indices();
        let at = self
            .selected_message
            .and_then(|m| assistants.iter().position(|i| *i == m))
            .unwrap_or(assistants.len().saturating_sub(1));
        match action {
            Action::Up => self.select_message(&assistants, at.checked_sub(1)),
            Action::Down => self.select_message(&assistants, Some(at + 1)),
            Action::PageUp => self.scroll = self.scroll.saturating_add(10),
            Action::PageDown => self.scroll = self.scroll.saturating_sub(10),
            Action::Top => self.scroll = usize::MAX / 2,
            Action::Bottom => self.scroll = 0,
            Action::Open => {
                if let Some(message) = self.selected_message.or(assistants.last().copied()) {
                    self.view = Some(StageView {
                        message,
                        stage: 1,
                        tab: 0,
                    });
                    self.scroll = usize::MAX / 2;
                }
            }
            Action::Back => self.focus = Pane::Input,
            Action::Copy => {
                return match self.focused_answer() {
                    Ok((what, text)) => Outcome::effect(Effect::Copy { what, text }),
                    Err(why) => Outcome::warn(why),
                };
            }
            Action::Export => return self.export(today),
            other => return self.chat_action(other, width),
        }
        Outcome::default()
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
            None if a.status == council_shared::RunStatus::Running => {
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

    /// Actions of the expanded stage view; `None` when the action is not
    /// its own (then the conversation's apply).
    fn view_action(&mut self, action: Action) -> Option<Outcome> {
        let view = self.view.as_mut()?;
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
        match action {
            Action::Back => {
                self.view = None;
                self.scroll = 0;
            }
            Action::PrevTab => view.tab = (view.tab + tabs - 1) % tabs,
            Action::NextTab => view.tab = (view.tab + 1) % tabs,
            Action::SwitchStage => {
                view.stage = if view.stage == 1 { 2 } else { 1 };
                view.tab = 0;
                self.scroll = usize::MAX / 2;
            }
            Action::Tab(n) => {
                let n = usize::from(n);
                if n < tabs {
                    view.tab = n;
                }
            }
            Action::PageUp => self.scroll = self.scroll.saturating_add(10),
            Action::PageDown => self.scroll = self.scroll.saturating_sub(10),
            _ => return None,
        }
        Some(Outcome::default())
    }

    fn dialog_key(&mut self, key: &KeyEvent) -> Outcome {
        let Some(dialog) = &mut self.dialog else {
            return Outcome::default();
        };
        let action = keymap::action(&[dialog.scope()], key);
        match dialog {
            Dialog::ConfirmDelete { id, .. } => {
                let id = *id;
                self.dialog = None;
                if action == Some(Action::Yes) {
                    return Outcome::effect(Effect::Delete(id));
                }
            }
            Dialog::StopRun { id } => {
                let id = *id;
                let interrupt = keymap::action(&[Scope::Anywhere], key) == Some(Action::Interrupt);
                match action {
                    Some(Action::Yes) => {
                        self.dialog = None;
                        if let Some(run) = &mut self.run {
                            run.stopping = true;
                        }
                        return Outcome::effect(Effect::Cancel(id));
                    }
                    Some(Action::Quit) => return Outcome::effect(Effect::Quit),
                    _ if interrupt => return Outcome::effect(Effect::Quit),
                    Some(Action::No) => self.dialog = None,
                    _ => {}
                }
            }
            Dialog::Rename { id, input, error } => match action {
                Some(Action::Back) => self.dialog = None,
                Some(Action::Submit) => {
                    let title = value(input).trim().to_owned();
                    match council_shared::validate::title(&title) {
                        Ok(title) => {
                            let id = *id;
                            self.dialog = None;
                            return Outcome::effect(Effect::Rename { id, title });
                        }
                        Err(e) => *error = Some(e.0),
                    }
                }
                _ => {
                    edit(input, *key);
                    *error = None;
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
                match action {
                    Some(Action::Back) => self.dialog = None,
                    Some(Action::Down) => *cursor = (*cursor + 1).min(last),
                    Some(Action::Up) => *cursor = cursor.saturating_sub(1),
                    Some(Action::Toggle) => {
                        if let Some(c) = chosen.get_mut(*cursor) {
                            *c = !*c;
                        }
                        *error = None;
                    }
                    Some(Action::Lead) => *lead = *cursor,
                    Some(Action::Submit) => {
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
                                return Outcome::effect(Effect::CreateConversation {
                                    models: Some(council),
                                    lead_model,
                                });
                            }
                            Err(e) => *error = Some(e.0),
                        }
                    }
                    _ => {}
                }
            }
        }
        Outcome::default()
    }

    /// A request result or a council event.
    pub fn on_event(&mut self, event: Event, now: Instant) -> Outcome {
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
                Outcome::default()
            }
            Event::ConversationLoaded(conv) => self.loaded(*conv),
            Event::ModelsLoaded(models) => {
                if self.wants_dialog {
                    self.wants_dialog = false;
                    self.dialog = Some(new_dialog(&models));
                }
                self.models = Some(models);
                Outcome::default()
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
                match (self.pending_question.take(), &self.current) {
                    (Some(q), Some(c)) => {
                        let id = c.id;
                        self.start_run(id, q, now)
                    }
                    _ => Outcome::default(),
                }
            }
            Event::Renamed(summary) => {
                if let Some(c) = self.conversations.iter_mut().find(|c| c.id == summary.id) {
                    *c = summary.clone();
                }
                if let Some(c) = self.current.as_mut().filter(|c| c.id == summary.id) {
                    c.title = summary.title;
                }
                Outcome::default()
            }
            Event::Deleted(id) => {
                self.conversations.retain(|c| c.id != id);
                self.selected = self
                    .selected
                    .min(self.conversations.len().saturating_sub(1));
                if self.current.as_ref().is_some_and(|c| c.id == id) {
                    self.current = None;
                    self.view = None;
                    self.focus = Pane::Input;
                }
                Outcome::notice("Conversation deleted.")
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
                Outcome {
                    effects: self.refresh(conversation),
                    ..Outcome::warn(text)
                }
            }
            Event::Cancelled(_) => Outcome::notice("Stopping the council…"),
            _ => Outcome::default(),
        }
    }

    fn loaded(&mut self, conv: Conversation) -> Outcome {
        self.loading = false;
        let still_running = self.run.as_ref().is_none_or(|r| r.conversation != conv.id)
            && conv.messages.last().is_some_and(|m| {
                matches!(m, Message::Assistant(a) if a.status == council_shared::RunStatus::Running)
            });
        let id = conv.id;
        let same = self.current.as_ref().is_some_and(|c| c.id == conv.id);
        if !same {
            self.scroll = 0;
            self.view = None;
        }
        self.current = Some(conv);
        self.selected_message = self.assistant_indices().last().copied();
        if let Some(pos) = self.conversations.iter().position(|c| c.id == id)
            && let Some(c) = &self.current
        {
            self.conversations[pos] = c.summary();
        }
        if still_running {
            Outcome {
                effects: vec![Effect::ReloadConversationSoon(id)],
                ..Outcome::notice("A council is still running in this conversation on the server…")
            }
        } else {
            Outcome::default()
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

    fn council_event(&mut self, conversation: Uuid, event: CouncilEvent, at: Instant) -> Outcome {
        if let CouncilEvent::TitleComplete { data } = &event {
            if let Some(c) = self.conversations.iter_mut().find(|c| c.id == conversation) {
                c.title = data.title.clone();
            }
            if let Some(c) = self.current.as_mut().filter(|c| c.id == conversation) {
                c.title = data.title.clone();
            }
            return Outcome::default();
        }
        let Some(run) = self.run.as_mut().filter(|r| r.conversation == conversation) else {
            return Outcome::default();
        };
        match run.progress.apply(event, at) {
            Some(Milestone::Finished { status, .. }) => {
                // The stored message (usage included) comes with the reload.
                self.run = None;
                let effects = self.refresh(conversation);
                if status == council_shared::RunStatus::Partial {
                    return Outcome {
                        effects,
                        ..Outcome::notice(
                            "Done, but some models failed: expand the answer (Enter) to see which.",
                        )
                    };
                }
                Outcome {
                    effects,
                    ..Outcome::default()
                }
            }
            Some(Milestone::Failed(message)) => {
                self.run = None;
                Outcome {
                    effects: self.refresh(conversation),
                    ..Outcome::warn(message)
                }
            }
            _ => Outcome::default(),
        }
    }

    /// A request of the chat screen failed.
    pub fn on_failure(&mut self, what: &Request, error: Failure) -> Outcome {
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
        Outcome::warn(error.message)
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
