//! The chat screen at any size: the sidebar (beside the conversation, or
//! folded away on narrow terminals), the conversation or an answer's
//! stages, the input box.

use council_shared::Message;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::messages::{RenderCache, lay_out, short};
use super::{dialog, frame_block, spinner};
use crate::app::{App, Dialog, Pane, SidebarMode, StageView};
use crate::markdown;
use crate::text::{fit, width as cells};
use crate::theme::Theme;
use crate::usage::{Spend, percent};

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    cache: &mut RenderCache,
    theme: &Theme,
) {
    let chat = &app.chat;
    let mode = chat.sidebar(area.width);
    // The sidebar takes a column of its own or the whole area: boxes are
    // never drawn over one another.
    let main = match mode {
        SidebarMode::Column(width) if area.width > width + 20 => {
            let [side, main] =
                Layout::horizontal([Constraint::Length(width), Constraint::Min(20)]).areas(area);
            draw_sidebar(frame, side, app, theme);
            main
        }
        _ => area,
    };
    let input_height = u16::try_from(chat.input.0.lines().len())
        .unwrap_or(1)
        .clamp(1, 6)
        + 2;
    let [messages, input] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(input_height)]).areas(main);
    match chat.view {
        Some(view) => draw_stages(frame, messages, app, view, theme),
        None => draw_conversation(frame, messages, app, cache, theme),
    }
    draw_input(frame, input, app, theme);
    let covered = match mode {
        SidebarMode::Overlay => true,
        SidebarMode::Column(width) => area.width <= width + 20,
        SidebarMode::Hidden => false,
    };
    if covered {
        frame.render_widget(Clear, area);
        draw_sidebar(frame, area, app, theme);
    }
    draw_dialog(frame, area, app, theme);
}

/// "2m", "3h", "yesterday", "4d", "Nov 2".
fn ago(t: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (now - t).num_seconds().max(0);
    match secs {
        0..=59 => "now".into(),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        86_400..=172_799 => "yesterday".into(),
        172_800..=604_799 => format!("{}d", secs / 86_400),
        _ => t.format("%b %-d").to_string(),
    }
}

fn draw_sidebar(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let chat = &app.chat;
    let focused = chat.focus == Pane::Sidebar;
    let block = frame_block(
        fit(" Council ", usize::from(area.width).saturating_sub(2)),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [filter, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let filter = Rect {
        x: filter.x + 1,
        width: filter.width.saturating_sub(1),
        ..filter
    };
    match &chat.filter {
        Some(input) => {
            let [slash, field] =
                Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(filter);
            frame.render_widget(Paragraph::new(Span::styled("/ ", theme.accent())), slash);
            let mut t = input.clone();
            t.set_cursor_style(theme.selected());
            frame.render_widget(&t, field);
        }
        None => {
            let text = match &chat.query {
                Some(q) => format!("/ {q}"),
                None => "/ search".into(),
            };
            frame.render_widget(
                Paragraph::new(Span::styled(
                    fit(&text, usize::from(filter.width)),
                    theme.dim(),
                )),
                filter,
            );
        }
    }
    if chat.conversations.is_empty() {
        let lines: Vec<Line<'static>> = if chat.loading {
            vec![Line::from(format!("{} loading…", spinner(app.frame)))]
        } else if chat.query.is_some() {
            vec![Line::from("No conversation matches.")]
        } else {
            vec![
                Line::from("No conversations yet."),
                Line::default(),
                Line::from("n starts one with a council you pick."),
            ]
        };
        let padded = Rect {
            x: list.x + 1,
            width: list.width.saturating_sub(2),
            ..list
        };
        frame.render_widget(
            Paragraph::new(lines)
                .style(theme.dim())
                .wrap(Wrap { trim: true }),
            padded,
        );
        return;
    }
    // Two rows per conversation; keep the selected one in view.
    let per_page = usize::from(list.height / 2).max(1);
    let first = chat.selected.saturating_sub(per_page.saturating_sub(1));
    let width = usize::from(list.width).saturating_sub(2);
    let mut lines = Vec::new();
    for (i, c) in chat
        .conversations
        .iter()
        .enumerate()
        .skip(first)
        .take(per_page)
    {
        let selected = i == chat.selected;
        let title = fit(&c.title, width);
        let marker = if selected { "▶ " } else { "  " };
        let style = if selected && focused {
            theme.selected()
        } else if selected {
            theme.accent_bold()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(marker, theme.accent()),
            Span::styled(title, style),
        ]));
        let count = if c.message_count == 1 {
            "1 msg".to_owned()
        } else {
            format!("{} msgs", c.message_count)
        };
        lines.push(Line::from(Span::styled(
            fit(
                &format!("  {count} · {}", ago(c.updated_at, app.wall)),
                width + 2,
            ),
            theme.dim(),
        )));
    }
    frame.render_widget(Paragraph::new(lines), list);
}

