//! Settings: the key's hint, a masked field to replace it, remove it,
//! change the password, sign out; the server shown.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{bold, centered, frame_block, spinner};
use crate::app::{App, SettingsField};
use crate::theme::Theme;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let s = &app.settings;
    let rect = centered(area, 66, 19);
    let block = frame_block(" Settings · Esc to go back ", true, theme)
        .padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let rows = Layout::vertical([Constraint::Length(1); 17]).split(inner);

    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("Server: {}", app.server_label),
            theme.dim(),
        )),
        rows[0],
    );
    let account = app.email.clone().unwrap_or_default();
    frame.render_widget(
        Paragraph::new(Span::styled(format!("Signed in as {account}"), theme.dim())),
        rows[1],
    );

    frame.render_widget(
        Paragraph::new(Span::styled("OpenRouter API key", bold())),
        rows[3],
    );
    let hint = match &s.saved {
        None => Line::from(Span::styled("  loading…", theme.dim())),
        Some(None) => Line::from(Span::styled(
            "  No key saved: the council cannot run without one.",
            theme.warn(),
        )),
        Some(Some(k)) => Line::from(vec![
            Span::raw("  Saved key "),
            Span::styled(k.key_hint.clone(), theme.accent()),
        ]),
    };
    frame.render_widget(Paragraph::new(hint), rows[4]);
    field(
        frame,
        rows[5],
        "New key",
        &s.key,
        s.focus == SettingsField::NewKey,
        theme,
    );
    let remove = if s.confirm_remove {
        "Remove the saved key? y / N".to_owned()
    } else {
        "[ Remove key ]".to_owned()
    };
    frame.render_widget(
        Paragraph::new(button(&remove, s.focus == SettingsField::RemoveKey, theme)),
        rows[6],
    );

    frame.render_widget(
        Paragraph::new(Span::styled("Change password", bold())),
        rows[8],
    );
    field(
        frame,
        rows[9],
        "Current",
        &s.current,
        s.focus == SettingsField::CurrentPassword,
        theme,
    );
    field(
        frame,
        rows[10],
        "New",
        &s.new,
        s.focus == SettingsField::NewPassword,
        theme,
    );
    field(
        frame,
        rows[11],
        "Confirm",
        &s.confirm,
        s.focus == SettingsField::ConfirmPassword,
        theme,
    );
    frame.render_widget(
        Paragraph::new(button(
            "[ Sign out ]",
            s.focus == SettingsField::SignOut,
            theme,
        )),
        rows[13],
    );

    let status = if s.busy {
        Line::from(vec![
            Span::styled(format!("{} ", spinner(app.frame)), theme.accent()),
            Span::raw("Working…"),
        ])
    } else {
        match &s.status {
            Some((text, true)) => Line::from(Span::styled(format!("✖ {text}"), theme.error())),
            Some((text, false)) => Line::from(Span::styled(format!("✔ {text}"), theme.ok())),
            None => Line::from(Span::styled(field_help(s.focus), theme.dim())),
        }
    };
    frame.render_widget(Paragraph::new(status), rows[15]);
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
    let mut t = input.clone();
    t.set_style(Style::default().add_modifier(Modifier::UNDERLINED));
    t.set_cursor_style(if focused {
        theme.selected()
    } else {
        Style::default().add_modifier(Modifier::UNDERLINED)
    });
    frame.render_widget(&t, f);
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
