//! Code and HTML blocks: text shown as written, never reflowed (code) or
//! wrapped without Markdown (HTML).

use ratatui::text::Span;

use super::inline::{Piece, has_content, sanitize_inline};
use super::line::truncate;
use super::renderer::Renderer;
use super::width::text_width;
use super::wrap::wrap;

/// The bar in front of every line of a code block.
const CODE_BAR: &str = "│ ";

/// `CODE_BAR`'s width in cells, not measured again for every line.
const CODE_BAR_WIDTH: usize = 2;

/// A code block whose text is being collected.
#[derive(Debug)]
pub(super) struct CodeBlock {
    pub(super) language: Option<String>,
    pub(super) text: String,
}

impl Renderer {
    pub(super) fn code_block(&mut self, code: CodeBlock) {
        let width = self.content_width();
        let dim = self.theme.dim();
        let style = self.theme.code();
        let mut lines = Vec::new();
        // Only lines that do not fit are measured again and cut.
        let fit = |body: Vec<Span<'static>>, cells: usize| {
            if cells <= width {
                body
            } else {
                truncate(body, width)
            }
        };
        if let Some(language) = &code.language {
            let cells = CODE_BAR_WIDTH + text_width(language);
            let body = vec![Span::styled(format!("{CODE_BAR}{language}"), dim)];
            lines.push(fit(body, cells));
        }
        let text = code.text.strip_suffix('\n').unwrap_or(&code.text);
        if !text.is_empty() || lines.is_empty() {
            for source in text.split('\n') {
                let source = sanitize_code(source);
                let cells = CODE_BAR_WIDTH + text_width(&source);
                let body = vec![Span::styled(CODE_BAR, dim), Span::styled(source, style)];
                lines.push(fit(body, cells));
            }
        }
        self.emit_block(lines);
    }

    pub(super) fn html_block(&mut self, html: &str) {
        let style = self.inline_style();
        let mut pieces = Vec::new();
        for (index, source) in html.trim_end_matches('\n').split('\n').enumerate() {
            if index > 0 {
                pieces.push(Piece::Break);
            }
            pieces.push(Piece::Text(sanitize_inline(source), style));
        }
        if has_content(&pieces) {
            let lines = wrap(&pieces, self.content_width());
            self.emit_block(lines);
        }
    }
}

/// A line of code with tabs expanded to four spaces and controls replaced.
fn sanitize_code(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\t' => clean.push_str("    "),
            '\r' => {}
            ch if ch.is_control() => clean.push('\u{FFFD}'),
            ch => clean.push(ch),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_width_matches_the_bar() {
        assert_eq!(text_width(CODE_BAR), CODE_BAR_WIDTH);
    }

    #[test]
    fn sanitising_replaces_controls() {
        assert_eq!(sanitize_code("\tx\r\u{7}"), "    x\u{fffd}");
    }
}
