//! Markdown → styled, wrapped terminal lines, for showing model answers.
//!
//! The renderer walks pulldown-cmark's events and lays every block out for a
//! column of a fixed width, so the chat screen can cache the lines and only
//! needs to scroll them. Decisions worth knowing:
//!
//! * **Width.** No line is ever wider than `width` cells (measured with
//!   `unicode-width`, so CJK and most emoji count as 2). A width of 0 renders
//!   nothing at all: there is no column to draw into. Very small widths work
//!   but degrade: container prefixes (list markers, quote bars) are cut from
//!   the left so the text keeps at least `min(8, width / 2)` cells (1 at the
//!   very least), and a character wider than the whole column is shown as `…`.
//! * **Characters** are grapheme clusters (`unicode-segmentation`): an
//!   accented letter, an emoji with its skin tone or zero-width joiners, or a
//!   flag is measured as a whole and never split by a wrap or a cut.
//! * **Wrapping.** Text breaks only at spaces; a word that fits on a line is
//!   never split, and a word wider than the column starts a fresh line and is
//!   broken hard, between clusters. Spaces at a wrap point are dropped.
//!   Styles follow the text across wrapped pieces.
//! * **Blocks** are separated by exactly one blank line (blank apart from
//!   enclosing quote bars); the output never starts or ends with one. Items of
//!   a tight list, and the blocks inside them, are not separated.
//! * **Code** is never reflowed: lines too wide are truncated with `…`
//!   (`unicode-truncate`; [`crate::text::fit`] does the same for one string).
//! * **Controls.** Control characters in the input are replaced by `�` so an
//!   answer can never send escape sequences to the terminal.
//!
//! The modules follow the renderer's seams: `renderer` holds the state
//! and dispatches pulldown-cmark's events; `inline` collects styled text,
//! `containers` prefixes and separates blocks, `code` and `table` lay
//! out their blocks, `wrap` breaks inline text into lines, `line`
//! finishes and truncates lines and `width` measures text in cells.

mod code;
mod containers;
mod inline;
mod line;
mod renderer;
mod shapes;
mod table;
mod width;
mod wrap;

use pulldown_cmark::{Event, Options, Parser};
use ratatui::text::Line;

use crate::theme::Theme;
use renderer::Renderer;
use shapes::list_shapes;

/// Renders Markdown for a column `width` cells wide. Pure and deterministic.
///
/// No returned line is wider than `width` cells; a `width` of 0 yields no
/// lines. Headings, paragraphs, lists (bullet, ordered and task), code
/// blocks, block quotes, rules, tables, HTML and images are supported; see
/// the module documentation for how they are laid out.
pub fn render(markdown: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options).collect();
    let shapes = list_shapes(&events);
    let mut renderer = Renderer::new(*theme, usize::from(width));
    for (index, event) in events.iter().enumerate() {
        renderer.event(event, shapes.get(index).copied().flatten());
    }
    renderer.finish()
}
