//! The client's colours and text attributes, in one place.
//!
//! The look is built for the lowest common denominator: the 16 named
//! terminal colours (which every terminal maps to its own palette, so they
//! stay readable on light and dark backgrounds) and nothing else. There is one
//! accent colour, dim for metadata, and green/yellow/red only for status.
//!
//! The client honours [NO_COLOR](https://no-color.org): when the variable is
//! set to a non-empty value no colour is emitted at all. Attributes (bold,
//! italic, underline, reverse, dim) remain, and status is carried by symbols
//! (✔ ⠋ ✖) that the screens draw next to coloured text anyway.

use ratatui::style::{Color, Modifier, Style};

/// How the client styles text: with the 16 named colours, or without any
/// colour at all (NO_COLOR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours may be used; attributes are used either way.
    pub color: bool,
}

impl Theme {
    /// The theme the environment asks for: colourless when `NO_COLOR` is set
    /// to a non-empty value (an empty value means "not set", per the
    /// convention), coloured otherwise.
    pub fn detect() -> Theme {
        Theme::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// The theme for a given value of `NO_COLOR`; separate from [`Theme::detect`]
    /// so the rule is testable without mutating the process environment.
    fn for_no_color(value: Option<&std::ffi::OsStr>) -> Theme {
        let no_color = value.is_some_and(|value| !value.is_empty());
        Theme { color: !no_color }
    }

    /// A theme without colours; also what tests use, so their expectations do
    /// not depend on the environment.
    pub const fn plain() -> Theme {
        Theme { color: false }
    }

    /// A theme with colours, regardless of the environment.
    pub const fn colored() -> Theme {
        Theme { color: true }
    }

    /// The single accent colour, for focus and emphasis.
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }

