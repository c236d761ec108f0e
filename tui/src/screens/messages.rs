//! The conversation as lines: finished messages are rendered once per
//! width and cached; only a running council is laid out again each frame.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, Timelike, Utc};
use council_shared::{AssistantMessage, Conversation, Message, RunStatus};
use ratatui::text::{Line, Span};

use super::spinner;
use crate::app::{LiveRun, ModelState};
use crate::markdown;
use crate::text::{fit, width as cells};
use crate::theme::Theme;
use crate::usage::Spend;

/// Rendered bodies of finished messages, by message id and width.
#[derive(Debug, Default)]
pub struct RenderCache {
    bodies: HashMap<(uuid::Uuid, u16), Rc<Vec<Line<'static>>>>,
}

impl RenderCache {
    fn body(
        &mut self,
        id: uuid::Uuid,
        width: u16,
        render: impl FnOnce() -> Vec<Line<'static>>,
    ) -> Rc<Vec<Line<'static>>> {
        self.bodies
            .entry((id, width))
            .or_insert_with(|| Rc::new(render()))
            .clone()
    }

    /// Entries held (for tests and the memory benchmark).
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }
}

/// "09:41" in the user's time zone.
pub(crate) fn clock(t: DateTime<Utc>, offset: FixedOffset) -> String {
    // Every message's header is built on every frame: two numbers are far
    // cheaper than interpreting a `%H:%M` format string (same text).
    let local = t.with_timezone(&offset);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// "0:07", "12:30".
pub(crate) fn elapsed(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// The short name of a model (`vendor/name` → `name`).
pub(crate) fn short(model: &str) -> &str {
    model.rsplit_once('/').map_or(model, |(_, name)| name)
}

/// What the message pane shows, top to bottom, and where each assistant
/// message starts (for keeping the selected one in view). Cached bodies are
/// shared, not copied: a frame clones only the lines it shows.
#[derive(Default)]
pub(crate) struct Laid {
    parts: Vec<Part>,
    len: usize,
    pub starts: Vec<(usize, usize)>,
}

enum Part {
    Own(Vec<Line<'static>>),
    Shared(Rc<Vec<Line<'static>>>),
}

impl Part {
    fn lines(&self) -> &[Line<'static>] {
        match self {
            Part::Own(v) => v,
            Part::Shared(v) => v,
        }
    }
}

impl Laid {
    fn push(&mut self, line: Line<'static>) {
        match self.parts.last_mut() {
            Some(Part::Own(v)) => v.push(line),
            _ => self.parts.push(Part::Own(vec![line])),
        }
        self.len += 1;
    }

    fn extend(&mut self, lines: Vec<Line<'static>>) {
        for l in lines {
            self.push(l);
        }
    }

    fn share(&mut self, lines: Rc<Vec<Line<'static>>>) {
        self.len += lines.len();
        self.parts.push(Part::Shared(lines));
    }

    /// Drops blank lines at the end (of the parts built here).
    fn trim_end(&mut self) {
        while let Some(Part::Own(v)) = self.parts.last_mut() {
            match v.last() {
                Some(l) if l.spans.is_empty() => {
                    v.pop();
                    self.len -= 1;
                }
                Some(_) => break,
                None => {
                    self.parts.pop();
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The lines `top..top + height`, cloned.
    pub fn window(&self, top: usize, height: usize) -> Vec<Line<'static>> {
        let mut out = Vec::with_capacity(height);
        let mut skip = top;
        for part in &self.parts {
            let lines = part.lines();
            if skip >= lines.len() {
                skip -= lines.len();
                continue;
            }
            for l in &lines[skip..] {
                if out.len() == height {
                    return out;
                }
                out.push(l.clone());
            }
            skip = 0;
        }
        out
    }
}

/// Lays out the conversation (and the live run, if any) at `width`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lay_out(
    conv: &Conversation,
    run: Option<&LiveRun>,
    selected: Option<usize>,
    width: u16,
    now: Instant,
    frame: u64,
    offset: FixedOffset,
    cache: &mut RenderCache,
    theme: &Theme,
) -> Laid {
    let mut laid = Laid::default();
    for (i, message) in conv.messages.iter().enumerate() {
        match message {
            Message::User(u) => {
                laid.push(Line::from(Span::styled(
                    format!("You · {}", clock(u.created_at, offset)),
                    theme.accent_bold(),
                )));
                laid.share(cache.body(u.id, width, || plain(&u.content, width)));
            }
            Message::Assistant(a) => {
                laid.starts.push((i, laid.len()));
                laid.push(assistant_header(
                    a,
                    selected == Some(i),
                    width,
                    offset,
                    frame,
                    theme,
                ));
                if a.status == RunStatus::Running {
                    laid.push(Line::from(Span::styled(
                        "  running on the server…",
                        theme.dim(),
                    )));
                } else {
                    laid.share(cache.body(a.id, width, || assistant_body(a, width, theme)));
                }
            }
        }
        laid.push(Line::default());
    }
    if let Some(run) = run {
        laid.push(Line::from(Span::styled("You · now", theme.accent_bold())));
        laid.extend(plain(&run.question, width));
        laid.push(Line::default());
        laid.extend(live(run, width, now, frame, theme));
    }
    laid.trim_end();
    laid
}

/// Plain text wrapped to the width at spaces (questions are not Markdown
/// to their authors); a word longer than the width is cut.
pub(crate) fn plain(text: &str, width: u16) -> Vec<Line<'static>> {
    wrap(text, usize::from(width.max(1)))
        .into_iter()
        .map(Line::raw)
        .collect()
}

/// Greedy word wrap by display width.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split(' ') {
            // In a string every ASCII character counts one cell ("\r\n"
            // would count one for two, but lines are split at '\n').
            let w = if word.is_ascii() {
                word.len()
            } else {
                UnicodeWidthStr::width(word)
            };
            if used > 0 && used + 1 + w > width {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            if used > 0 {
                line.push(' ');
                used += 1;
            }
            if w <= width {
                line.push_str(word);
                used += w;
                continue;
            }
            // A word wider than the line is cut between grapheme clusters,
            // never inside an emoji sequence or between a letter and its
            // accent.
            for g in unicode_segmentation::UnicodeSegmentation::graphemes(word, true) {
                let gw = UnicodeWidthStr::width(g);
                if used + gw > width && used > 0 {
                    out.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push_str(g);
                used += gw;
            }
        }
        out.push(line);
    }
    out
}

fn status_span(status: RunStatus, frame: u64, theme: &Theme) -> Span<'static> {
    match status {
        RunStatus::Complete => Span::styled("✔ complete", theme.ok()),
        RunStatus::Partial => Span::styled("✔ partial", theme.warn()),
        RunStatus::Failed => Span::styled("✖ failed", theme.error()),
        RunStatus::Running => Span::styled(format!("{} running", spinner(frame)), theme.accent()),
    }
}

/// `▶ Council · final answer by gemini-3-pro · 09:45   12.4k tok · $0.031 ·
/// 37s  ✔ complete`, shortened to `width`: "final answer by" goes first,
/// then the time, then the lead's name is cut; the spend and the status
/// stay whole, two columns apart from the rest.
fn assistant_header(
    a: &AssistantMessage,
    selected: bool,
    width: u16,
    offset: FixedOffset,
    frame: u64,
    theme: &Theme,
) -> Line<'static> {
    let marker = if selected { "▶ " } else { "" };
    let time = clock(a.created_at, offset);
    let status = status_span(a.status, frame, theme);
    let spend = if a.status == RunStatus::Running {
        String::new()
    } else {
        Spend::of_answer(a).label()
    };
    let right = cells(&spend) + cells(status.content.as_ref()) + 2;
    let room = usize::from(width).saturating_sub(right + 2);
    let who = match &a.stage3 {
        Some(s) => {
            let lead = short(&s.model);
            [
                format!("{marker}Council · final answer by {lead} · {time}"),
                format!("{marker}Council · {lead} · {time}"),
                format!("{marker}Council · {lead}"),
            ]
            .into_iter()
            .find(|t| cells(t) <= room)
            .unwrap_or_else(|| fit(&format!("{marker}Council · {lead}"), room))
        }
        None => fit(&format!("{marker}Council · {time}"), room),
    };
    let used = cells(&who) + right;
    let gap = usize::from(width).saturating_sub(used).max(2);
    let style = if selected {
        theme.accent_bold()
    } else {
        theme.accent()
    };
    let mut spans = vec![Span::styled(who, style), Span::raw(" ".repeat(gap))];
    if !spend.is_empty() {
        spans.push(Span::styled(spend, theme.dim()));
        spans.push(Span::raw("  "));
    }
    spans.push(status);
    Line::from(spans)
}

fn assistant_body(a: &AssistantMessage, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    match (&a.stage3, &a.error) {
        (Some(s), _) => lines.extend(markdown::render(&s.response, width, theme)),
        (None, Some(e)) => lines.push(Line::from(Span::styled(format!("✖ {e}"), theme.error()))),
        (None, None) => {}
    }
    if !a.stage1.is_empty() {
        // Whole parts only, as many as fit: the first always.
        let failed = a.metadata.failures.len();
        let mut parts = vec![(
            format!("▸ Stage 1 · {} answers", a.stage1.len()),
            theme.dim(),
        )];
        if failed > 0 {
            parts.push((format!(" ({failed} failed)"), theme.warn()));
        }
        if !a.stage2.is_empty() {
            parts.push(("   ▸ Stage 2 · rankings".to_owned(), theme.dim()));
        }
        parts.push(("   (Enter to expand)".to_owned(), theme.dim()));
        let mut used = 0;
        let mut spans = Vec::new();
        for (i, (text, style)) in parts.into_iter().enumerate() {
            let w = cells(&text);
            if i > 0 && used + w > usize::from(width) {
                break;
            }
            used += w;
            spans.push(Span::styled(text, style));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// A council running now: each model's state, the stages' progress and
/// the final answer as it streams.
fn live(run: &LiveRun, width: u16, now: Instant, frame: u64, theme: &Theme) -> Vec<Line<'static>> {
    let progress = &run.progress;
    let secs = now.saturating_duration_since(progress.started).as_secs();
    let mut lines = vec![Line::from(vec![
        Span::styled("Council · ", theme.accent()),
        Span::styled(
            format!("{} running {}", spinner(frame), elapsed(secs)),
            theme.accent(),
        ),
        Span::styled(if run.stopping { "  stopping…" } else { "" }, theme.warn()),
    ])];
    lines.push(Line::from(Span::styled(" Stage 1", super::bold())));
    if progress.models.is_empty() {
        lines.push(Line::from(Span::styled("   waiting", theme.dim())));
    }
    for m in &progress.models {
        let took = m
            .finished
            .map(|f| format!(" {:.1}s", progress.secs(f)))
            .unwrap_or_default();
        let line = match &m.state {
            ModelState::Waiting => Line::from(vec![
                Span::styled(format!("   {} ", spinner(frame)), theme.dim()),
                Span::raw(short(&m.model).to_owned()),
                Span::styled(" waiting", theme.dim()),
            ]),
            ModelState::Streaming => Line::from(vec![
                Span::styled(format!("   {} ", spinner(frame)), theme.accent()),
                Span::raw(short(&m.model).to_owned()),
                Span::styled(" streaming…", theme.dim()),
            ]),
            ModelState::Done => Line::from(vec![
                Span::styled("   ✔ ", theme.ok()),
                Span::raw(short(&m.model).to_owned()),
                Span::styled(took, theme.dim()),
            ]),
            ModelState::Failed(e) => {
                let room = usize::from(width).saturating_sub(6 + cells(short(&m.model)));
                let e = fit(e, room);
                Line::from(vec![
                    Span::styled("   ✖ ", theme.error()),
                    Span::raw(short(&m.model).to_owned()),
                    Span::styled(format!(" {e}"), theme.error()),
                ])
            }
        };
        lines.push(line);
    }
    let stage2 = match progress.stage {
        0 | 1 => Span::styled("waiting", theme.dim()),
        2 => Span::styled(
            format!(
                "{} {}/{} evaluations",
                spinner(frame),
                progress.stage2_done,
                progress.stage2_total
            ),
            theme.accent(),
        ),
        _ => Span::styled(
            format!("✔ {} evaluations", progress.stage2_done),
            theme.ok(),
        ),
    };
    lines.push(Line::from(vec![
        Span::styled(" Stage 2  ", super::bold()),
        stage2,
    ]));
    let stage3 = match (&progress.lead, progress.stage) {
        (Some(lead), 3) => Span::styled(
            format!(
                "{} {} is writing the final answer",
                spinner(frame),
                short(lead)
            ),
            theme.accent(),
        ),
        _ => Span::styled("waiting", theme.dim()),
    };
    lines.push(Line::from(vec![
        Span::styled(" Stage 3  ", super::bold()),
        stage3,
    ]));
    if !progress.answer.is_empty() {
        lines.push(Line::default());
        lines.extend(markdown::render(&progress.answer, width, theme));
    }
    lines
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_word_is_cut_between_grapheme_clusters() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let word = format!("{family}{family}{family}");
        let lines = super::wrap(&word, 3);
        assert_eq!(
            lines,
            vec![family.to_owned(), family.to_owned(), family.to_owned()]
        );
        assert_eq!(
            super::wrap("e\u{301}e\u{301}e\u{301}", 2),
            vec!["e\u{301}e\u{301}", "e\u{301}"]
        );
    }

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn clock_matches_the_hour_minute_format() {
        let offsets = [0, 3600, -5 * 3600 - 1800, 14 * 3600];
        let times = [
            (2026, 1, 1, 0, 0),
            (2026, 3, 9, 9, 41),
            (2025, 12, 31, 23, 59),
        ];
        for seconds in offsets {
            let Some(offset) = FixedOffset::east_opt(seconds) else {
                panic!("offset {seconds}");
            };
            for (y, mo, d, h, mi) in times {
                let t = Utc.with_ymd_and_hms(y, mo, d, h, mi, 30).single();
                let Some(t) = t else {
                    panic!("time {y}-{mo}-{d}")
                };
                let expected = t.with_timezone(&offset).format("%H:%M").to_string();
                assert_eq!(clock(t, offset), expected);
            }
        }
    }
}
