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
}