    /// The accent colour in bold, for titles and the most important text.
    pub fn accent_bold(&self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// De-emphasised text such as metadata, hints and decorations.
    ///
    /// Coloured themes use dark grey rather than the DIM attribute because
    /// several terminals ignore DIM; without colour, DIM is all there is.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// Success status (pair it with ✔ so it reads without colour).
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    /// In-progress or attention status (pair it with a symbol such as ⠋).
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Failure status (pair it with ✖).
    pub fn error(&self) -> Style {
        self.fg(Color::Red)
    }

    /// The selected row of a list. Reverse video works on every terminal and
    /// palette, with or without colour, so both modes use it.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// A block's border: the accent when the block has focus, dim otherwise.
    pub fn border(&self, focused: bool) -> Style {
        if focused { self.accent() } else { self.dim() }
    }

    /// Inline code and code blocks. Without colour it adds nothing, because
    /// the Markdown renderer already sets code apart with backticks or a bar.
    pub fn code(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// A Markdown heading of `level` (1 is the largest): always bold, in the
    /// accent colour for levels 1 and 2, and underlined for level 1 so the
    /// levels stay distinguishable without colour.
    pub fn heading(&self, level: u8) -> Style {
        let mut style = Style::new().add_modifier(Modifier::BOLD);
        if level <= 2 {
            style = style.patch(self.accent());
        }
        if level <= 1 {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        style
    }

    /// Link text: underlined (the part that reads without colour), in the
    /// accent colour when colours are allowed.
    pub fn link(&self) -> Style {
        self.accent().add_modifier(Modifier::UNDERLINED)
    }

    /// Quoted text: italic and dim.
    pub fn quote(&self) -> Style {
        self.dim().add_modifier(Modifier::ITALIC)
    }

    /// A foreground colour, or nothing at all when colours are off.
    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every style the theme hands out, labelled for failure messages.
    fn all_styles(theme: &Theme) -> Vec<(String, Style)> {
        let mut styles = vec![
            ("accent".to_owned(), theme.accent()),
            ("accent_bold".to_owned(), theme.accent_bold()),
            ("dim".to_owned(), theme.dim()),
            ("ok".to_owned(), theme.ok()),
            ("warn".to_owned(), theme.warn()),
            ("error".to_owned(), theme.error()),
            ("selected".to_owned(), theme.selected()),
            ("border(true)".to_owned(), theme.border(true)),
            ("border(false)".to_owned(), theme.border(false)),
            ("code".to_owned(), theme.code()),
            ("link".to_owned(), theme.link()),
            ("quote".to_owned(), theme.quote()),
        ];
        for level in 0..=7 {
            styles.push((format!("heading({level})"), theme.heading(level)));
        }
        styles
    }

    /// The 16 colours every terminal has (plus "reset", which means "the
    /// terminal's default" and is therefore always safe).
    fn is_named(color: Color) -> bool {
        matches!(
            color,
            Color::Reset
                | Color::Black
                | Color::Red
                | Color::Green
                | Color::Yellow
                | Color::Blue
                | Color::Magenta
                | Color::Cyan
                | Color::Gray
                | Color::DarkGray
                | Color::LightRed
                | Color::LightGreen
                | Color::LightYellow
                | Color::LightBlue
                | Color::LightMagenta
                | Color::LightCyan
                | Color::White
        )
    }

    #[test]
    fn plain_uses_no_colour_at_all() {
        for (name, style) in all_styles(&Theme::plain()) {
            assert_eq!(style.fg, None, "{name} sets a foreground");
            assert_eq!(style.bg, None, "{name} sets a background");
            assert_eq!(
                style.underline_color, None,
                "{name} sets an underline colour"
            );
        }
    }

    #[test]
    fn colored_uses_only_the_sixteen_named_colours() {
        for (name, style) in all_styles(&Theme::colored()) {
            for color in [style.fg, style.bg, style.underline_color]
                .into_iter()
                .flatten()
            {
                assert!(is_named(color), "{name} uses {color:?}");
            }
        }
    }

    #[test]
    fn colored_theme_has_one_accent_and_status_colours() {
        let theme = Theme::colored();
        assert_eq!(theme.accent().fg, Some(Color::Cyan));
        assert_eq!(theme.border(true).fg, Some(Color::Cyan));
        assert_eq!(theme.border(false).fg, Some(Color::DarkGray));
        assert_eq!(theme.ok().fg, Some(Color::Green));
        assert_eq!(theme.warn().fg, Some(Color::Yellow));
        assert_eq!(theme.error().fg, Some(Color::Red));
        assert_eq!(theme.code().fg, Some(Color::Yellow));
        assert_eq!(theme.heading(1).fg, Some(Color::Cyan));
        assert_eq!(theme.heading(3).fg, None);
    }

    #[test]
    fn attributes_survive_without_colour() {
        let theme = Theme::plain();
        assert!(theme.dim().add_modifier.contains(Modifier::DIM));
        assert!(theme.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(theme.accent_bold().add_modifier.contains(Modifier::BOLD));
        assert!(theme.link().add_modifier.contains(Modifier::UNDERLINED));
        let quote = theme.quote().add_modifier;
        assert!(quote.contains(Modifier::ITALIC) && quote.contains(Modifier::DIM));
        assert!(theme.border(false).add_modifier.contains(Modifier::DIM));
        assert_eq!(theme.code(), Style::new());
    }

    #[test]
    fn headings_are_bold_and_level_one_is_underlined() {
        for theme in [Theme::plain(), Theme::colored()] {
            let h1 = theme.heading(1).add_modifier;
            assert!(h1.contains(Modifier::BOLD | Modifier::UNDERLINED));
            for level in 2..=6 {
                let modifiers = theme.heading(level).add_modifier;
                assert!(modifiers.contains(Modifier::BOLD), "level {level}");
                assert!(!modifiers.contains(Modifier::UNDERLINED), "level {level}");
            }
        }
    }

    #[test]
    fn selected_is_reversed_in_both_modes() {
        assert_eq!(Theme::plain().selected(), Theme::colored().selected());
    }

    #[test]
    fn no_color_rule() {
        use std::ffi::OsStr;
        assert!(Theme::for_no_color(None).color);
        assert!(Theme::for_no_color(Some(OsStr::new(""))).color);
        assert!(!Theme::for_no_color(Some(OsStr::new("1"))).color);
        assert!(!Theme::for_no_color(Some(OsStr::new("false"))).color);
    }

    #[test]
    fn constructors() {
        assert!(!Theme::plain().color);
        assert!(Theme::colored().color);
    }
}
