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

use crate::app::{App, Screen};
use crate::keymap::{self, Scope};
use crate::text;
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
    if app.help.is_some() {
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

/// The one-line key hints at the bottom: the keymap's hints for where the
/// focus is, as many whole hints as fit; the notice replaces them while
/// there is one.
fn draw_hints(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    if let Some(notice) = &app.notice {
        let style = if notice.error {
            theme.error()
        } else {
            theme.accent()
        };
        let symbol = if notice.error { "✖ " } else { "● " };
        let room = usize::from(area.width).saturating_sub(2);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(symbol, style),
                Span::styled(text::fit(&notice.text, room), style),
            ])),
            area,
        );
        return;
    }
    let mut scopes = app.scopes();
    if app.help.is_none() {
        scopes.push(Scope::Anywhere);
    }
    let running = app.screen == Screen::Chat && app.chat.run.is_some();
    let keys: Vec<(&str, &str)> = keymap::hints(&scopes)
        .into_iter()
        .map(|(k, w)| match (k, w) {
            ("Ctrl-C", "quit") if running => (k, "stop"),
            other => other,
        })
        .collect();
    let status = match (&app.email, app.local) {
        (_, true) if matches!(app.screen, Screen::Chat | Screen::Settings) => "● local ".to_owned(),
        (Some(email), false) if matches!(app.screen, Screen::Chat | Screen::Settings) => {
            format!("● {email} ")
        }
        _ => String::new(),
    };
    let status_width = u16::try_from(text::width(&status)).unwrap_or(0);
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
        let width = text::width(&k) + text::width(&w);
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

/// The help overlay's sections for the current screen, the focused
/// place's first.
fn help_scopes(app: &App) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = match app.screen {
        Screen::Login | Screen::Register => vec![Scope::Login, Scope::Register],
        Screen::Settings => vec![Scope::Settings],
        Screen::Chat => {
            let mut s = app.chat.scopes();
            for more in [
                Scope::Input,
                Scope::Sidebar,
                Scope::Messages,
                Scope::Stages,
                Scope::Chat,
                Scope::Filter,
                Scope::NewConversation,
                Scope::Rename,
                Scope::Confirm,
            ] {
                if !s.contains(&more) {
                    s.push(more);
                }
            }
            s
        }
    };
    scopes.push(Scope::Anywhere);
    scopes.push(Scope::Help);
    scopes
}

/// `?` / F1: every key, from the keymap, scrolled with j/k.
fn draw_help(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    // Over the whole screen where a box would leave a sliver of the one
    // beneath showing on each side.
    let body = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let rect = if body.width < 90 {
        body
    } else {
        centered(body, 80, body.height.saturating_sub(2))
    };
    frame.render_widget(Clear, rect);
    let block = frame_block(" Help · Esc to close · j/k scroll ", true, theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let room = usize::from(inner.width).saturating_sub(14);
    let mut lines = vec![Line::from(Span::styled(
        text::fit(
            &format!("Server: {}", app.server_label),
            usize::from(inner.width),
        ),
        theme.dim(),
    ))];
    for (scope, rows) in keymap::help(&help_scopes(app)) {
        if rows.is_empty() {
            continue;
        }
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(scope.heading(), bold())));
        for (key, what) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!(" {key:<12} "), theme.accent_bold()),
                Span::raw(text::fit(what, room)),
            ]));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Text fields: the usual editing keys (←→, Home/End, Ctrl-W, Ctrl-U…).",
        theme.dim(),
    )));
    let height = usize::from(inner.height);
    let top = app
        .help
        .unwrap_or(0)
        .min(lines.len().saturating_sub(height));
    let visible: Vec<Line<'static>> = lines.into_iter().skip(top).take(height).collect();
    frame.render_widget(Paragraph::new(visible), inner);
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
