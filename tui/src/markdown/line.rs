//! Building and finishing lines of spans: merging, truncating with `…`,
//! cutting prefixes from the left and the last guard on the width.

use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_truncate::UnicodeTruncateStr;
use unicode_width::UnicodeWidthStr;

use super::width::{ELLIPSIS, is_plain_ascii, text_width};

fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|span| text_width(&span.content)).sum()
}

/// Cuts a line to `max` cells, marking the cut with `…`; grapheme clusters
/// are never split.
pub(super) fn truncate(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
    if spans_width(&spans) <= max {
        return spans;
    }
    let Some(mut room) = max.checked_sub(1) else {
        return Vec::new();
    };
    let mut kept: Vec<Span<'static>> = Vec::with_capacity(spans.len());
    for span in spans {
        let (fits, width) = span.content.unicode_truncate(room);
        if fits.len() < span.content.len() {
            let mut text = String::with_capacity(fits.len() + ELLIPSIS.len());
            text.push_str(fits);
            text.push_str(ELLIPSIS);
            kept.push(Span::styled(text, span.style));
            break;
        }
        room -= width;
        kept.push(span);
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
    let mut kept = Vec::with_capacity(spans.len());
    for span in spans {
        if excess == 0 {
            kept.push(span);
            continue;
        }
        let width = text_width(&span.content);
        if width <= excess {
            excess -= width;
            continue;
        }
        // Cells are cut from the left; a wide character straddling the cut
        // goes as a whole.
        let (rest, _) = span.content.unicode_truncate_start(width - excess);
        excess = 0;
        if !rest.is_empty() {
            kept.push(Span::styled(rest.to_owned(), span.style));
        }
    }
    kept
}

/// The width of the spans as one string, as callers measure a line: a
/// sequence that crosses spans is measured as a whole (a variation selector
/// at the start of a span can widen the character that ends the one before).
/// `scratch` is a buffer reused from line to line.
fn joined_width(spans: &[Span<'_>], scratch: &mut String) -> usize {
    // `unicode-width` measures a string from its end, each character's width
    // depending only on the characters after it, and printable ASCII hands
    // on no state. So while every span after the first is printable ASCII
    // (one cell a byte), the first can be measured alone: that covers lines
    // of text, and a list marker or code bar followed by ASCII text.
    if spans
        .iter()
        .skip(1)
        .all(|span| is_plain_ascii(&span.content))
    {
        return spans
            .iter()
            .map(|span| {
                if is_plain_ascii(&span.content) {
                    span.content.len()
                } else {
                    span.content.width()
                }
            })
            .sum();
    }
    scratch.clear();
    for span in spans {
        scratch.push_str(&span.content);
    }
    scratch.width()
}

/// Finishes a line: no trailing spaces, no empty spans, and — as a last
/// guard, measured exactly as callers measure — never wider than `width`.
/// `scratch` is a buffer to measure in, reused from line to line.
pub(super) fn finish_line(
    mut spans: Vec<Span<'static>>,
    width: usize,
    scratch: &mut String,
) -> Line<'static> {
    while let Some(last) = spans.last_mut() {
        let trimmed = last.content.trim_end_matches(' ').len();
        if trimmed < last.content.len() {
            last.content.to_mut().truncate(trimmed);
        }
        if !last.content.is_empty() {
            break;
        }
        spans.pop();
    }
    while joined_width(&spans, scratch) > width {
        let Some(last) = spans.last_mut() else {
            break;
        };
        // Drop the last cluster whole: a cut emoji or accent is worse than
        // one cell of slack.
        let end = last
            .content
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(start, _)| start);
        last.content.to_mut().truncate(end);
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
    fn truncate_keeps_clusters_whole_across_spans() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let spans = vec![Span::raw("│ "), Span::raw(format!("a{family}b"))];
        assert_eq!(text(&truncate(spans.clone(), 6)), format!("│ a{family}b"));
        assert_eq!(text(&truncate(spans.clone(), 5)), "│ a…");
        let spans = vec![Span::raw("中"), Span::raw("e\u{301}e\u{301}x")];
        assert_eq!(text(&truncate(spans, 4)), "中e\u{301}…");
    }

    #[test]
    fn prefixes_cut_wide_characters_whole() {
        let prefix = vec![Span::raw("中中"), Span::raw("• ")];
        assert_eq!(text(&keep_last_cells(prefix.clone(), 5)), "中• ");
        assert_eq!(text(&keep_last_cells(prefix, 3)), "• ");
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
        let line = finish_line(
            vec![Span::raw("ab  "), Span::raw("   ")],
            10,
            &mut String::new(),
        );
        assert_eq!(line.spans.len(), 1);
        assert_eq!(line.spans[0].content, "ab");
        let line = finish_line(
            vec![Span::raw("abc"), Span::raw("中")],
            4,
            &mut String::new(),
        );
        assert_eq!(text(&line.spans), "abc");
        // A sequence across spans is measured as a whole: a keycap's
        // variation selector makes the digit before it two cells wide.
        let keycap = vec![Span::raw("ab1"), Span::raw("\u{fe0f}\u{20e3}")];
        assert_eq!(joined_width(&keycap, &mut String::new()), 4);
        let marker = vec![Span::raw("• "), Span::raw("text")];
        assert_eq!(joined_width(&marker, &mut String::new()), 6);
        let emoji = vec![Span::raw("❤\u{fe0f}"), Span::raw("x")];
        assert_eq!(joined_width(&emoji, &mut String::new()), 3);
        // The guard drops whole clusters, never half an emoji sequence.
        let family = "👨\u{200d}👩\u{200d}👧";
        let line = finish_line(
            vec![Span::raw(format!("abc{family}"))],
            4,
            &mut String::new(),
        );
        assert_eq!(text(&line.spans), "abc");
    }
}
