//! Word wrapping of inline pieces to the column.
//!
//! Wrapping is most of the work of rendering an answer, so it works on
//! slices of the pieces' text rather than cluster by cluster: a word is a
//! few slices (one per style it spans), printable ASCII text (nearly all
//! of an answer) is split at spaces without consulting the Unicode tables,
//! and the line being filled is one reused buffer that becomes exactly
//! sized spans when the line is done.

use std::mem;

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::inline::Piece;
use super::width::{ELLIPSIS, clusters, is_plain_ascii};

/// The most bytes reserved up front for a line's text.
const MAX_RESERVED: usize = 512;

/// Word-wraps inline pieces to `width` cells (at least 1).
///
/// Lines break only at spaces; words wider than the line are broken hard,
/// between grapheme clusters. Runs of blank lines from hard breaks collapse
/// to one and blank lines at the edges are dropped, so a block never
/// creates a double gap.
pub(super) fn wrap(pieces: &[Piece], width: usize) -> Vec<Vec<Span<'static>>> {
    let mut wrapper = Wrapper::new(width.max(1));
    for piece in pieces {
        match piece {
            Piece::Break => {
                wrapper.flush_word();
                wrapper.break_line();
            }
            Piece::Text(text, style) => wrapper.text(text, *style),
        }
    }
    wrapper.flush_word();
    wrapper.break_line();
    let mut lines = wrapper.lines;
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
    /// The text of the line being filled, reused from line to line.
    text: String,
    /// Where each run of one style ends in `text`, with its style: the
    /// line's spans-to-be, equal styles already merged.
    runs: Vec<(usize, Style)>,
    line_width: usize,
    /// Pending spaces (with their styles, so underlined links stay
    /// continuous); dropped when the line wraps there.
    spaces: Vec<Style>,
    /// The word being collected: a slice of text per style, with widths.
    word: Vec<(&'a str, Style, usize)>,
    word_width: usize,
}

impl<'a> Wrapper<'a> {
    fn new(width: usize) -> Wrapper<'a> {
        Wrapper {
            width,
            lines: Vec::new(),
            // Room for a line of ASCII, so the buffer rarely grows.
            text: String::with_capacity(width.min(MAX_RESERVED)),
            runs: Vec::new(),
            line_width: 0,
            spaces: Vec::new(),
            word: Vec::new(),
            word_width: 0,
        }
    }

    /// Takes a piece of text: a space ends the word being collected, any
    /// other cluster belongs to it.
    fn text(&mut self, text: &'a str, style: Style) {
        if is_plain_ascii(text) {
            // Every byte is a one-cell cluster: split at spaces directly.
            let mut rest = text;
            while !rest.is_empty() {
                let word_end = rest.find(' ').unwrap_or(rest.len());
                let (word, after) = rest.split_at(word_end);
                if !word.is_empty() {
                    self.word_part(word, style, word.len());
                }
                let spaces = after.len() - after.trim_start_matches(' ').len();
                for _ in 0..spaces {
                    self.flush_word();
                    self.spaces.push(style);
                }
                rest = after.get(spaces..).unwrap_or("");
            }
            return;
        }
        let mut part: Option<(usize, usize)> = None;
        for (index, cluster) in text.grapheme_indices(true) {
            if cluster == " " {
                if let Some((start, width)) = part.take() {
                    self.word_part(text.get(start..index).unwrap_or(""), style, width);
                }
                self.flush_word();
                self.spaces.push(style);
            } else {
                let (_, width) = part.get_or_insert((index, 0));
                *width += cluster.width();
            }
        }
        if let Some((start, width)) = part {
            self.word_part(text.get(start..).unwrap_or(""), style, width);
        }
    }

    fn word_part(&mut self, text: &'a str, style: Style, width: usize) {
        self.word.push((text, style, width));
        self.word_width += width;
    }

    /// Ends the line being filled, turning its runs into spans. A blank
    /// line (from hard breaks) is kept only after a line with text, so runs
    /// of them collapse to one and none leads.
    fn break_line(&mut self) {
        let mut spans = Vec::with_capacity(self.runs.len());
        let mut start = 0;
        for (end, style) in self.runs.drain(..) {
            let text = self.text.get(start..end).unwrap_or("");
            spans.push(Span::styled(text.to_owned(), style));
            start = end;
        }
        if !spans.is_empty() || self.lines.last().is_some_and(|line| !line.is_empty()) {
            self.lines.push(spans);
        }
        self.text.clear();
        self.line_width = 0;
        self.spaces.clear();
    }

    /// Adds text to the line, merged into the last run when the style is
    /// the same so lines stay a handful of spans.
    fn push(&mut self, text: &str, style: Style, width: usize) {
        self.text.push_str(text);
        match self.runs.last_mut() {
            Some((end, last)) if *last == style => *end = self.text.len(),
            _ => self.runs.push((self.text.len(), style)),
        }
        self.line_width += width;
    }

    fn flush_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        // The buffers are taken for the loops and put back, emptied, for
        // the next word.
        let mut spaces = mem::take(&mut self.spaces);
        let mut word = mem::take(&mut self.word);
        let line_empty = self.runs.is_empty();
        if !line_empty && self.line_width + spaces.len() + self.word_width <= self.width {
            for &style in &spaces {
                self.push(" ", style, 1);
            }
        } else if !line_empty {
            self.break_line();
        }
        if self.line_width + self.word_width <= self.width {
            for &(text, style, width) in &word {
                self.push(text, style, width);
            }
        } else {
            // Wider than a whole line: break it wherever the line is full.
            for &(text, style, _) in &word {
                for (cluster, width) in clusters(text) {
                    if self.line_width + width > self.width && !self.runs.is_empty() {
                        self.break_line();
                    }
                    if width > self.width {
                        self.push(ELLIPSIS, style, 1);
                    } else {
                        self.push(cluster, style, width);
                    }
                }
            }
        }
        spaces.clear();
        self.spaces = spaces;
        word.clear();
        self.word = word;
        self.word_width = 0;
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