/// The conversation box's title (left) and its facts (right), fitted to
/// `width` columns: the facts shorten first (the total spend is kept
/// longest), then the title is cut with `…`.
fn conversation_title(app: &App, width: u16) -> (String, String) {
    let room = usize::from(width).saturating_sub(4);
    let Some(c) = &app.chat.current else {
        return (fit(" The Council ", room + 2), String::new());
    };
    let models = if c.models.len() == 1 {
        "1 model".to_owned()
    } else {
        format!("{} models", c.models.len())
    };
    let spend = Spend::of_conversation(c).map(|s| s.label_without_time());
    let with = |facts: &[&str]| {
        let facts: Vec<&str> = facts.iter().copied().filter(|f| !f.is_empty()).collect();
        if facts.is_empty() {
            String::new()
        } else {
            format!(" {} ", facts.join(" · "))
        }
    };
    let lead = format!("lead {}", short(&c.lead_model));
    let spend = spend.unwrap_or_default();
    let title = format!(" {} ", c.title);
    for right in [
        with(&[&models, &lead, &spend]),
        with(&[&models, &spend]),
        with(&[&spend]),
    ] {
        if cells(&title) + cells(&right) < room {
            return (title, right);
        }
    }
    let right = spend_only(app);
    let left_room = room.saturating_sub(cells(&right) + 1).max(room.min(12));
    let right = if cells(&right) + left_room + 1 > room {
        String::new()
    } else {
        right
    };
    (
        format!(" {} ", fit(&c.title, left_room.saturating_sub(2))),
        right,
    )
}

/// The total spend alone, for the narrowest title bars.
fn spend_only(app: &App) -> String {
    app.chat
        .current
        .as_ref()
        .and_then(Spend::of_conversation)
        .map(|s| format!(" {} ", s.cost))
        .unwrap_or_default()
}

fn draw_conversation(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    cache: &mut RenderCache,
    theme: &Theme,
) {
    let chat = &app.chat;
    let (title, right) = conversation_title(app, area.width);
    let block = frame_block(title, chat.focus == Pane::Messages, theme)
        .title_top(Line::from(Span::styled(right, theme.dim())).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(conv) = &chat.current else {
        let lines: Vec<Line<'static>> = if chat.loading {
            vec![Line::from(format!("{} loading…", spinner(app.frame)))]
        } else {
            vec![
                Line::from(
                    "Type a question below and press Enter: every model of the council \
                     answers, ranks the others' answers, and the lead model writes the \
                     final answer.",
                ),
                Line::default(),
                Line::from(
                    "Tab moves to the conversation list (Enter opens one, n starts one \
                     with a council you pick). ? lists every key.",
                ),
            ]
        };
        let text_area = Rect {
            x: inner.x + 1,
            width: inner.width.saturating_sub(2),
            ..inner
        };
        frame.render_widget(
            Paragraph::new(lines)
                .style(theme.dim())
                .wrap(Wrap { trim: true }),
            text_area,
        );
        return;
    };
    // A column of margin on each side: text never touches a border.
    let width = inner.width.saturating_sub(2).max(10);
    let run = chat.run.as_ref().filter(|r| r.conversation == conv.id);
    let laid = lay_out(
        conv,
        run,
        chat.selected_message,
        width,
        app.now,
        app.frame,
        app.utc_offset,
        cache,
        theme,
    );
    let height = usize::from(inner.height);
    let total = laid.len();
    let max_scroll = total.saturating_sub(height);
    let scroll = chat.scroll.min(max_scroll);
    let mut top = max_scroll - scroll;
    // Keep the selected answer in view, from its first line, unless a
    // council is streaming (then the newest text matters).
    if run.is_none()
        && let Some(start) = chat
            .selected_message
            .and_then(|m| laid.starts.iter().find(|(i, _)| *i == m))
            .map(|(_, s)| *s)
        && (start < top || start >= top + height)
    {
        top = start.min(max_scroll);
    }
    let visible = laid.window(top, height);
    let area = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Paragraph::new(visible), area);
}

