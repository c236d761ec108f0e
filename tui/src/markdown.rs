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
//! * **Wrapping.** Text breaks only at spaces; a word that fits on a line is
//!   never split, and a word wider than the column starts a fresh line and is
//!   broken hard, character by character. Spaces at a wrap point are dropped.
//!   Styles follow the text across wrapped pieces.
//! * **Blocks** are separated by exactly one blank line (blank apart from
//!   enclosing quote bars); the output never starts or ends with one. Items of
//!   a tight list, and the blocks inside them, are not separated.
//! * **Code** is never reflowed: lines too wide are truncated with `…`.
//! * **Controls.** Control characters in the input are replaced by `�` so an
//!   answer can never send escape sequences to the terminal.

use std::mem;

use pulldown_cmark::{
    Alignment, CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::theme::Theme;

/// The most cells container prefixes may take away from the text: deeper
/// nesting cuts the prefixes rather than squeezing the text to nothing.
const MIN_TEXT_WIDTH: usize = 8;

/// Bullets by nesting depth; deeper lists keep the last one.
const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];

/// The bar in front of every line of a block quote.
const QUOTE_BAR: &str = "▌ ";

/// The bar in front of every line of a code block.
const CODE_BAR: &str = "│ ";

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

/// A run of inline content waiting to be wrapped.
#[derive(Debug, Clone)]
enum Piece {
    /// Text in one style (already free of control characters).
    Text(String, Style),
    /// A hard line break.
    Break,
}

/// What the renderer needs to know about a list before its first item:
/// how many items it has (to align the numbers) and whether it is tight.
#[derive(Debug, Clone, Copy)]
struct ListShape {
    items: u64,
    tight: bool,
}

/// Finds the shape of every list, indexed by its `Start(List)` event, in one
/// pass (a scan per list would be quadratic in the nesting depth).
fn list_shapes(events: &[Event<'_>]) -> Vec<Option<ListShape>> {
    /// The kind of an open tag, as far as list shapes care.
    enum Open {
        List(usize),
        Item,
        Other,
    }
    let mut shapes: Vec<Option<ListShape>> = vec![None; events.len()];
    let mut open: Vec<Open> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(tag) => {
                match tag {
                    Tag::Item => {
                        if let Some(Open::List(list)) = open.last()
                            && let Some(Some(shape)) = shapes.get_mut(*list)
                        {
                            shape.items = shape.items.saturating_add(1);
                        }
                    }
                    Tag::Paragraph => {
                        // A paragraph directly inside an item is what makes a
                        // list loose; tight items hold their text bare.
                        if let [.., Open::List(list), Open::Item] = open.as_slice()
                            && let Some(Some(shape)) = shapes.get_mut(*list)
                        {
                            shape.tight = false;
                        }
                    }
                    _ => {}
                }
                open.push(match tag {
                    Tag::List(_) => {
                        if let Some(slot) = shapes.get_mut(index) {
                            *slot = Some(ListShape {
                                items: 0,
                                tight: true,
                            });
                        }
                        Open::List(index)
                    }
                    Tag::Item => Open::Item,
                    _ => Open::Other,
                });
            }
            Event::End(_) => {
                open.pop();
            }
            _ => {}
        }
    }
    shapes
}

/// A block that contains other blocks and prefixes their lines.
#[derive(Debug)]
struct Container {
    /// Unique per render, so the blank-line logic can tell whether two lines
    /// share a container.
    id: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
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
        marker: String,
        /// Whether the marker has been shown; later lines get spaces instead
        /// (the hanging indent).
        used: bool,
    },
}

/// A link whose text is being collected.
#[derive(Debug)]
struct OpenLink {
    url: String,
    first_piece: usize,
    email: bool,
}

/// A code block whose text is being collected.
#[derive(Debug)]
struct CodeBlock {
    language: Option<String>,
    text: String,
}

/// A table whose cells are being collected.
#[derive(Debug, Default)]
struct Table {
    alignments: Vec<Alignment>,
    head: Vec<Vec<Piece>>,
    rows: Vec<Vec<Vec<Piece>>>,
    row: Vec<Vec<Piece>>,
}

/// The state of one render.
struct Renderer {
    theme: Theme,
    width: usize,
    out: Vec<Line<'static>>,
    stack: Vec<Container>,
    next_id: usize,
    /// The containers around the last non-blank line written.
    last_ids: Vec<usize>,
    /// Inline content of the current paragraph, heading or table cell.
    pieces: Vec<Piece>,
    /// Inline styles (emphasis, links, …) currently open.
    styles: Vec<Style>,
    /// The style of the current leaf block (headings).
    block_style: Style,
    links: Vec<OpenLink>,
    /// For each open image, the index of its opening piece.
    images: Vec<usize>,
    code: Option<CodeBlock>,
    html: Option<String>,
    table: Option<Table>,
}

