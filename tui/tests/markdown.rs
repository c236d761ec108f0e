//! Tests of the Markdown renderer through its public API.

use council_tui::markdown::render;
use council_tui::theme::Theme;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use unicode_width::UnicodeWidthStr;

/// The text of a line, as a terminal would show it.
fn text(line: &Line<'_>) -> String {
    line.spans
        .iter()
        .map(|span| span.content.as_ref())
        .collect()
}

fn texts(lines: &[Line<'_>]) -> Vec<String> {
    lines.iter().map(text).collect()
}

/// Renders without colour and returns the lines' text.
fn plain(markdown: &str, width: u16) -> Vec<String> {
    texts(&render(markdown, width, &Theme::plain()))
}

/// The style of the first span whose text contains `needle`.
fn style_of(lines: &[Line<'_>], needle: &str) -> Style {
    lines
        .iter()
        .flat_map(|line| &line.spans)
        .find(|span| span.content.contains(needle))
        .map(|span| span.style)
        .unwrap_or_else(|| panic!("no span contains {needle:?} in {:?}", texts(lines)))
}

/// Empty apart from spaces (a line of other whitespace, such as a lone
/// no-break space from `&nbsp;`, is content as far as the renderer knows).
fn is_blank(line: &str) -> bool {
    line.trim_matches(' ').is_empty()
}

/// Checks the layout invariants every rendering must keep.
fn assert_well_formed(markdown: &str, width: u16, lines: &[Line<'_>]) {
    if width == 0 {
        assert!(lines.is_empty(), "width 0 rendered {markdown:?}");
        return;
    }
    let shown = texts(lines);
    for line in &shown {
        assert!(
            line.width() <= usize::from(width),
            "{line:?} is wider than {width} for {markdown:?}: {shown:#?}"
        );
    }
    // At width 1 even a list marker does not fit, so an empty item is blank.
    if width >= 2 {
        assert!(
            !shown.first().is_some_and(|line| is_blank(line)),
            "leading blank line for {markdown:?} at {width}: {shown:#?}"
        );
        assert!(
            !shown.last().is_some_and(|line| is_blank(line)),
            "trailing blank line for {markdown:?} at {width}: {shown:#?}"
        );
        for pair in shown.windows(2) {
            assert!(
                !(is_blank(&pair[0]) && is_blank(&pair[1])),
                "double blank line for {markdown:?} at {width}: {shown:#?}"
            );
        }
    }
}

// ---- headings and paragraphs --------------------------------------------------

#[test]
fn headings_show_their_text_without_hashes_in_heading_style() {
    let theme = Theme::colored();
    let lines = render("# Title\n\n## Second\n\n### Small", 40, &theme);
    assert_eq!(texts(&lines), ["Title", "", "Second", "", "Small"]);
    assert_eq!(style_of(&lines, "Title"), theme.heading(1));
    assert_eq!(style_of(&lines, "Second"), theme.heading(2));
    assert_eq!(style_of(&lines, "Small"), theme.heading(3));
    assert!(
        style_of(&lines, "Title")
            .add_modifier
            .contains(Modifier::UNDERLINED)
    );
}

#[test]
fn setext_headings_and_long_headings_wrap() {
    let lines = render("A heading long enough to wrap\n===", 12, &Theme::plain());
    assert_eq!(texts(&lines), ["A heading", "long enough", "to wrap"]);
    for line in &lines {
        for span in &line.spans {
            assert!(span.style.add_modifier.contains(Modifier::BOLD));
        }
    }
}

#[test]
fn inline_styles() {
    let theme = Theme::colored();
    let lines = render(
        "Some **bold** and *italic* and ~~gone~~ and `code` here.",
        80,
        &theme,
    );
    assert_eq!(
        texts(&lines),
        ["Some bold and italic and gone and `code` here."]
    );
    assert!(
        style_of(&lines, "bold")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert!(
        style_of(&lines, "italic")
            .add_modifier
            .contains(Modifier::ITALIC)
    );
    assert!(
        style_of(&lines, "gone")
            .add_modifier
            .contains(Modifier::CROSSED_OUT)
    );
    assert_eq!(style_of(&lines, "`code`"), theme.code());
    assert_eq!(style_of(&lines, "Some"), Style::new());
}

#[test]
fn nested_inline_styles_combine() {
    let lines = render("***both*** and **bold `code`**", 80, &Theme::colored());
    let both = style_of(&lines, "both").add_modifier;
    assert!(both.contains(Modifier::BOLD | Modifier::ITALIC));
    let code = style_of(&lines, "`code`");
    assert!(code.add_modifier.contains(Modifier::BOLD));
    assert_eq!(code.fg, Some(Color::Yellow));
}

#[test]
fn inline_code_keeps_its_backticks_without_colour() {
    let lines = render("run `cargo test` now", 80, &Theme::plain());
    assert_eq!(texts(&lines), ["run `cargo test` now"]);
    assert_eq!(style_of(&lines, "`cargo test`"), Style::new());
}

#[test]
fn links_show_their_address_unless_it_is_the_text() {
    let theme = Theme::colored();
    let lines = render(
        "See [the docs](https://docs.rs/x) or <https://example.com> or <me@example.com>.",
        100,
        &theme,
    );
    assert_eq!(
        texts(&lines),
        ["See the docs (https://docs.rs/x) or https://example.com or me@example.com."]
    );
    assert_eq!(style_of(&lines, "the docs"), theme.link());
    assert_eq!(style_of(&lines, "(https://docs.rs/x)"), theme.dim());
    assert_eq!(style_of(&lines, "https://example.com"), theme.link());
    // A link whose text is its address is not repeated either.
    assert_eq!(plain("[https://a.io](https://a.io)", 40), ["https://a.io"]);
}

#[test]
fn links_are_underlined_without_colour() {
    let lines = render("[here](https://x.io)", 40, &Theme::plain());
    let style = style_of(&lines, "here");
    assert!(style.add_modifier.contains(Modifier::UNDERLINED));
    assert_eq!(style.fg, None);
}

#[test]
fn soft_breaks_are_spaces_and_hard_breaks_are_new_lines() {
    assert_eq!(plain("one\ntwo", 40), ["one two"]);
    assert_eq!(plain("one  \ntwo", 40), ["one", "two"]);
    assert_eq!(plain("one\\\ntwo", 40), ["one", "two"]);
}

#[test]
fn images_show_their_alt_text() {
    assert_eq!(plain("![a cat](cat.png)", 40), ["[image: a cat]"]);
    assert_eq!(plain("see ![](x.png) here", 40), ["see [image] here"]);
    assert_eq!(
        plain("[![logo](l.png)](https://x.io)", 40),
        ["[image: logo] (https://x.io)"]
    );
}

#[test]
fn html_is_shown_as_raw_text() {
    assert_eq!(
        plain("<div>\n<b>hi</b>\n</div>", 40),
        ["<div>", "<b>hi</b>", "</div>"]
    );
    assert_eq!(plain("a <kbd>Ctrl</kbd> b", 40), ["a <kbd>Ctrl</kbd> b"]);
    assert_eq!(plain("<!--\n\n\n-->", 40), ["<!--", "", "-->"]);
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let lines = plain("a\u{1b}[31mred\u{7} and\u{9b}x", 40);
    assert_eq!(lines, ["a\u{fffd}[31mred\u{fffd} and\u{fffd}x"]);
    let code = plain("```\n\u{1b}[2J\r\n```", 40);
    assert_eq!(code, ["│ \u{fffd}[2J"]);
}

// ---- wrapping ---------------------------------------------------------------

const PROSE: &str = "The council deliberated for a long while about the question, \
    weighing every argument carefully before a representative answer emerged, \
    and even then some members disagreed with the conclusion reached.";

#[test]
fn wrapping_fills_lines_greedily_within_the_width() {
    let lines = plain(PROSE, 20);
    assert!(lines.len() > 5, "{lines:#?}");
    for line in &lines {
        assert!(line.width() <= 20, "{line:?}");
        assert_eq!(line.trim(), line, "no stray spaces at the edges");
    }
    // Greedy: the next line's first word would not have fitted.
    for pair in lines.windows(2) {
        let next_word = pair[1].split(' ').next().expect("lines are not empty");
        assert!(pair[0].width() + 1 + next_word.width() > 20, "{pair:?}");
    }
}

#[test]
fn wrapping_never_cuts_a_word_that_fits() {
    // "representative", the longest word, has 14 letters.
    for width in [14u16, 15, 20, 27, 40] {
        let lines = plain(PROSE, width);
        let words: Vec<&str> = lines.iter().flat_map(|line| line.split(' ')).collect();
        let expected: Vec<&str> = PROSE.split_whitespace().collect();
        assert_eq!(words, expected, "at width {width}");
    }
}

#[test]
fn long_words_are_broken_hard() {
    assert_eq!(
        plain("a supercalifragilisticexpialidocious word", 10),
        ["a", "supercalif", "ragilistic", "expialidoc", "ious word"]
    );
    let url = "https://example.com/a/very/long/path/that/never/ends";
    for line in plain(url, 12) {
        assert!(line.width() <= 12);
    }
}

#[test]
fn wide_characters_count_two_cells() {
    assert_eq!(plain("中文字符测试", 5), ["中文", "字符", "测试"]);
    assert_eq!(plain("中文字符测试", 4), ["中文", "字符", "测试"]);
    assert_eq!(plain("🎉🎉🎉", 4), ["🎉🎉", "🎉"]);
    assert_eq!(plain("ab 中文", 5), ["ab", "中文"]);
    // An emoji sequence joined by zero-width joiners stays whole.
    let family = "👨\u{200d}👩\u{200d}👧";
    assert_eq!(plain(&format!("{family} x"), 2), [family, "x"]);
    // Combining accents stay on their letter.
    assert_eq!(
        plain("e\u{301}e\u{301}e\u{301}", 2),
        ["e\u{301}e\u{301}", "e\u{301}"]
    );
    // A character wider than the whole column is replaced, not overflowed.
    assert_eq!(plain("中", 1), ["…"]);
}

#[test]
fn emoji_sequences_and_accents_are_never_split_by_a_hard_break() {
    let family = "👨\u{200d}👩\u{200d}👧";
    // A word of joined sequences wider than the column breaks between them.
    assert_eq!(
        plain(&format!("{family}{family}{family}"), 5),
        [format!("{family}{family}"), family.to_owned()]
    );
    // Skin tones stay on their emoji and a flag's letters stay together.
    assert_eq!(plain("👍🏽👍🏽👍🏽", 4), ["👍🏽👍🏽", "👍🏽"]);
    assert_eq!(plain("🇺🇸🇫🇷🇯🇵", 5), ["🇺🇸🇫🇷", "🇯🇵"]);
    // Stacked combining marks go with their letter.
    assert_eq!(
        plain("a\u{301}\u{323}b\u{301}\u{323}c", 2),
        ["a\u{301}\u{323}b\u{301}\u{323}", "c"]
    );
    // Mixed wide and narrow text fills lines up to the width, no further.
    assert_eq!(plain("ab中文cd字", 5), ["ab中", "文cd", "字"]);
}

#[test]
fn code_lines_are_cut_at_whole_wide_characters_and_sequences() {
    let family = "👨\u{200d}👩\u{200d}👧";
    // "│ " takes 2 cells; a wide character that would straddle the last
    // cell before `…` is left out whole.
    assert_eq!(plain("```\n中文字符测试\n```", 8), ["│ 中文…"]);
    assert_eq!(plain("```\n中文字符测试\n```", 9), ["│ 中文字…"]);
    let lines = plain(&format!("```\nab{family}{family}cd\n```"), 8);
    assert_eq!(lines, [format!("│ ab{family}…")]);
    assert_eq!(
        plain("```\ne\u{301}e\u{301}e\u{301}e\u{301}\n```", 5),
        ["│ e\u{301}e\u{301}…"]
    );
    for width in 1..12 {
        for line in plain(&format!("```\n中{family}e\u{301}👍🏽🇺🇸x\n```"), width) {
            assert!(line.width() <= usize::from(width), "{line:?} at {width}");
        }
    }
}

#[test]
fn styles_carry_across_wrapped_lines() {
    let lines = render(
        "plain **bold words that wrap across several lines** end",
        12,
        &Theme::plain(),
    );
    assert!(lines.len() >= 4);
    for line in &lines {
        for span in &line.spans {
            if ["plain", "end"].contains(&span.content.trim()) {
                assert!(!span.style.add_modifier.contains(Modifier::BOLD));
            } else {
                assert!(span.style.add_modifier.contains(Modifier::BOLD), "{span:?}");
            }
        }
    }
}

// ---- lists ------------------------------------------------------------------

#[test]
fn bullet_lists_nest_with_different_bullets() {
    assert_eq!(
        plain("- a\n  - b\n    - c\n      - d\n- e", 40),
        ["• a", "  ◦ b", "    ▪ c", "      ▪ d", "• e"]
    );
}

#[test]
fn ordered_lists_respect_the_start_number_and_align() {
    assert_eq!(plain("3. three\n4. four", 40), ["3. three", "4. four"]);
    assert_eq!(
        plain("9. nine\n1. ten\n1. eleven", 40),
        [" 9. nine", "10. ten", "11. eleven"]
    );
    assert_eq!(
        plain("1. one\n   - sub\n2. two", 40),
        ["1. one", "   ◦ sub", "2. two"]
    );
}

#[test]
fn list_items_hang_their_continuation_lines() {
    assert_eq!(
        plain("- alpha beta gamma delta", 13),
        ["• alpha beta", "  gamma delta"]
    );
    assert_eq!(
        plain("1. alpha beta gamma", 10),
        ["1. alpha", "   beta", "   gamma"]
    );
    assert_eq!(
        plain("- outer\n  - inner words wrap here", 14),
        ["• outer", "  ◦ inner", "    words wrap", "    here"]
    );
}

#[test]
fn task_lists_show_boxes() {
    assert_eq!(
        plain("- [x] done\n- [ ] still to do, with a long text", 20),
        [
            "• [x] done",
            "• [ ] still to do,",
            "      with a long",
            "      text"
        ]
    );
}

#[test]
fn loose_lists_separate_items_and_tight_ones_do_not() {
    assert_eq!(plain("- a\n- b", 40), ["• a", "• b"]);
    assert_eq!(plain("- a\n\n- b", 40), ["• a", "", "• b"]);
    assert_eq!(
        plain("- first\n\n  second paragraph\n- next", 40),
        ["• first", "", "  second paragraph", "", "• next"]
    );
    assert_eq!(
        plain("intro\n\n- a\n- b\n\nafter", 40),
        ["intro", "", "• a", "• b", "", "after"]
    );
}

#[test]
fn empty_items_still_show_their_marker() {
    assert_eq!(plain("- a\n-\n- c", 40), ["• a", "•", "• c"]);
}

#[test]
fn blocks_inside_items_are_indented() {
    assert_eq!(
        plain("- item\n\n  ```\n  code\n  ```\n\n  > quote", 40),
        ["• item", "", "  │ code", "", "  ▌ quote"]
    );
}

// ---- code blocks ----------------------------------------------------------------

#[test]
fn fenced_code_blocks_have_a_bar_and_a_language_line() {
    let theme = Theme::colored();
    let lines = render("```rust\nfn main() {\n\tlet x = 1;\n}\n```", 40, &theme);
    assert_eq!(
        texts(&lines),
        ["│ rust", "│ fn main() {", "│     let x = 1;", "│ }"]
    );
    assert_eq!(style_of(&lines, "rust"), theme.dim());
    assert_eq!(lines[1].spans[0].content, "│ ");
    assert_eq!(lines[1].spans[0].style, theme.dim());
    assert_eq!(style_of(&lines, "fn main"), theme.code());
}

#[test]
fn indented_code_blocks_have_no_language_line() {
    assert_eq!(
        plain("    indented\n    code", 40),
        ["│ indented", "│ code"]
    );
}

#[test]
fn code_is_truncated_not_wrapped() {
    let long = "let value = compute_something(with, many, arguments, here);";
    let lines = plain(&format!("```\n{long}\nshort\n```"), 20);
    assert_eq!(lines, ["│ let value = compu…", "│ short"]);
    assert_eq!(lines[0].width(), 20);
}

#[test]
fn code_keeps_blank_lines_and_indentation() {
    assert_eq!(plain("```\na\n\n    b\n```", 40), ["│ a", "│", "│     b"]);
}

#[test]
fn unclosed_fences_run_to_the_end() {
    assert_eq!(plain("```\ncode\nmore", 40), ["│ code", "│ more"]);
}

// ---- quotes, rules, tables ----------------------------------------------------

#[test]
fn block_quotes_have_a_bar_and_quote_style() {
    let theme = Theme::colored();
    let lines = render("> quoted text that wraps around", 16, &theme);
    assert_eq!(texts(&lines), ["▌ quoted text", "▌ that wraps", "▌ around"]);
    for line in &lines {
        assert_eq!(line.spans[0].content, "▌ ");
        assert_eq!(line.spans[0].style, theme.dim());
    }
    let style = style_of(&lines, "quoted");
    assert!(style.add_modifier.contains(Modifier::ITALIC));
    assert_eq!(style, theme.quote());
}

#[test]
fn quotes_nest_and_keep_their_bar_between_paragraphs() {
    assert_eq!(
        plain("> a\n>\n> b\n> > c", 40),
        ["▌ a", "▌", "▌ b", "▌", "▌ ▌ c"]
    );
}

#[test]
fn rules_span_the_width() {
    let lines = render("a\n\n---\n\nb", 10, &Theme::plain());
    assert_eq!(texts(&lines), ["a", "", "──────────", "", "b"]);
    assert!(lines[2].spans[0].style.add_modifier.contains(Modifier::DIM));
    assert_eq!(plain("> ***", 10), ["▌ ────────"]);
}

const TABLE: &str =
    "| Name | Age | City |\n|------|----:|:----:|\n| Alice | 30 | Paris |\n| Bob | 4 | NY |";

#[test]
fn tables_are_aligned_columns_with_a_bold_header() {
    let lines = render(TABLE, 40, &Theme::plain());
    assert_eq!(
        texts(&lines),
        [
            "Name  │ Age │ City",
            "──────┼─────┼──────",
            "Alice │  30 │ Paris",
            "Bob   │   4 │  NY",
        ]
    );
    assert!(
        style_of(&lines, "Name")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert!(
        !style_of(&lines, "Alice")
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn tables_too_wide_become_records() {
    assert_eq!(
        plain(TABLE, 12),
        [
            "Name: Alice",
            "Age: 30",
            "City: Paris",
            "",
            "Name: Bob",
            "Age: 4",
            "City: NY",
        ]
    );
    assert_eq!(
        plain(
            "| Key | Description |\n|---|---|\n| a | a long description here |",
            16
        ),
        ["Key: a", "Description: a", "long description", "here"]
    );
}

#[test]
fn tables_keep_inline_styles() {
    let lines = render("| a |\n|---|\n| `x` **y** |", 40, &Theme::colored());
    assert_eq!(texts(&lines), ["a", "─────", "`x` y"]);
    assert_eq!(style_of(&lines, "`x`"), Theme::colored().code());
    assert!(style_of(&lines, "y").add_modifier.contains(Modifier::BOLD));
}

// ---- blank lines and edge cases -------------------------------------------------

#[test]
fn blocks_are_separated_by_exactly_one_blank_line() {
    let markdown = "\n\n# Title\n\n\n\npara one\n\n\n- a\n- b\n\n```\nx\n```\n> q\n\n---\n\n\n";
    assert_eq!(
        plain(markdown, 20),
        [
            "Title",
            "",
            "para one",
            "",
            "• a",
            "• b",
            "",
            "│ x",
            "",
            "▌ q",
            "",
            "────────────────────",
        ]
    );
}

#[test]
fn empty_and_blank_input_render_nothing() {
    for markdown in ["", "\n", "   \n\n  ", "<!-- -->\n"] {
        let lines = plain(markdown, 40);
        assert!(
            lines.iter().all(|line| !is_blank(line)),
            "{markdown:?}: {lines:?}"
        );
    }
    assert!(plain("", 40).is_empty());
    assert!(plain("\n\n", 40).is_empty());
}

#[test]
fn width_zero_renders_nothing() {
    assert!(render("# hello\n\nworld", 0, &Theme::plain()).is_empty());
}

#[test]
fn tiny_widths_do_not_panic_or_overflow() {
    let markdown = format!(
        "# Heading\n\n{PROSE}\n\n- a\n  - b\n    - c\n\n> > quote\n\n```\ncode\n```\n\n{TABLE}\n\n中文 🎉"
    );
    for width in 0..=5 {
        let lines = render(&markdown, width, &Theme::plain());
        assert_well_formed(&markdown, width, &lines);
        if width > 0 {
            assert!(!lines.is_empty());
        }
    }
    assert_eq!(plain("hello", 1), ["h", "e", "l", "l", "o"]);
    assert_eq!(plain("- a", 2), ["•a"]);
}

#[test]
fn deep_nesting_keeps_room_for_the_text() {
    let markdown = format!("{}deep text here", "> ".repeat(30));
    let lines = plain(&markdown, 20);
    // The bars give way to eight cells of text.
    assert_eq!(
        lines,
        ["▌ ▌ ▌ ▌ ▌ ▌ deep", "▌ ▌ ▌ ▌ ▌ ▌ text", "▌ ▌ ▌ ▌ ▌ ▌ here"]
    );
}

#[test]
fn plain_theme_emits_no_colour() {
    let markdown = format!(
        "# H\n\n**b** *i* `c` [l](u)\n\n> q\n\n```rust\nx\n```\n\n---\n\n{TABLE}\n\n- [x] t"
    );
    for line in render(&markdown, 40, &Theme::plain()) {
        for span in &line.spans {
            assert_eq!(span.style.fg, None, "{span:?}");
            assert_eq!(span.style.bg, None, "{span:?}");
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let markdown = format!("# T\n\n{PROSE}\n\n{TABLE}");
    let theme = Theme::colored();
    assert_eq!(render(&markdown, 33, &theme), render(&markdown, 33, &theme));
}

// ---- property-style robustness ----------------------------------------------------

/// Inputs that have broken Markdown renderers before.
fn tricky_fragments() -> Vec<String> {
    let mut fragments: Vec<String> = [
        "```",
        "```rust\nfn x() {}",
        "~~~\nunclosed tilde",
        "````\n```\n````",
        "***",
        "* * *",
        "---",
        "___",
        "- - - -",
        "> > > > > > > > deep quote text",
        "- a\n  - b\n    - c\n      - d\n        - e\n          - f\n            - g\n              - h",
        "1. a\n   1. b\n      1. c\n         1. d",
        "> - a\n>   > - b\n>   >   ```\n>   >   code\n>   >   ```",
        "|",
        "| a |",
        "|a|b|\n|-|-|\n|1|",
        "|a|b|\n|-|-|\n|1|2|3|4|",
        "| 中文 | 🎉 |\n|:-:|--:|\n| x | y |",
        "<div>",
        "<div>\n\n</div>",
        "<!--\n\n\n-->",
        "<pre>\n\n\n\nx\n</pre>",
        "\u{0}\u{1}\u{7}\u{1b}[2J\u{7f}\u{9b}\u{85}",
        "\t\tindented\ttabs",
        "    code\n\n\n    more",
        "[link](",
        "[a](b \"t\")",
        "[ref]\n\n[ref]: https://example.com",
        "![",
        "![](x)",
        "`unclosed code",
        "**bold *mixed",
        "中文字符测试中文字符测试中文字符测试",
        "👨\u{200d}👩\u{200d}👧👨\u{200d}👩\u{200d}👧👨\u{200d}👩\u{200d}👧",
        "e\u{301}\u{301}\u{301}\u{301}",
        "\u{200b}\u{200b}",
        "# ",
        "#",
        "######## not a heading",
        "- ",
        "-",
        "1.",
        "> ",
        ">",
        "- [ ]",
        "- [x] ",
        "\\",
        "  \n  \n",
        "\r\n\r\n",
        "&amp; &#0; &#x1b; &nbsp;",
        "<https://example.com/a/very/long/url/that/keeps/going/and/going/forever>",
        "a  \nb  \n  \nc",
        "Title\n===",
        "Sub\n---",
    ]
    .iter()
    .map(|fragment| (*fragment).to_owned())
    .collect();
    fragments.push("a".repeat(300));
    fragments.push("word ".repeat(120));
    fragments.push("🎉".repeat(80));
    fragments.push(format!("```\n{}\n```", "x".repeat(500)));
    fragments.push(format!("{}x", "- ".repeat(40)));
    fragments.push(format!("{}x", "> ".repeat(60)));
    fragments
}

const WIDTHS: [u16; 11] = [0, 1, 2, 3, 4, 5, 7, 10, 20, 33, 80];

#[test]
fn tricky_inputs_never_panic_or_overflow() {
    let fragments = tricky_fragments();
    let theme = Theme::colored();
    let mut inputs = Vec::new();
    for fragment in &fragments {
        inputs.push(fragment.clone());
        inputs.push(format!("> {fragment}"));
        inputs.push(format!("- {fragment}"));
        inputs.push(format!("1. x\n\n   {fragment}"));
    }
    // Every fragment followed by a spread of others (all pairs would be
    // slow for little gain): lazy continuations and interruptions.
    for (index, first) in fragments.iter().enumerate() {
        for step in 0..6 {
            let second = &fragments[(index * 7 + step * 13) % fragments.len()];
            inputs.push(format!("{first}\n{second}"));
            inputs.push(format!("{first}\n\n{second}"));
        }
    }
    for markdown in &inputs {
        for width in WIDTHS {
            let lines = render(markdown, width, &theme);
            assert_well_formed(markdown, width, &lines);
        }
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.next() % items.len() as u64).expect("small index");
        items[index]
    }
}

#[test]
fn random_token_soup_never_panics_or_overflows() {
    const TOKENS: &[&str] = &[
        "*",
        "**",
        "_",
        "`",
        "```",
        "~~",
        "#",
        "> ",
        "- ",
        "1. ",
        "|",
        "---",
        "\n",
        "\n\n",
        " ",
        "   ",
        "    ",
        "[",
        "]",
        "(",
        ")",
        "!",
        "<",
        ">",
        "<div>",
        "中",
        "🎉",
        "\t",
        "\\",
        "a",
        "word",
        "longerword",
        "\u{1b}",
        "&",
        ";",
        "[x]",
        "x",
        "\u{301}",
        "\u{200d}",
        "|-|",
    ];
    let mut random = Random(0x5eed_cafe_f00d_d00d);
    let theme = Theme::plain();
    for _ in 0..600 {
        let length = 1 + random.next() % 60;
        let markdown: String = (0..length).map(|_| random.pick(TOKENS)).collect();
        for width in WIDTHS {
            let lines = render(&markdown, width, &theme);
            assert_well_formed(&markdown, width, &lines);
        }
    }
}

// ---- snapshots ------------------------------------------------------------------

fn snapshot(markdown: &str) -> String {
    plain(markdown, 60).join("\n")
}

#[test]
fn snapshot_explanatory_answer() {
    let answer = "\
# Ownership in Rust

Rust guarantees **memory safety** without a garbage collector. Every value has
a single *owner*; when the owner goes out of scope the value is dropped. See
[the book](https://doc.rust-lang.org/book/ch04-00-understanding-ownership.html)
for the long version.

## The three rules

1. Each value has an owner.
2. There can only be one owner at a time.
3. When the owner goes out of scope, the value is dropped.

> Borrowing lets code use a value without taking ownership: any number of
> shared references `&T`, or exactly one mutable reference `&mut T`.

---

In short: move when you hand a value over, borrow when you only look at it.
";
    insta::assert_snapshot!(snapshot(answer));
}

#[test]
fn snapshot_technical_answer() {
    let answer = "\
Here is a minimal HTTP server with **axum**:

```rust
use axum::{routing::get, Router};

#[tokio::main]
async fn main() {
\tlet app = Router::new().route(\"/\", get(|| async { \"Hello, world!\" }));
\tlet listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();
\taxum::serve(listener, app).await.unwrap();
}
```

| Crate | Purpose | Version |
|-------|---------|--------:|
| axum | routing and extractors | 0.8 |
| tokio | async runtime | 1 |

Steps:

- Add the dependencies with `cargo add axum tokio --features tokio/full`
- Run it with `cargo run` and open <http://localhost:3000>
  - the port is configurable
  - so is the address
- [x] compiles
- [ ] handles errors gracefully (left as an exercise for the reader)
";
    insta::assert_snapshot!(snapshot(answer));
}

#[test]
fn snapshot_council_synthesis() {
    let answer = "\
### Synthesis of the council

The members agree on the core recommendation but differ on the details:

1. **Claude** favours a relational schema with explicit migrations, because the
   data is highly structured.

   It also warns that *premature denormalisation* makes later changes painful.
2. **GPT** suggests a document store for the first iteration.
3. **Gemini** proposes a hybrid: relational core tables plus a JSON column for
   the parts that are still changing.

> \"Choose boring technology.\" — a recurring theme in all three answers.

Final recommendation: start with PostgreSQL, keep the schema small, and revisit
after the first month of real usage. 中文用户也可以阅读这段文字，它会按照显示宽度正确换行。
";
    insta::assert_snapshot!(snapshot(answer));
}
