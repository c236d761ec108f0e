//! Code and HTML blocks: text shown as written, never reflowed (code) or
//! wrapped without Markdown (HTML).

use ratatui::text::Span;

use super::inline::{Piece, has_content, sanitize_inline};
use super::line::truncate;
use super::renderer::Renderer;
use super::wrap::wrap;

/// The bar in front of every line of a code block.
const CODE_BAR: &str = "│ ";

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
        if let Some(language) = &code.language {
            lines.push(truncate(
                vec![Span::styled(format!("{CODE_BAR}{language}"), dim)],
                width,
            ));
        }
        let text = code.text.strip_suffix('\n').unwrap_or(&code.text);
        if !text.is_empty() || lines.is_empty() {
            for source in text.split('\n') {
                let body = vec![
                    Span::styled(CODE_BAR, dim),
                    Span::styled(sanitize_code(source), style),
                ];
                lines.push(truncate(body, width));
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
    fn sanitising_replaces_controls() {
        assert_eq!(sanitize_code("\tx\r\u{7}"), "    x\u{fffd}");
    }
}
