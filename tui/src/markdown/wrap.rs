//! Word wrapping of inline pieces to the column.

use std::mem;

use ratatui::style::Style;
use ratatui::text::Span;

use super::inline::Piece;
use super::line::append;
use super::width::clusters;

/// Word-wraps inline pieces to `width` cells (at least 1).
///
/// Lines break only at spaces; words wider than the line are broken hard.
/// Runs of blank lines from hard breaks collapse to one and blank lines at the
/// edges are dropped, so a block never creates a double gap.
pub(super) fn wrap(pieces: &[Piece], width: usize) -> Vec<Vec<Span<'static>>> {
    let mut wrapper = Wrapper::new(width.max(1));
    for piece in pieces {
        match piece {
            Piece::Break => {
                wrapper.flush_word();
                wrapper.break_line();
            }
            Piece::Text(text, style) => {
                for (cluster, cells) in clusters(text) {
                    if cluster == " " {
                        wrapper.flush_word();
                        wrapper.spaces.push(*style);
                    } else {
                        wrapper.word.push((cluster, *style, cells));
                        wrapper.word_width += cells;
                    }
                }
            }
        }
    }
    wrapper.flush_word();
    wrapper.break_line();
    let mut lines: Vec<Vec<Span<'static>>> = Vec::new();
    for line in wrapper.lines {
        let blank = line.is_empty();
        let previous_blank = lines.last().is_none_or(Vec::is_empty);
        if !(blank && previous_blank) {
            lines.push(line);
        }
    }
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

/// The state of one wrap: finished lines, the line being filled, the spaces
/// seen since the last word and the word being collected.
struct Wrapper<'a> {
    width: usize,
    lines: Vec<Vec<Span<'static>>>,
    line: Vec<Span<'static>>,
    line_width: usize,
    /// Pending spaces (with their styles, so underlined links stay
    /// continuous); dropped when the line wraps there.
    spaces: Vec<Style>,
    word: Vec<(&'a str, Style, usize)>,
    word_width: usize,
}

impl<'a> Wrapper<'a> {
    fn new(width: usize) -> Wrapper<'a> {
        Wrapper {
            width,
            lines: Vec::new(),
            line: Vec::new(),
            line_width: 0,
            spaces: Vec::new(),
            word: Vec::new(),
            word_width: 0,
        }
    }

    fn break_line(&mut self) {
        self.lines.push(mem::take(&mut self.line));
        self.line_width = 0;
        self.spaces.clear();
    }

    fn push_cluster(&mut self, cluster: &str, style: Style, width: usize) {
        append(&mut self.line, cluster, style);
        self.line_width += width;
    }

    fn flush_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = mem::take(&mut self.word);
        let word_width = mem::take(&mut self.word_width);
        let spaces = mem::take(&mut self.spaces);
        if !self.line.is_empty() && self.line_width + spaces.len() + word_width <= self.width {
            for style in spaces {
                self.push_cluster(" ", style, 1);
            }
        } else if !self.line.is_empty() {
            self.break_line();
        }
        if self.line_width + word_width <= self.width {
            for (cluster, style, width) in word {
                self.push_cluster(cluster, style, width);
            }
            return;
        }
        // Wider than a whole line: break it wherever the line is full.
        for (cluster, style, width) in word {
            if self.line_width + width > self.width && !self.line.is_empty() {
                self.break_line();
            }
            if width > self.width {
                self.push_cluster("…", style, 1);
            } else {
                self.push_cluster(cluster, style, width);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    fn texts(lines: &[Vec<Span<'_>>]) -> Vec<String> {
        lines
            .iter()
            .map(|line| line.iter().map(|span| span.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wrap_collapses_blank_lines_and_drops_edge_ones() {
        let style = Style::new();
        let pieces = [
            Piece::Break,
            Piece::Text("a".to_owned(), style),
            Piece::Break,
            Piece::Break,
            Piece::Break,
            Piece::Text("b".to_owned(), style),
            Piece::Break,
            Piece::Break,
        ];
        assert_eq!(texts(&wrap(&pieces, 10)), ["a", "", "b"]);
    }

    #[test]
    fn wrap_merges_equal_styles_and_keeps_different_ones_apart() {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let pieces = [
            Piece::Text("one ".to_owned(), Style::new()),
            Piece::Text("two".to_owned(), Style::new()),
            Piece::Text(" three".to_owned(), bold),
        ];
        let lines = wrap(&pieces, 40);
        assert_eq!(lines.len(), 1);
        let spans: Vec<(&str, Style)> = lines[0]
            .iter()
            .map(|span| (span.content.as_ref(), span.style))
            .collect();
        assert_eq!(spans, [("one two", Style::new()), (" three", bold)]);
    }

    #[test]
    fn hard_breaks_fall_between_grapheme_clusters() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let pieces = [Piece::Text(
            format!("{family}{family}中e\u{301}"),
            Style::new(),
        )];
        assert_eq!(texts(&wrap(&pieces, 3)), [family, family, "中e\u{301}"]);
        assert_eq!(texts(&wrap(&pieces, 1)), ["…", "…", "…", "e\u{301}"]);
    }

    #[test]
    fn wrap_drops_spaces_at_wrap_points() {
        let pieces = [Piece::Text("aaa    bbb".to_owned(), Style::new())];
        assert_eq!(texts(&wrap(&pieces, 5)), ["aaa", "bbb"]);
        assert_eq!(texts(&wrap(&pieces, 10)), ["aaa    bbb"]);
    }
}
