//! Measuring and cutting text in terminal cells, grapheme by grapheme.
//!
//! A grapheme cluster (a character with its combining marks, an emoji with
//! its modifiers and everything joined by zero-width joiners, a flag) is
//! what a reader sees as one character: it is measured as a whole and never
//! split by a wrap or a cut.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The mark that ends a text cut short.
pub(super) const ELLIPSIS: &str = "…";

/// Whether every byte is printable ASCII: then every byte is a grapheme of
/// its own, one cell wide, and the Unicode tables need not be consulted.
/// Nearly all of an answer is such text, so this is the common fast path.
pub(super) fn is_plain_ascii(text: &str) -> bool {
    // A chunk at a time, without stopping inside a chunk, so the check
    // compiles to vector instructions: it runs over all the text of an
    // answer several times.
    text.as_bytes().chunks(CHUNK).all(|chunk| {
        chunk.iter().fold(true, |plain, &byte| {
            plain & (byte.wrapping_sub(b' ') < PRINTABLE)
        })
    })
}

/// Bytes checked at once by `is_plain_ascii`.
pub(super) const CHUNK: usize = 32;

/// How many printable ASCII bytes there are, from `' '` to `'~'`.
const PRINTABLE: u8 = b'~' - b' ' + 1;

/// The grapheme clusters of `text`, each with its width in cells.
pub(super) fn clusters(text: &str) -> impl Iterator<Item = (&str, usize)> {
    text.graphemes(true)
        .map(|cluster| (cluster, cluster.width()))
}

/// The width of `text` in cells: the sum of its clusters' widths, so it
/// agrees with what wrapping and cutting count.
pub(super) fn text_width(text: &str) -> usize {
    if is_plain_ascii(text) {
        return text.len();
    }
    clusters(text).map(|(_, width)| width).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILY: &str = "👨\u{200d}👩\u{200d}👧";

    #[test]
    fn clusters_keep_joined_sequences_together() {
        let input = format!("a{FAMILY}e\u{301}中👍🏽🇺🇸");
        assert_eq!(
            clusters(&input).collect::<Vec<_>>(),
            [
                ("a", 1),
                (FAMILY, 2),
                ("e\u{301}", 1),
                ("中", 2),
                ("👍🏽", 2),
                ("🇺🇸", 2)
            ]
        );
        assert_eq!(text_width("❤\u{fe0f}"), 2);
        assert_eq!(clusters("").count(), 0);
    }

    #[test]
    fn text_width_counts_cells() {
        assert_eq!(text_width("plain ascii"), 11);
        assert_eq!(text_width("中文"), 4);
        assert_eq!(text_width(FAMILY), 2);
        assert_eq!(text_width("e\u{301}"), 1);
        assert!(!is_plain_ascii("tab\there"));
        assert!(is_plain_ascii(" ~"));
        assert!(!is_plain_ascii("\u{7f}"));
        let long = "x".repeat(CHUNK * 3 + 5);
        assert!(is_plain_ascii(&long));
        assert!(!is_plain_ascii(&format!("{long}\u{1b}")));
        assert!(!is_plain_ascii(&format!("{long}中{long}")));
        assert!(!is_plain_ascii("é"));
    }
}
