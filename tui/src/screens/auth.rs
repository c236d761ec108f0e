//! Login and Register: a centred form with the error under its field.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::TextArea;

use super::{bold, centered, frame_block, spinner};
use crate::app::{App, AuthField, AuthForm, Screen};
use crate::theme::Theme;

pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let register = app.screen == Screen::Register;
    let form = if register { &app.register } else { &app.login };
    let fields: &[AuthField] = if register {
        &[AuthField::Email, AuthField::Password, AuthField::Confirm]
    } else {
        &[AuthField::Email, AuthField::Password]
    };
    // Per field: label, input box (3 rows), error line; where that does not
    // fit (Register at 60×20), label and field share a row, without a box.
    let count = u16::try_from(fields.len()).unwrap_or(3);
    let full = 4 + 5 * count + 3;
    let compact = area.height < full;
    let per_field: &[u16] = if compact { &[1, 1] } else { &[1, 3, 1] };
    let height = if compact { 4 + 2 * count + 3 } else { full };
    let rect = centered(area, 58, height);
    let title = if register {
        " The Council · Create account "
    } else {
        " The Council · Sign in "
    };
    let block = frame_block(title, true, theme).padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);

    let mut constraints = vec![Constraint::Length(1)];
    for _ in fields {
        constraints.extend(per_field.iter().map(|h| Constraint::Length(*h)));
    }
    constraints.extend([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ]);
    let rows = Layout::vertical(constraints).split(inner);

    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("Server: {}", app.server_label),
            theme.dim(),
        )),
        rows[0],
    );
    for (i, field) in fields.iter().enumerate() {
        let label = match field {
            AuthField::Email => "Email",
            AuthField::Password => "Password",
            AuthField::Confirm => "Confirm password",
        };
        let base = 1 + i * per_field.len();
        let focused = form.focus == *field && !form.busy;
        if compact {
            let [l, f] =
                Layout::horizontal([Constraint::Length(18), Constraint::Min(1)]).areas(rows[base]);
            frame.render_widget(Paragraph::new(Span::styled(label, bold())), l);
            draw_underlined(frame, f, input(form, *field), focused, theme);
        } else {
            frame.render_widget(Paragraph::new(Span::styled(label, bold())), rows[base]);
            draw_input(frame, rows[base + 1], input(form, *field), focused, theme);
        }
        if let Some((f, message)) = &form.error
            && f == field
        {
            frame.render_widget(
                Paragraph::new(Span::styled(format!("✖ {message}"), theme.error())),
                rows[base + per_field.len() - 1],
            );
        }
    }
    let after = 1 + fields.len() * per_field.len();
    let action = if form.busy {
        Line::from(vec![
            Span::styled(format!("{} ", spinner(app.frame)), theme.accent()),
            Span::raw(if register {
                "Creating your account…"
            } else {
                "Signing in…"
            }),
        ])
    } else {
        Line::from(Span::styled(
            if register {
                "Enter: create account"
            } else {
                "Enter: sign in"
            },
            theme.dim(),
        ))
    };
    frame.render_widget(Paragraph::new(action), rows[after]);
    let switch = if register {
        "Already have an account?  Ctrl-L: sign in"
    } else {
        "No account yet?  Ctrl-R: create one"
    };
    frame.render_widget(
        Paragraph::new(Span::styled(switch, theme.accent())),
        rows[after + 1],
    );
}

fn input(form: &AuthForm, field: AuthField) -> &TextArea<'static> {
    match field {
        AuthField::Email => &form.email,
        AuthField::Password => &form.password,
        AuthField::Confirm => &form.confirm,
    }
}

/// A one-line input without a box, its extent underlined (forms where
/// boxes do not fit); the cursor shows only when focused.
pub(crate) fn draw_underlined(
    frame: &mut Frame<'_>,
    area: Rect,
    input: &TextArea<'static>,
    focused: bool,
    theme: &Theme,
) {
    let underlined = Style::default().add_modifier(Modifier::UNDERLINED);
    let mut t = input.clone();
    t.set_style(underlined);
    t.set_cursor_style(if focused {
        theme.selected()
    } else {
        underlined
    });
    frame.render_widget(&t, area);
}

/// A one-line input in a box; the cursor shows only when focused.
pub(crate) fn draw_input(
    frame: &mut Frame<'_>,
    area: Rect,
    input: &TextArea<'static>,
    focused: bool,
    theme: &Theme,
) {
    let mut t = input.clone();
    t.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused)),
    );
    if focused {
        t.set_cursor_style(theme.selected());
    } else {
        t.set_cursor_style(ratatui::style::Style::default());
    }
    frame.render_widget(&t, area);
}
