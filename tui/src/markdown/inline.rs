//! Inline content: styled pieces of text collected for the current leaf
//! block, links, images and task boxes, and the text clean-up that keeps
//! control characters away from the terminal.

use std::mem;

use ratatui::style::Style;
use ratatui::text::Span;

use super::containers::{Container, Kind};
use super::renderer::Renderer;
use super::width::{CHUNK, text_width};
use super::wrap::wrap;

/// A run of inline content waiting to be wrapped.
#[derive(Debug, Clone)]
pub(super) enum Piece {
    /// Text in one style (already free of control characters).
    Text(String, Style),
    /// A hard line break.
    Break,
}

/// A link whose text is being collected.
#[derive(Debug)]
pub(super) struct OpenLink {
    pub(super) url: String,
    pub(super) first_piece: usize,
    pub(super) email: bool,
}

impl Renderer {
    /// The style for inline text here: the quote look inside quotes, then
    /// the block's own style (headings), then open emphasis, links, ….
    pub(super) fn inline_style(&self) -> Style {
        let quoted = self
            .stack
            .iter()
            .any(|container| matches!(container.kind, Kind::Quote));
        let base = if quoted {
            self.theme.quote()
        } else {
            Style::new()
        };
        self.styles
            .iter()
            .fold(base.patch(self.block_style), |style, open| {
                style.patch(*open)
            })
    }

    pub(super) fn push_text(&mut self, text: &str) {
        self.push_piece(sanitize_inline(text), self.inline_style());
    }

    pub(super) fn push_piece(&mut self, text: String, style: Style) {
        if !text.is_empty() {
            self.pieces.push(Piece::Text(text, style));
        }
    }

    pub(super) fn close_link(&mut self) {
        let Some(link) = self.links.pop() else {
            return;
        };
        let text: String = self
            .pieces
            .get(link.first_piece..)
            .unwrap_or(&[])
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text, _) => Some(text.as_str()),
                Piece::Break => None,
            })
            .collect();
        // Autolinks already show their address, so repeating it is noise.
        if link.email || link.url.is_empty() || text == link.url {
            return;
        }
        let style = self.inline_style();
        self.push_piece(" ".to_owned(), style);
        self.push_piece(format!("({})", link.url), style.patch(self.theme.dim()));
    }

    pub(super) fn close_image(&mut self) {
        let Some(first) = self.images.pop() else {
            return;
        };
        let has_alt = self.pieces.get(first + 1..).is_some_and(has_content);
        if has_alt {
            self.push_piece("]".to_owned(), self.inline_style());
        } else if let Some(Piece::Text(text, _)) = self.pieces.get_mut(first) {
            "[image]".clone_into(text);
        }
    }

    pub(super) fn task_marker(&mut self, done: bool) {
        let mark = if done { "[x] " } else { "[ ] " };
        // Before any text of the item the box joins the item's marker, so the
        // item's continuation lines hang below the text, not below the box.
        if self.pieces.is_empty()
            && let Some(Container {
                kind:
                    Kind::Item {
                        marker,
                        marker_width,
                        used: false,
                        ..
                    },
                ..
            }) = self.stack.last_mut()
        {
            marker.push_str(mark);
            *marker_width += text_width(mark);
            return;
        }
        self.push_text(mark);
    }

    /// Lays out the pending inline content as one block (a paragraph, a
    /// heading or the bare text of a tight list item).
    pub(super) fn flush_inline(&mut self) {
        let pieces = mem::take(&mut self.pieces);
        if has_content(&pieces) {
            let lines = wrap(&pieces, self.content_width());
            self.emit_block(lines);
        }
    }
}

pub(super) fn pieces_width(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text, _) => text_width(text),
            Piece::Break => 1,
        })
        .sum()
}

pub(super) fn pieces_to_spans(pieces: &[Piece]) -> Vec<Span<'static>> {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text, style) => Span::styled(text.clone(), *style),
            // Grids have one line per row, so a break becomes a space.
            Piece::Break => Span::raw(" "),
        })
        .collect()
}

/// Whether the pieces hold anything visible.
pub(super) fn has_content(pieces: &[Piece]) -> bool {
    pieces.iter().any(|piece| match piece {
        Piece::Text(text, _) => !text.trim().is_empty(),
        Piece::Break => false,
    })
}

/// Inline text with whitespace controls turned into spaces and every other
/// control character made visible (and harmless) as `�`.
pub(super) fn sanitize_inline(text: &str) -> String {
    // Control characters are C0 (below 0x20), DEL and C1 (U+0080–U+009F,
    // encoded after a 0xC2 byte): text without those bytes, nearly all of
    // it, is copied as it is.
    let clean = text.as_bytes().chunks(CHUNK).all(|chunk| {
        // Without stopping inside a chunk, so this compiles to vector code.
        chunk.iter().fold(true, |clean, &byte| {
            clean & (byte >= 0x20) & (byte != 0x7f) & (byte != 0xc2)
        })
    });
    if clean {
        return text.to_owned();
    }
    text.chars()
        .map(|ch| match ch {
            '\t' | '\n' | '\r' => ' ',
            ch if ch.is_control() => '\u{FFFD}',
            ch => ch,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitising_replaces_controls() {
        assert_eq!(sanitize_inline("a\tb\nc\u{1b}"), "a b c\u{fffd}");
        // Past the first chunk, and C1 controls (after a 0xC2 byte), too.
        let long = "x".repeat(40);
        assert_eq!(
            sanitize_inline(&format!("{long}\u{7f}")),
            format!("{long}\u{fffd}")
        );
        assert_eq!(sanitize_inline("a\u{85}b\u{9b}"), "a\u{fffd}b\u{fffd}");
        // Other characters after a 0xC2 byte stay.
        assert_eq!(sanitize_inline("½ °C\u{a0}"), "½ °C\u{a0}");
    }
}
