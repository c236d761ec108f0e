//! Text measured and cut by display width (a CJK character or an emoji
//! takes two cells), never splitting a grapheme cluster.

use unicode_truncate::UnicodeTruncateStr;
use unicode_width::UnicodeWidthStr;

/// Display width in terminal cells.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` if it fits in `max` cells, else its start cut to fit with `…`
/// (the cut is on the right: a title's beginning is what identifies it).
/// A wide character that would straddle the limit is left out, and a
/// grapheme cluster (an emoji sequence, a letter and its accent) is never
/// split.
///
/// ```
/// use council_tui::text::fit;
///
/// assert_eq!(fit("council", 10), "council");
/// assert_eq!(fit("council", 5), "coun…");
/// assert_eq!(fit("中文字符", 6), "中文…");
/// ```
pub fn fit(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let (head, _) = text.unicode_truncate(max - 1);
    let mut out = head.trim_end().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_by_cells_and_marks_the_cut() {
        assert_eq!(fit("Rust error handling", 40), "Rust error handling");
        assert_eq!(fit("Rust error handling", 10), "Rust erro…");
        assert_eq!(
            fit("Rust error handling", 6),
            "Rust…",
            "no space before the mark"
        );
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 1), "…");
        // Wide characters: two cells each, never half of one.
        assert_eq!(fit("日本語のタイトル", 7), "日本語…");
        assert!(width(&fit("日本語のタイトル", 7)) <= 7);
        // A family emoji (ZWJ sequence) and an accent stay whole.
        let family = "👨\u{200d}👩\u{200d}👧 family";
        let cut = fit(family, 4);
        assert!(cut == "👨\u{200d}👩\u{200d}👧…" || cut == "…", "{cut:?}");
        assert_eq!(fit("cafe\u{301} au lait", 5), "cafe\u{301}…");
    }

    const FAMILY: &str = "👨\u{200d}👩\u{200d}👧";

    #[test]
    fn fit_marks_the_cut_and_never_exceeds_the_width() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcdef", 1), "…");
        assert_eq!(fit("abcdef", 0), "");
        // A wide character that would straddle the limit is left out.
        assert_eq!(fit("中文字", 5), "中文…");
        assert_eq!(fit("中文字", 4), "中…");
        for width in 0..12 {
            let text = format!("a中{FAMILY}e\u{301}👍🏽x🇺🇸");
            let cut = fit(&text, width);
            assert!(super::width(&cut) <= width, "{cut:?} is wider than {width}");
        }
    }

    #[test]
    fn fit_never_splits_a_grapheme() {
        // The family is one cluster: kept whole or left out whole.
        assert_eq!(fit(&format!("ab{FAMILY}cd"), 5), format!("ab{FAMILY}…"));
        assert_eq!(fit(&format!("ab{FAMILY}cd"), 4), "ab…");
        // A combining accent stays with its letter.
        assert_eq!(
            fit("e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}e\u{301}"
        );
        assert_eq!(fit("e\u{301}e\u{301}e\u{301}x", 3), "e\u{301}e\u{301}…");
        // A skin tone stays with its emoji, a flag's two letters together.
        assert_eq!(fit("👍🏽👍🏽", 3), "👍🏽…");
        assert_eq!(fit("🇺🇸🇫🇷", 3), "🇺🇸…");
    }
}