/// An answer's stages: stage 1 as a tab per model, stage 2 as a tab per
/// evaluation (labels shown as model names) plus the aggregate table.
fn draw_stages(frame: &mut Frame<'_>, area: Rect, app: &App, view: StageView, theme: &Theme) {
    let Some(Message::Assistant(a)) = app
        .chat
        .current
        .as_ref()
        .and_then(|c| c.messages.get(view.message))
    else {
        return;
    };
    let title = if view.stage == 1 {
        " Stage 1 · answers "
    } else {
        " Stage 2 · rankings "
    };
    let block = frame_block(title, true, theme).title_bottom(Line::from(Span::styled(
        " ←→ tabs · Tab stage 1/2 · Esc back ",
        theme.dim(),
    )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [tabs_area, share_area, _, body_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    let mut names: Vec<String> = if view.stage == 1 {
        a.stage1
            .iter()
            .map(|r| short(&r.model).to_owned())
            .collect()
    } else {
        a.stage2
            .iter()
            .map(|r| short(&r.model).to_owned())
            .collect()
    };
    if view.stage == 2 {
        names.push("aggregate".into());
    }
    let mut spans = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let style = if i == view.tab {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!(" {} {name} ", i + 1), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).wrap(Wrap { trim: false }),
        tabs_area,
    );
    let tab_model = if view.stage == 1 {
        a.stage1.get(view.tab).map(|r| r.model.as_str())
    } else {
        a.stage2.get(view.tab).map(|r| r.model.as_str())
    };
    let share = match tab_model {
        Some(model) => match Spend::of_model(a, model) {
            Some((spend, part)) => {
                let part = part
                    .map(|p| format!(" · {} of the cost", percent(p)))
                    .unwrap_or_default();
                format!("{}: {}{part}", short(model), spend.label())
            }
            None => format!("{}: {}", short(model), "? tok · $? · ?s"),
        },
        None => format!("This answer: {}", Spend::of_answer(a).label()),
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            fit(&format!(" {share}"), usize::from(share_area.width)),
            theme.dim(),
        )),
        share_area,
    );
    let width = body_area.width.saturating_sub(2).max(10);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if view.stage == 1 {
        match a.stage1.get(view.tab) {
            Some(r) => lines.extend(markdown::render(&r.response, width, theme)),
            None => lines.push(Line::from(Span::styled("No answers.", theme.dim()))),
        }
        for f in a.metadata.failures.iter().filter(|f| f.stage == 1) {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                format!("✖ {} failed: {}", short(&f.model), f.error),
                theme.error(),
            )));
        }
    } else if let Some(r) = a.stage2.get(view.tab) {
        let text = crate::export::deanonymise(&r.ranking, &a.metadata.label_to_model, short);
        lines.extend(markdown::render(&text, width, theme));
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Parsed ranking", super::bold())));
        for (i, label) in r.parsed_ranking.iter().enumerate() {
            let model = a
                .metadata
                .label_to_model
                .get(label)
                .map_or(label.as_str(), |m| short(m));
            lines.push(Line::raw(format!(" {}. {model}", i + 1)));
        }
    } else {
        lines.push(Line::from(Span::styled(
            format!(
                " {:<3}{:<30}{:>9}  {:>5}",
                "#", "model", "avg rank", "votes"
            ),
            super::bold(),
        )));
        for (i, agg) in a.metadata.aggregate_rankings.iter().enumerate() {
            lines.push(Line::raw(format!(
                " {:<3}{:<30}{:>9.2}  {:>5}",
                i + 1,
                agg.model,
                agg.average_rank,
                agg.rankings_count
            )));
        }
        if a.metadata.aggregate_rankings.is_empty() {
            lines.push(Line::from(Span::styled(
                "No rankings (fewer than two answers).",
                theme.dim(),
            )));
        }
    }
    // The view opens at the top (scroll = max); PgDn moves towards the end.
    let height = usize::from(body_area.height);
    let max_scroll = lines.len().saturating_sub(height);
    let top = max_scroll - app.chat.scroll.min(max_scroll);
    let visible: Vec<Line<'static>> = lines.into_iter().skip(top).take(height).collect();
    let body = Rect {
        x: body_area.x + 1,
        width: body_area.width.saturating_sub(2),
        ..body_area
    };
    frame.render_widget(Paragraph::new(visible), body);
}

