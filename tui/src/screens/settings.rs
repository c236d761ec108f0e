//! Settings: the key's hint, a masked field to replace it, remove it,
//! change the password, sign out; the server shown. Local mode shows the
//! key only: its account is the client's own.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{bold, centered, frame_block, spinner};
use crate::app::{App, SettingsField};
use crate::text::fit;
use crate::theme::Theme;
use ratatui_textarea::TextArea;

/// One row of the settings form.
enum Row {
    Text(Line<'static>),
    Field(&'static str, SettingsField),
    Button(String, SettingsField),
    Blank,
    /// The last action's result (two lines: messages wrap).
    Status,
}

pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let s = &app.settings;
    let mut rows = vec![Row::Text(Line::from(Span::styled(
        format!("Server: {}", app.server_label),
        theme.dim(),
    )))];
    rows.push(Row::Text(Line::from(Span::styled(
        if app.local {
            "Local mode: no sign-in needed.".to_owned()
        } else {
            format!("Signed in as {}", app.email.clone().unwrap_or_default())
        },
        theme.dim(),
    ))));
    rows.push(Row::Blank);
    rows.push(Row::Text(Line::from(Span::styled(
        "OpenRouter API key",
        bold(),
    ))));
    rows.push(Row::Text(match &s.saved {
        None => Line::from(Span::styled("  loading…", theme.dim())),
        Some(None) => Line::from(Span::styled(
            "  No key saved: the council cannot run without one.",
            theme.warn(),
        )),
        Some(Some(k)) => Line::from(vec![
            Span::raw("  Saved key "),
            Span::styled(k.key_hint.clone(), theme.accent()),
        ]),
    }));
    rows.push(Row::Field("New key", SettingsField::NewKey));
    rows.push(Row::Button(
        if s.confirm_remove {
            "Remove the saved key? y / N".to_owned()
        } else {
            "[ Remove key ]".to_owned()
        },
        SettingsField::RemoveKey,
    ));
    if !s.local {
        rows.push(Row::Blank);
        rows.push(Row::Text(Line::from(Span::styled(
            "Change password",
            bold(),
        ))));
        rows.push(Row::Field("Current", SettingsField::CurrentPassword));
        rows.push(Row::Field("New", SettingsField::NewPassword));
        rows.push(Row::Field("Confirm", SettingsField::ConfirmPassword));
        rows.push(Row::Blank);
        rows.push(Row::Button("[ Sign out ]".into(), SettingsField::SignOut));
    }
    rows.push(Row::Blank);
    rows.push(Row::Status);

    let heights: Vec<Constraint> = rows
        .iter()
        .map(|r| Constraint::Length(if matches!(r, Row::Status) { 2 } else { 1 }))
        .collect();
    let height = u16::try_from(rows.len() + 1)
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let rect = centered(area, 66, height);
    let title = if s.first_run {
        " Welcome to The Council · Esc to skip "
    } else {
        " Settings · Esc to go back "
    };
    let title = fit(title, usize::from(rect.width).saturating_sub(2));
    let block = frame_block(title, true, theme).padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let areas = Layout::vertical(heights).split(inner);
    let room = usize::from(inner.width);
    for (row, at) in rows.into_iter().zip(areas.iter().copied()) {
        match row {
            Row::Text(line) => {
                let line = if line.width() > room {
                    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                    Line::from(Span::styled(
                        fit(&text, room),
                        line.spans.first().map(|s| s.style).unwrap_or_default(),
                    ))
                } else {
                    line
                };
                frame.render_widget(Paragraph::new(line), at);
            }
            Row::Field(label, which) => {
                let input = match which {
                    SettingsField::NewKey => &s.key,
                    SettingsField::CurrentPassword => &s.current,
                    SettingsField::NewPassword => &s.new,
                    _ => &s.confirm,
                };
                field(frame, at, label, input, s.focus == which, theme);
            }
            Row::Button(label, which) => {
                frame.render_widget(Paragraph::new(button(&label, s.focus == which, theme)), at);
            }
            Row::Blank => {}
            Row::Status => {
                let status = if s.busy {
                    Line::from(vec![
                        Span::styled(format!("{} ", spinner(app.frame)), theme.accent()),
                        Span::raw("Working…"),
                    ])
                } else {
                    match &s.status {
                        Some((text, true)) => {
                            Line::from(Span::styled(format!("✖ {text}"), theme.error()))
                        }
                        Some((text, false)) => {
                            Line::from(Span::styled(format!("✔ {text}"), theme.ok()))
                        }
                        None if s.first_run && s.focus == SettingsField::NewKey => {
                            Line::from(Span::styled(
                                "Welcome! Paste your OpenRouter key (openrouter.ai/keys) and press Enter.",
                                theme.accent(),
                            ))
                        }
                        None => Line::from(Span::styled(field_help(s.focus), theme.dim())),
                    }
                };
                frame.render_widget(Paragraph::new(status).wrap(Wrap { trim: true }), at);
            }
        }
    }
}

/// A labelled one-line field; its extent is underlined, the focused one
/// shows the cursor.
fn field(
    frame: &mut Frame<'_>,
    area: Rect,
    label: &str,
    input: &TextArea<'static>,
    focused: bool,
    theme: &Theme,
) {
    let [l, f] = Layout::horizontal([Constraint::Length(12), Constraint::Min(1)]).areas(area);
    let marker = if focused { "▶ " } else { "  " };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(marker, theme.accent()),
            Span::raw(label.to_owned()),
        ])),
        l,
    );
    super::auth::draw_underlined(frame, f, input, focused, theme);
}

fn field_help(focus: SettingsField) -> &'static str {
    match focus {
        SettingsField::NewKey => "Paste your key (sk-or-v1-…), then Enter to save it.",
        SettingsField::RemoveKey => "Enter to remove the saved key.",
        SettingsField::CurrentPassword => "Your current password.",
        SettingsField::NewPassword => "A new password: at least 8 characters.",
        SettingsField::ConfirmPassword => "The new password again, then Enter.",
        SettingsField::SignOut => "Enter to sign out (the session is revoked on the server).",
    }
}

fn button(label: &str, focused: bool, theme: &Theme) -> Line<'static> {
    let style = if focused {
        theme.selected()
    } else {
        theme.accent()
    };
    let marker = if focused { "▶ " } else { "  " };
    Line::from(vec![
        Span::styled(marker, theme.accent()),
        Span::styled(label.to_owned(), style),
    ])
}
