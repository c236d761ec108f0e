//! The renderer's state and the dispatch of pulldown-cmark's events to the
//! block and inline handlers in the sibling modules.

use std::mem;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::code::CodeBlock;
use super::containers::{BULLETS, Container, Kind};
use super::inline::{OpenLink, Piece, sanitize_inline};
use super::shapes::ListShape;
use super::table::Table;
use crate::theme::Theme;

/// The state of one render.
pub(super) struct Renderer {
    pub(super) theme: Theme,
    pub(super) width: usize,
    pub(super) out: Vec<Line<'static>>,
    pub(super) stack: Vec<Container>,
    pub(super) next_id: usize,
    /// The containers around the last non-blank line written.
    pub(super) last_ids: Vec<usize>,
    /// Inline content of the current paragraph, heading or table cell.
    pub(super) pieces: Vec<Piece>,
    /// Inline styles (emphasis, links, …) currently open.
    pub(super) styles: Vec<Style>,
    /// The style of the current leaf block (headings).
    pub(super) block_style: Style,
    pub(super) links: Vec<OpenLink>,
    /// For each open image, the index of its opening piece.
    pub(super) images: Vec<usize>,
    pub(super) code: Option<CodeBlock>,
    pub(super) html: Option<String>,
    pub(super) table: Option<Table>,
    /// A buffer reused to measure each finished line as a whole.
    pub(super) scratch: String,
}

impl Renderer {
    pub(super) fn new(theme: Theme, width: usize) -> Renderer {
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
            scratch: String::new(),
        }
    }

    pub(super) fn finish(mut self) -> Vec<Line<'static>> {
        self.flush_inline();
        self.out
    }

    pub(super) fn event(&mut self, event: &Event<'_>, shape: Option<ListShape>) {
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