fn draw_input(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let chat = &app.chat;
    let focused = chat.focus == Pane::Input && chat.dialog.is_none();
    let room = usize::from(area.width).saturating_sub(2);
    let choices: &[&str] = if chat.run.is_some() {
        &[
            " Ask the council (a council is running) ",
            " Ask (running) ",
        ]
    } else {
        &[
            " Ask the council (Enter send · Alt-Enter newline) ",
            " Ask the council (Enter send) ",
            " Ask the council ",
        ]
    };
    let title = choices
        .iter()
        .find(|t| cells(t) <= room)
        .map_or_else(|| fit(" Ask ", room), |t| (*t).to_owned());
    let mut t = chat.input.0.clone();
    t.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(title),
    );
    t.set_cursor_style(if focused {
        theme.selected()
    } else {
        ratatui::style::Style::default()
    });
    frame.render_widget(&t, area);
}

fn draw_dialog(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let Some(d) = &app.chat.dialog else { return };
    match d {
        Dialog::ConfirmDelete { title, .. } => {
            let lines = vec![
                Line::raw(format!("Delete “{title}” and all its messages?")),
                Line::default(),
                Line::from(Span::styled(
                    "y delete · any other key keeps it",
                    theme.dim(),
                )),
            ];
            dialog(frame, area, "Delete conversation", lines, 60, theme);
        }
        Dialog::StopRun { .. } => {
            let lines = vec![
                Line::raw("A council is running in this conversation."),
                Line::default(),
                Line::from(vec![
                    Span::styled("y", theme.accent_bold()),
                    Span::raw(" stop it (finished stages are kept)"),
                ]),
                Line::from(vec![
                    Span::styled("q", theme.accent_bold()),
                    Span::raw(" quit, letting it finish on the server"),
                ]),
                Line::from(vec![
                    Span::styled("Esc", theme.accent_bold()),
                    Span::raw(" keep watching"),
                ]),
            ];
            dialog(frame, area, "Stop the council?", lines, 60, theme);
        }
        Dialog::Rename { input, error, .. } => {
            let rect = super::centered(area, 60, 6);
            frame.render_widget(Clear, rect);
            let title = fit(
                " Rename · Enter to save, Esc to cancel ",
                usize::from(rect.width).saturating_sub(2),
            );
            let block = frame_block(title, true, theme);
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let [field, message] =
                Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(inner);
            super::auth::draw_input(frame, field, input, true, theme);
            if let Some(e) = error {
                frame.render_widget(
                    Paragraph::new(Span::styled(
                        fit(&format!("✖ {e}"), usize::from(message.width)),
                        theme.error(),
                    )),
                    message,
                );
            }
        }
        Dialog::NewConversation {
            models,
            chosen,
            lead,
            cursor,
            error,
        } => {
            let mut lines = vec![
                Line::from(Span::styled(
                    "Space: on the council · l: lead model · Enter: create",
                    theme.dim(),
                )),
                Line::default(),
            ];
            for (i, m) in models.iter().enumerate() {
                let check = if chosen.get(i).copied().unwrap_or(false) {
                    "[x]"
                } else {
                    "[ ]"
                };
                let lead_mark = if i == *lead { " ★ lead" } else { "" };
                let style = if i == *cursor {
                    theme.selected()
                } else {
                    ratatui::style::Style::default()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!(" {check} {m}"), style),
                    Span::styled(lead_mark.to_owned(), theme.accent()),
                ]));
            }
            if let Some(e) = error {
                lines.push(Line::default());
                lines.push(Line::from(Span::styled(format!("✖ {e}"), theme.error())));
            }
            dialog(frame, area, "New conversation", lines, 64, theme);
        }
    }
}
