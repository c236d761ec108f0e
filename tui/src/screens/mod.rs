//! Drawing: one module per screen, plus what they share (the hint bar,
//! the help overlay, dialogs' frames). Drawing reads the app state and a
//! cache of rendered messages; it never changes the state.

mod auth;
mod chat;
mod messages;
mod settings;
#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

pub use messages::RenderCache;

use crate::app::{App, Pane, Screen};
use crate::theme::Theme;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner glyph for an animation frame.
pub(crate) fn spinner(frame: u64) -> &'static str {
    SPINNER[usize::try_from(frame % SPINNER.len() as u64).unwrap_or(0)]
}

/// Draws the whole client.
pub fn draw(frame: &mut Frame<'_>, app: &App, cache: &mut RenderCache, theme: &Theme) {
    let area = frame.area();
    let [body, hints] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    match app.screen {
        Screen::Login | Screen::Register => auth::draw(frame, body, app, theme),
        Screen::Chat => chat::draw(frame, body, app, cache, theme),
        Screen::Settings => settings::draw(frame, body, app, theme),
    }
    draw_hints(frame, hints, app, theme);
    if app.help {
        draw_help(frame, area, app, theme);
    }
}

/// A rectangle of at most `width`×`height` centred in `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// The frame of a box, its title in the accent when focused.
pub(crate) fn frame_block<'a>(
    title: impl Into<Line<'a>>,
    focused: bool,
    theme: &Theme,
) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Plain)
        .border_style(theme.border(focused))
        .title(title)
}

/// The one-line key hints at the bottom, shortened to what applies to the
/// focused place; the notice replaces them while there is one.
fn draw_hints(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    if let Some(notice) = &app.notice {
        let style = if notice.error {
            theme.error()
        } else {
            theme.accent()
        };
        let symbol = if notice.error { "✖ " } else { "● " };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(symbol, style),
                Span::styled(notice.text.clone(), style),
            ])),
            area,
        );
        return;
    }
    let keys: &[(&str, &str)] = match app.screen {
        Screen::Login => &[
            ("Enter", "sign in"),
            ("Tab", "next field"),
            ("Ctrl-R", "create account"),
            ("F1", "help"),
            ("Ctrl-C", "quit"),
        ],
        Screen::Register => &[
            ("Enter", "create account"),
            ("Tab", "next field"),
            ("Ctrl-L", "sign in"),
            ("F1", "help"),
            ("Ctrl-C", "quit"),
        ],
        Screen::Settings => &[
            ("Tab", "move"),
            ("Enter", "apply"),
            ("Esc", "back"),
            ("?", "help"),
        ],
        Screen::Chat if app.chat.dialog.is_some() => &[("Enter", "confirm"), ("Esc", "cancel")],
        Screen::Chat if app.chat.filter.is_some() => &[
            ("type", "filter"),
            ("↑↓", "move"),
            ("Enter", "keep"),
            ("Esc", "clear"),
        ],
        Screen::Chat => match app.chat.focus {
            Pane::Sidebar => &[
                ("?", "help"),
                ("Tab", "focus"),
                ("j/k", "move"),
                ("Enter", "open"),
                ("/", "filter"),
                ("n", "new"),
                ("r", "rename"),
                ("d", "delete"),
                ("s", "settings"),
                ("q", "quit"),
            ],
            Pane::Messages if app.chat.view.is_some() => &[
                ("←→", "tab"),
                ("Tab", "stage 1/2"),
                ("Esc", "back"),
                ("y", "copy"),
                ("e", "export"),
            ],
            Pane::Messages => &[
                ("?", "help"),
                ("Tab", "focus"),
                ("j/k", "answer"),
                ("Enter", "stages"),
                ("y", "copy"),
                ("e", "export"),
                ("PgUp/PgDn", "scroll"),
                ("s", "settings"),
                ("q", "quit"),
            ],
            Pane::Input => &[
                ("Enter", "send"),
                ("Alt-Enter", "newline"),
                ("Esc", "leave"),
                ("Tab", "focus"),
                (
                    "Ctrl-C",
                    if app.chat.run.is_some() {
                        "stop"
                    } else {
                        "quit"
                    },
                ),
            ],
        },
    };
    let status = match &app.email {
        Some(email) if matches!(app.screen, Screen::Chat | Screen::Settings) => {
            format!("● {email} ")
        }
        _ => String::new(),
    };
    let status_width =
        u16::try_from(unicode_width::UnicodeWidthStr::width(status.as_str())).unwrap_or(0);
    let show_status = status_width > 0 && area.width > status_width + 20;
    // Whole hints only, as many as fit: never a hint cut in the middle.
    let room = usize::from(if show_status {
        area.width - status_width
    } else {
        area.width
    });
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, what) in keys {
        let (k, w) = (format!(" {key}"), format!(" {what} "));
        let width = unicode_width::UnicodeWidthStr::width(k.as_str())
            + unicode_width::UnicodeWidthStr::width(w.as_str());
        if used + width > room {
            break;
        }
        used += width;
        spans.push(Span::styled(k, theme.accent_bold()));
        spans.push(Span::styled(w, theme.dim()));
    }
    let line = Line::from(spans);
    if show_status {
        let [left, right] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(status_width)]).areas(area);
        frame.render_widget(Paragraph::new(line), left);
        frame.render_widget(Paragraph::new(Span::styled(status, theme.ok())), right);
    } else {
        frame.render_widget(Paragraph::new(line), area);
    }
}

/// `?` / F1: every key of the client.
fn draw_help(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let rows: &[(&str, &str)] = &[
        (
            "Tab / Shift-Tab",
            "move focus (sidebar, messages, input; form fields)",
        ),
        (
            "j k ↑ ↓",
            "move in lists; pick an answer in the conversation",
        ),
        ("PgUp PgDn g G", "scroll; top; bottom"),
        (
            "Enter",
            "open a conversation / expand an answer's stages / send",
        ),
        ("Alt-Enter", "new line in the input"),
        ("Esc", "close, collapse, leave the filter or the input"),
        ("/", "filter conversations (searches titles and messages)"),
        ("n  r  d", "new conversation, rename, delete (asks first)"),
        (
            "←→ 1-9, Tab",
            "stage tabs; switch between stage 1 and stage 2",
        ),
        (
            "y  e",
            "copy the answer (OSC 52); export the conversation (.md)",
        ),
        ("b", "show the sidebar on a narrow terminal"),
        ("s", "settings: API key, password, sign out"),
        ("Ctrl-R / Ctrl-L", "register / sign in (on those screens)"),
        (
            "q, Ctrl-C",
            "quit; Ctrl-C while a council runs asks to stop it",
        ),
        ("? or F1", "this help"),
    ];
    let height = u16::try_from(rows.len()).unwrap_or(14) + 4;
    let rect = centered(area, 76, height);
    frame.render_widget(Clear, rect);
    let mut lines = vec![
        Line::from(Span::styled(
            format!("Server: {}", app.server_label),
            theme.dim(),
        )),
        Line::default(),
    ];
    for (key, what) in rows {
        lines.push(Line::from(vec![
            Span::styled(format!("{key:<17}"), theme.accent_bold()),
            Span::raw((*what).to_owned()),
        ]));
    }
    let block = frame_block(" Help · Esc to close ", true, theme);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// A modal box with a title and lines, centred.
pub(crate) fn dialog(
    frame: &mut Frame<'_>,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    width: u16,
    theme: &Theme,
) -> Rect {
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(frame_block(format!(" {title} "), true, theme))
            .wrap(Wrap { trim: false }),
        rect,
    );
    rect
}

/// Bold, for labels.
pub(crate) fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}
