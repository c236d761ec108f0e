//! Containers (block quotes, lists, list items) and the output of lines:
//! each line gets the prefixes of the containers around it, and blocks are
//! separated by one blank line unless they share a tight list.

use std::mem;

use ratatui::text::Span;

use super::line::{finish_line, keep_last_cells};
use super::renderer::Renderer;
use super::width::text_width;

/// The most cells container prefixes may take away from the text: deeper
/// nesting cuts the prefixes rather than squeezing the text to nothing.
const MIN_TEXT_WIDTH: usize = 8;

/// Bullets by nesting depth; deeper lists keep the last one.
pub(super) const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];

/// The bar in front of every line of a block quote.
const QUOTE_BAR: &str = "▌ ";

/// `QUOTE_BAR`'s width in cells, not measured again for every line.
const QUOTE_BAR_WIDTH: usize = 2;

/// Spaces for hanging indents, borrowed rather than allocated per line.
const SPACES: &str = "                                ";

/// `width` spaces as a span, borrowed from `SPACES` when it is long enough.
fn spaces(width: usize) -> Span<'static> {
    match SPACES.get(..width) {
        Some(spaces) => Span::raw(spaces),
        None => Span::raw(" ".repeat(width)),
    }
}

/// A block that contains other blocks and prefixes their lines.
#[derive(Debug)]
pub(super) struct Container {
    /// Unique per render, so the blank-line logic can tell whether two lines
    /// share a container.
    pub(super) id: usize,
    pub(super) kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    Quote,
    List {
        tight: bool,
        /// The next item's number, for ordered lists.
        next: Option<u64>,
        /// Digits of the largest number, to right-align the numbers.
        number_width: usize,
        bullet: &'static str,
    },
    Item {
        tight: bool,
        /// The marker, until it is shown (then it moves into the line).
        marker: String,
        /// The marker's width in cells, kept for the hanging indent.
        marker_width: usize,
        /// Whether the marker has been shown; later lines get spaces instead
        /// (the hanging indent).
        used: bool,
    },
}

impl Renderer {
    pub(super) fn push_container(&mut self, kind: Kind) {
        self.stack.push(Container {
            id: self.next_id,
            kind,
        });
        self.next_id += 1;
    }

    pub(super) fn open_item(&mut self) {
        let mut tight = true;
        let mut marker = BULLETS[0].to_owned();
        if let Some(Container {
            kind:
                Kind::List {
                    tight: list_tight,
                    next,
                    number_width,
                    bullet,
                },
            ..
        }) = self.stack.last_mut()
        {
            tight = *list_tight;
            marker = match next {
                Some(number) => {
                    let marker = format!("{number:>width$}. ", width = *number_width);
                    *next = Some(number.saturating_add(1));
                    marker
                }
                None => (*bullet).to_owned(),
            };
        }
        let marker_width = text_width(&marker);
        self.push_container(Kind::Item {
            tight,
            marker,
            marker_width,
            used: false,
        });
    }

    pub(super) fn close_item(&mut self) {
        // An empty item still shows its marker, or the list would look short.
        if let Some(Container {
            kind: Kind::Item { used: false, .. },
            ..
        }) = self.stack.last()
        {
            self.emit_block(vec![Vec::new()]);
        }
        self.stack.pop();
    }

    fn prefix_width(&self) -> usize {
        self.stack
            .iter()
            .map(|container| match &container.kind {
                Kind::Quote => QUOTE_BAR_WIDTH,
                Kind::List { .. } => 0,
                Kind::Item { marker_width, .. } => *marker_width,
            })
            .sum()
    }

    /// The cells left for a block's own content inside the current
    /// containers.
    pub(super) fn content_width(&self) -> usize {
        let floor = (self.width / 2).clamp(1, MIN_TEXT_WIDTH);
        self.width.saturating_sub(self.prefix_width()).max(floor)
    }

    /// The prefix of the outermost `depth` containers, and its width. With
    /// `consume`, an item's marker is shown once and then turns into spaces.
    fn prefix(&mut self, depth: usize, consume: bool) -> (Vec<Span<'static>>, usize) {
        let dim = self.theme.dim();
        let mut spans = Vec::new();
        let mut width = 0;
        for container in self.stack.iter_mut().take(depth) {
            match &mut container.kind {
                Kind::Quote => {
                    spans.push(Span::styled(QUOTE_BAR, dim));
                    width += QUOTE_BAR_WIDTH;
                }
                Kind::List { .. } => {}
                Kind::Item {
                    marker,
                    marker_width,
                    used,
                    ..
                } => {
                    if consume && !*used {
                        *used = true;
                        spans.push(Span::raw(mem::take(marker)));
                    } else {
                        spans.push(spaces(*marker_width));
                    }
                    width += *marker_width;
                }
            }
        }
        (spans, width)
    }

    // ---- output ---------------------------------------------------------

    /// Writes a block's lines, separated from the previous block by one
    /// blank line unless both sit in the same tight list.
    pub(super) fn emit_block(&mut self, lines: Vec<Vec<Span<'static>>>) {
        if lines.is_empty() {
            return;
        }
        self.separate();
        for body in lines {
            self.push_line(body, self.stack.len(), true);
        }
    }

    fn separate(&mut self) {
        if self.out.is_empty() {
            return;
        }
        let common = self
            .stack
            .iter()
            .zip(&self.last_ids)
            .take_while(|(container, id)| container.id == **id)
            .count();
        let tight = common
            .checked_sub(1)
            .and_then(|innermost| self.stack.get(innermost))
            .is_some_and(|container| {
                matches!(
                    container.kind,
                    Kind::List { tight: true, .. } | Kind::Item { tight: true, .. }
                )
            });
        if !tight {
            // Quote bars the two blocks share continue through the gap.
            self.push_line(Vec::new(), common, false);
        }
    }

    pub(super) fn push_line(&mut self, body: Vec<Span<'static>>, depth: usize, content: bool) {
        let budget = self.width.saturating_sub(self.content_width());
        let (prefix, prefix_width) = self.prefix(depth, content);
        let spans = if prefix.is_empty() {
            body
        } else {
            let mut spans = if prefix_width <= budget {
                prefix
            } else {
                keep_last_cells(prefix, budget)
            };
            spans.extend(body);
            spans
        };
        self.out
            .push(finish_line(spans, self.width, &mut self.scratch));
        if content {
            self.last_ids.clear();
            self.last_ids
                .extend(self.stack.iter().map(|container| container.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_widths_match_their_text() {
        assert_eq!(text_width(QUOTE_BAR), QUOTE_BAR_WIDTH);
        assert!(SPACES.bytes().all(|byte| byte == b' '));
        assert_eq!(spaces(3).content, "   ");
        assert_eq!(spaces(SPACES.len() + 2).content.len(), SPACES.len() + 2);
    }
}