impl Renderer {
    fn new(theme: Theme, width: usize) -> Renderer {
        Renderer {
            theme,
            width,
            out: Vec::new(),
            stack: Vec::new(),
            next_id: 0,
            last_ids: Vec::new(),
            pieces: Vec::new(),
            styles: Vec::new(),
            block_style: Style::new(),
            links: Vec::new(),
            images: Vec::new(),
            code: None,
            html: None,
            table: None,
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.flush_inline();
        self.out
    }

    fn event(&mut self, event: &Event<'_>, shape: Option<ListShape>) {
        match event {
            Event::Start(tag) => self.start(tag, shape),
            Event::End(tag) => self.end(*tag),
            Event::Text(text) => {
                if let Some(code) = &mut self.code {
                    code.text.push_str(text);
                } else if let Some(html) = &mut self.html {
                    html.push_str(text);
                } else {
                    self.push_text(text);
                }
            }
            Event::Code(code) => {
                // The backticks stay so code reads as code without colour.
                let style = self.inline_style().patch(self.theme.code());
                self.push_piece(format!("`{}`", sanitize_inline(code)), style);
            }
            Event::Html(html) => {
                if let Some(buffer) = &mut self.html {
                    buffer.push_str(html);
                } else {
                    self.push_text(html);
                }
            }
            Event::InlineHtml(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                self.push_text(text);
            }
            Event::FootnoteReference(label) => self.push_text(&format!("[^{label}]")),
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.pieces.push(Piece::Break),
            Event::Rule => {
                self.flush_inline();
                let rule = "─".repeat(self.content_width());
                self.emit_block(vec![vec![Span::styled(rule, self.theme.dim())]]);
            }
            Event::TaskListMarker(done) => self.task_marker(*done),
        }
    }

    fn start(&mut self, tag: &Tag<'_>, shape: Option<ListShape>) {
        match tag {
            Tag::Paragraph
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.flush_inline(),
            Tag::Heading { level, .. } => {
                self.flush_inline();
                self.block_style = self.theme.heading(heading_number(*level));
            }
            Tag::BlockQuote(_) => {
                self.flush_inline();
                self.push_container(Kind::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.flush_inline();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .find(|word| !word.is_empty())
                        .map(sanitize_inline),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some(CodeBlock {
                    language,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.flush_inline();
                self.html = Some(String::new());
            }
            Tag::List(start) => {
                self.flush_inline();
                let shape = shape.unwrap_or(ListShape {
                    items: 1,
                    tight: true,
                });
                let depth = self
                    .stack
                    .iter()
                    .filter(|container| matches!(container.kind, Kind::List { .. }))
                    .count();
                let number_width = start.map_or(0, |first| {
                    let last = first.saturating_add(shape.items.saturating_sub(1));
                    last.to_string().len()
                });
                self.push_container(Kind::List {
                    tight: shape.tight,
                    next: *start,
                    number_width,
                    bullet: BULLETS.get(depth).copied().unwrap_or("▪ "),
                });
            }
            Tag::Item => {
                self.flush_inline();
                self.open_item();
            }
            Tag::Table(alignments) => {
                self.flush_inline();
                self.table = Some(Table {
                    alignments: alignments.clone(),
                    ..Table::default()
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.row.clear();
                }
            }
            Tag::TableCell => self.pieces.clear(),
            Tag::Emphasis => self
                .styles
                .push(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.styles.push(Style::new().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self
                .styles
                .push(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Superscript | Tag::Subscript => self.styles.push(Style::new()),
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => {
                self.links.push(OpenLink {
                    url: sanitize_inline(dest_url),
                    first_piece: self.pieces.len(),
                    email: matches!(link_type, LinkType::Email),
                });
                self.styles.push(self.theme.link());
            }
            Tag::Image { .. } => {
                self.styles.push(self.theme.dim());
                self.images.push(self.pieces.len());
                self.push_piece("[image: ".to_owned(), self.inline_style());
            }
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => self.flush_inline(),
            TagEnd::Heading(_) => {
                self.flush_inline();
                self.block_style = Style::new();
            }
            TagEnd::BlockQuote(_) | TagEnd::List(_) => {
                self.flush_inline();
                self.stack.pop();
            }
            TagEnd::Item => {
                self.flush_inline();
                self.close_item();
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.code_block(code);
                }
            }
            TagEnd::HtmlBlock => {
                if let Some(html) = self.html.take() {
                    self.html_block(&html);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.table_block(table);
                }
            }
            TagEnd::TableHead => {
                if let Some(table) = &mut self.table {
                    table.head = mem::take(&mut table.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(table) = &mut self.table {
                    let row = mem::take(&mut table.row);
                    table.rows.push(row);
                }
            }
            TagEnd::TableCell => {
                let cell = mem::take(&mut self.pieces);
                if let Some(table) = &mut self.table {
                    table.row.push(cell);
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                self.close_link();
            }
            TagEnd::Image => {
                // Closed before popping the style so `]` is dim like `[image: `.
                self.close_image();
                self.styles.pop();
            }
        }
    }

    // ---- inline content -------------------------------------------------

    /// The style for inline text here: the quote look inside quotes, then
    /// the block's own style (headings), then open emphasis, links, ….
    fn inline_style(&self) -> Style {
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

    fn push_text(&mut self, text: &str) {
        self.push_piece(sanitize_inline(text), self.inline_style());
    }

    fn push_piece(&mut self, text: String, style: Style) {
        if !text.is_empty() {
            self.pieces.push(Piece::Text(text, style));
        }
    }

    fn close_link(&mut self) {
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

    fn close_image(&mut self) {
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

    fn task_marker(&mut self, done: bool) {
        let mark = if done { "[x] " } else { "[ ] " };
        // Before any text of the item the box joins the item's marker, so the
        // item's continuation lines hang below the text, not below the box.
        if self.pieces.is_empty()
            && let Some(Container {
                kind:
                    Kind::Item {
                        marker,
                        used: false,
                        ..
                    },
                ..
            }) = self.stack.last_mut()
        {
            marker.push_str(mark);
            return;
        }
        self.push_text(mark);
    }

    /// Lays out the pending inline content as one block (a paragraph, a
    /// heading or the bare text of a tight list item).
    fn flush_inline(&mut self) {
        let pieces = mem::take(&mut self.pieces);
        if has_content(&pieces) {
            let lines = wrap(&pieces, self.content_width());
            self.emit_block(lines);
        }
    }

    // ---- containers -----------------------------------------------------

    fn push_container(&mut self, kind: Kind) {
        self.stack.push(Container {
            id: self.next_id,
            kind,
        });
        self.next_id += 1;
    }

    fn open_item(&mut self) {
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
        self.push_container(Kind::Item {
            tight,
            marker,
            used: false,
        });
    }

    fn close_item(&mut self) {
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
                Kind::Quote => text_width(QUOTE_BAR),
                Kind::List { .. } => 0,
                Kind::Item { marker, .. } => text_width(marker),
            })
            .sum()
    }

    /// The cells left for a block's own content inside the current
    /// containers.
    fn content_width(&self) -> usize {
        let floor = (self.width / 2).clamp(1, MIN_TEXT_WIDTH);
        self.width.saturating_sub(self.prefix_width()).max(floor)
    }

    /// The prefix of the outermost `depth` containers. With `consume`, an
    /// item's marker is shown once and then turns into spaces.
    fn prefix(&mut self, depth: usize, consume: bool) -> Vec<Span<'static>> {
        let dim = self.theme.dim();
        let mut spans = Vec::new();
        for container in self.stack.iter_mut().take(depth) {
            match &mut container.kind {
                Kind::Quote => spans.push(Span::styled(QUOTE_BAR, dim)),
                Kind::List { .. } => {}
                Kind::Item { marker, used, .. } => {
                    if consume && !*used {
                        *used = true;
                        spans.push(Span::raw(marker.clone()));
                    } else {
                        spans.push(Span::raw(" ".repeat(text_width(marker))));
                    }
                }
            }
        }
        spans
    }

    // ---- output ---------------------------------------------------------

    /// Writes a block's lines, separated from the previous block by one
    /// blank line unless both sit in the same tight list.
    fn emit_block(&mut self, lines: Vec<Vec<Span<'static>>>) {
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

    fn push_line(&mut self, body: Vec<Span<'static>>, depth: usize, content: bool) {
        let budget = self.width.saturating_sub(self.content_width());
        let mut spans = keep_last_cells(self.prefix(depth, content), budget);
        spans.extend(body);
        self.out.push(finish_line(spans, self.width));
        if content {
            self.last_ids = self.stack.iter().map(|container| container.id).collect();
        }
    }

    // ---- leaf blocks ----------------------------------------------------

    fn code_block(&mut self, code: CodeBlock) {
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

    fn html_block(&mut self, html: &str) {
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

    fn table_block(&mut self, table: Table) {
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

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

// ---- text measuring and cleaning ----------------------------------------

/// Splits text into clusters that must stay together: a character plus the
/// zero-width characters after it (combining marks, variation selectors) and
/// anything glued on by a zero-width joiner, so emoji sequences are neither
/// split nor measured piecewise. Each cluster comes with its width.
fn clusters(text: &str) -> Vec<(&str, usize)> {
    let mut starts = Vec::new();
    let mut after_joiner = false;
    for (index, ch) in text.char_indices() {
        let extends = !starts.is_empty() && (after_joiner || ch.width() == Some(0));
        if !extends {
            starts.push(index);
        }
        after_joiner = ch == '\u{200D}';
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&start, end)| {
            let cluster = text.get(start..end).unwrap_or("");
            (cluster, cluster.width())
        })
        .collect()
}

fn text_width(text: &str) -> usize {
    clusters(text).iter().map(|(_, width)| width).sum()
}

fn pieces_width(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text, _) => text_width(text),
            Piece::Break => 1,
        })
        .sum()
}

fn pieces_to_spans(pieces: &[Piece]) -> Vec<Span<'static>> {
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
fn has_content(pieces: &[Piece]) -> bool {
    pieces.iter().any(|piece| match piece {
        Piece::Text(text, _) => !text.trim().is_empty(),
        Piece::Break => false,
    })
}

/// Inline text with whitespace controls turned into spaces and every other
/// control character made visible (and harmless) as `�`.
fn sanitize_inline(text: &str) -> String {
    text.chars()
        .map(|ch| match ch {
            '\t' | '\n' | '\r' => ' ',
            ch if ch.is_control() => '\u{FFFD}',
            ch => ch,
        })
        .collect()
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

// ---- line building --------------------------------------------------------

/// Appends text to a line, merging it into the last span when the style is
/// the same so lines stay a handful of spans.
fn append(line: &mut Vec<Span<'static>>, text: &str, style: Style) {
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
fn truncate(spans: Vec<Span<'static>>, max: usize) -> Vec<Span<'static>> {
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
fn keep_last_cells(mut spans: Vec<Span<'static>>, budget: usize) -> Vec<Span<'static>> {
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
fn finish_line(mut spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
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

// ---- wrapping -------------------------------------------------------------

/// Word-wraps inline pieces to `width` cells (at least 1).
///
/// Lines break only at spaces; words wider than the line are broken hard.
/// Runs of blank lines from hard breaks collapse to one and blank lines at the
/// edges are dropped, so a block never creates a double gap.
fn wrap(pieces: &[Piece], width: usize) -> Vec<Vec<Span<'static>>> {
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

    fn texts(lines: &[Vec<Span<'_>>]) -> Vec<String> {
        lines
            .iter()
            .map(|line| line.iter().map(|span| span.content.as_ref()).collect())
            .collect()
    }

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|span| span.content.as_ref()).collect()
    }

    #[test]
    fn clusters_keep_joined_sequences_together() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let input = format!("a{family}e\u{301}中");
        assert_eq!(
            clusters(&input),
            [("a", 1), (family, 2), ("e\u{301}", 1), ("中", 2)]
        );
        assert_eq!(text_width("❤\u{fe0f}"), 2);
        assert!(clusters("").is_empty());
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
    fn wrap_drops_spaces_at_wrap_points() {
        let pieces = [Piece::Text("aaa    bbb".to_owned(), Style::new())];
        assert_eq!(texts(&wrap(&pieces, 5)), ["aaa", "bbb"]);
        assert_eq!(texts(&wrap(&pieces, 10)), ["aaa    bbb"]);
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

    #[test]
    fn sanitising_replaces_controls() {
        assert_eq!(sanitize_inline("a\tb\nc\u{1b}"), "a b c\u{fffd}");
        assert_eq!(sanitize_code("\tx\r\u{7}"), "    x\u{fffd}");
    }

    #[test]
    fn list_shapes_count_items_and_detect_loose_lists() {
        let shapes = |markdown: &str| -> Vec<(u64, bool)> {
            let events: Vec<Event<'_>> = Parser::new(markdown).collect();
            list_shapes(&events)
                .into_iter()
                .flatten()
                .map(|shape| (shape.items, shape.tight))
                .collect()
        };
        assert_eq!(shapes("- a\n- b\n- c"), [(3, true)]);
        assert_eq!(shapes("- a\n\n- b"), [(2, false)]);
        assert_eq!(
            shapes("- a\n\n  b\n- c\n  - d\n  - e"),
            [(2, false), (2, true)]
        );
    }
}
