//! Building and finishing lines of spans: merging, truncating with `…`,
//! cutting prefixes from the left and the last guard on the width.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::width::{clusters, text_width};

/// Appends text to a line, merging it into the last span when the style is
/// the same so lines stay a handful of spans.
pub(super) fn append(line: &mut Vec<Span<'static>>, text: &str, style: Style) {
    if let Some(last) = line.last_mut()
        && last.style == style
    {
        last.content.to_mut().push_str(text);
        return;
    }
    line.push(Span::styled(text.to_owned(), style));
}

fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|span| text_width(&span.content)).sum()
}

/// Cuts a line to `max` cells, marking the cut with `…`.
pub(super) fn truncate(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    if spans_width(&spans) <= max {
        return spans;
    }
    let Some(room) = max.checked_sub(1) else {
        return Vec::new();
    };
    let mut kept: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut text = String::new();
        let mut cut = false;
        for (cluster, width) in clusters(&span.content) {
            if used + width > room {
                cut = true;
                break;
            }
            used += width;
            text.push_str(cluster);
        }
        if cut {
            text.push('…');
            kept.push(Span::styled(text, span.style));
            break;
        }
        kept.push(Span::styled(text, span.style));
    }
    kept
}

/// Keeps the last `budget` cells of a prefix: when nesting is too deep for
/// the column, the innermost markers are the informative part.
pub(super) fn keep_last_cells(mut spans: Vec<Span<'static>>, budget: usize) -> Vec<Span<'static>> {
    if spans_width(&spans) <= budget {
        return spans;
    }
    // With a single cell left, the innermost marker (`•`, `.`, `▌`) is worth
    // more than the space after it: an empty item must not look blank.
    if budget == 1
        && let Some(last) = spans.last_mut()
        && last.content.ends_with(' ')
    {
        last.content.to_mut().pop();
    }
    let mut excess = spans_width(&spans).saturating_sub(budget);
    if excess == 0 {
        return spans;
    }
    let mut kept = Vec::new();
    for span in spans {
        if excess == 0 {
            kept.push(span);
            continue;
        }
        let mut rest = String::new();
        for (cluster, width) in clusters(&span.content) {
            if excess > 0 {
                excess = excess.saturating_sub(width);
            } else {
                rest.push_str(cluster);
            }
        }
        if !rest.is_empty() {
            kept.push(Span::styled(rest, span.style));
        }
    }
    kept
}

/// Finishes a line: no trailing spaces, no empty spans, and — as a last
/// guard, measured exactly as callers measure — never wider than `width`.
pub(super) fn finish_line(mut spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    while let Some(last) = spans.last_mut() {
        let trimmed = last.content.trim_end_matches(' ').len();
        last.content.to_mut().truncate(trimmed);
        if !last.content.is_empty() {
            break;
        }
        spans.pop();
    }
    loop {
        let text: String = spans.iter().map(|span| span.content.as_ref()).collect();
        if text.width() <= width {
            break;
        }
        let Some(last) = spans.last_mut() else {
            break;
        };
        last.content.to_mut().pop();
        if last.content.is_empty() {
            spans.pop();
        }
    }
    spans.retain(|span| !span.content.is_empty());
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|span| span.content.as_ref()).collect()
    }

    #[test]
    fn truncate_marks_the_cut() {
        let spans = vec![Span::raw("│ "), Span::raw("abcdef")];
        assert_eq!(text(&truncate(spans.clone(), 8)), "│ abcdef");
        assert_eq!(text(&truncate(spans.clone(), 6)), "│ abc…");
        assert_eq!(text(&truncate(spans.clone(), 1)), "…");
        assert!(truncate(spans, 0).is_empty());
        assert_eq!(text(&truncate(vec![Span::raw("中中中")], 4)), "中…");
    }

    #[test]
    fn prefixes_keep_their_innermost_part() {
        let prefix = || vec![Span::raw("▌ "), Span::raw("  "), Span::raw("• ")];
        assert_eq!(text(&keep_last_cells(prefix(), 6)), "▌   • ");
        assert_eq!(text(&keep_last_cells(prefix(), 4)), "  • ");
        assert_eq!(text(&keep_last_cells(prefix(), 1)), "•");
        assert_eq!(text(&keep_last_cells(prefix(), 0)), "");
    }

    #[test]
    fn finished_lines_have_no_trailing_spaces_and_fit() {
        let line = finish_line(vec![Span::raw("ab  "), Span::raw("   ")], 10);
        assert_eq!(line.spans.len(), 1);
        assert_eq!(line.spans[0].content, "ab");
        let line = finish_line(vec![Span::raw("abc"), Span::raw("中")], 4);
        assert_eq!(text(&line.spans), "abc");
    }
}
