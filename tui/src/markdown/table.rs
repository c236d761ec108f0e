//! Tables: aligned columns when they fit the column, otherwise one
//! `header: value` record per row.

use pulldown_cmark::Alignment;
use ratatui::style::Modifier;
use ratatui::text::Span;

use super::inline::{Piece, has_content, pieces_to_spans, pieces_width};
use super::renderer::Renderer;
use super::wrap::wrap;

/// A table whose cells are being collected.
#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) alignments: Vec<Alignment>,
    pub(super) head: Vec<Vec<Piece>>,
    pub(super) rows: Vec<Vec<Vec<Piece>>>,
    pub(super) row: Vec<Vec<Piece>>,
}

impl Renderer {
    pub(super) fn table_block(&mut self, table: Table) {
        let columns = table
            .rows
            .iter()
            .map(Vec::len)
            .chain([table.head.len()])
            .max()
            .unwrap_or(0);
        if columns == 0 {
            return;
        }
        let mut widths = vec![0; columns];
        for row in table.rows.iter().chain([&table.head]) {
            for (cell, width) in row.iter().zip(widths.iter_mut()) {
                *width = (*width).max(pieces_width(cell));
            }
        }
        let total = widths.iter().sum::<usize>() + 3 * (columns - 1);
        let available = self.content_width();
        let lines = if total <= available {
            self.table_grid(&table, &widths)
        } else {
            self.table_records(&table, available)
        };
        self.emit_block(lines);
    }

    /// The table as aligned columns.
    fn table_grid(&self, table: &Table, widths: &[usize]) -> Vec<Vec<Span<'static>>> {
        let dim = self.theme.dim();
        let row_line = |row: &[Vec<Piece>], bold: bool| {
            let mut spans = Vec::new();
            for (column, width) in widths.iter().enumerate() {
                if column > 0 {
                    spans.push(Span::styled(" │ ", dim));
                }
                let cell = row.get(column).map_or(&[][..], Vec::as_slice);
                let alignment = table
                    .alignments
                    .get(column)
                    .copied()
                    .unwrap_or(Alignment::None);
                let slack = width.saturating_sub(pieces_width(cell));
                let (left, right) = match alignment {
                    Alignment::Right => (slack, 0),
                    Alignment::Center => (slack / 2, slack - slack / 2),
                    Alignment::Left | Alignment::None => (0, slack),
                };
                if left > 0 {
                    spans.push(Span::raw(" ".repeat(left)));
                }
                for span in pieces_to_spans(cell) {
                    let style = if bold {
                        span.style.add_modifier(Modifier::BOLD)
                    } else {
                        span.style
                    };
                    spans.push(span.style(style));
                }
                if right > 0 {
                    spans.push(Span::raw(" ".repeat(right)));
                }
            }
            spans
        };
        let rule: Vec<String> = widths.iter().map(|width| "─".repeat(*width)).collect();
        let mut lines = vec![
            row_line(&table.head, true),
            vec![Span::styled(rule.join("─┼─"), dim)],
        ];
        lines.extend(table.rows.iter().map(|row| row_line(row, false)));
        lines
    }

    /// The table as records, one `header: value` line per cell, for columns
    /// too narrow for the grid.
    fn table_records(&self, table: &Table, width: usize) -> Vec<Vec<Span<'static>>> {
        let base = self.inline_style();
        let bold = |cell: &[Piece]| -> Vec<Piece> {
            cell.iter()
                .map(|piece| match piece {
                    Piece::Text(text, style) => {
                        Piece::Text(text.clone(), style.add_modifier(Modifier::BOLD))
                    }
                    Piece::Break => Piece::Break,
                })
                .collect()
        };
        let mut lines: Vec<Vec<Span<'static>>> = Vec::new();
        if table.rows.is_empty() {
            for cell in table.head.iter().filter(|cell| has_content(cell)) {
                lines.extend(wrap(&bold(cell), width));
            }
            return lines;
        }
        for row in &table.rows {
            let mut record = Vec::new();
            for (column, cell) in row.iter().enumerate() {
                let mut pieces = Vec::new();
                if let Some(header) = table.head.get(column).filter(|cell| has_content(cell)) {
                    pieces.extend(bold(header));
                    pieces.push(Piece::Text(": ".to_owned(), base));
                }
                pieces.extend(cell.iter().cloned());
                if has_content(&pieces) {
                    record.extend(wrap(&pieces, width));
                }
            }
            if record.is_empty() {
                continue;
            }
            if !lines.is_empty() {
                lines.push(Vec::new());
            }
            lines.extend(record);
        }
        lines
    }
}
