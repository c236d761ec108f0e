//! Measuring text in terminal cells, cluster by cluster.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Splits text into clusters that must stay together: a character plus the
/// zero-width characters after it (combining marks, variation selectors) and
/// anything glued on by a zero-width joiner, so emoji sequences are neither
/// split nor measured piecewise. Each cluster comes with its width.
pub(super) fn clusters(text: &str) -> Vec<(&str, usize)> {
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

pub(super) fn text_width(text: &str) -> usize {
    clusters(text).iter().map(|(_, width)| width).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
