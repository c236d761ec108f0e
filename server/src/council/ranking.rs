//! Stage 2's evaluations: the tolerant `FINAL RANKING:` parser and the
//! aggregate (average position) over all evaluations.

use std::collections::{BTreeMap, HashSet};

use council_shared::AggregateRanking;

/// The labels an evaluation ranks, best first, as written after its last
/// `FINAL RANKING:` heading. Tolerates prose around it, Markdown emphasis,
/// any case, `1.`/`1)`/`-` list markers and labels without a list; drops
/// duplicates and labels not in `known`. Without the heading, falls back to
/// the labels in order of appearance in the whole text.
pub fn parse_ranking(text: &str, known: &[String]) -> Vec<String> {
    let lower = text.to_lowercase();
    let section = match lower.rfind("final ranking") {
        Some(at) => &text[at + "final ranking".len()..],
        None => text,
    };
    let mut seen = HashSet::new();
    let mut ranking = Vec::new();
    for label in labels_in(section) {
        if known.contains(&label) && seen.insert(label.clone()) {
            ranking.push(label);
        }
    }
    ranking
}

/// Every `Response X` in `text` (any case, any emphasis), normalised.
fn labels_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + "response".len() < chars.len() {
        let word: String = chars[i..i + "response".len()].iter().collect();
        let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
        if starts_word && word.eq_ignore_ascii_case("response") {
            // Skip spaces and emphasis between the word and the letter.
            let mut j = i + "response".len();
            while j < chars.len() && matches!(chars[j], ' ' | '*' | '_' | '`' | '\t') {
                j += 1;
            }
            if j < chars.len() && chars[j].is_ascii_alphabetic() {
                let ends_word = chars.get(j + 1).is_none_or(|c| !c.is_alphanumeric());
                if ends_word && j > i + "response".len() {
                    found.push(format!("Response {}", chars[j].to_ascii_uppercase()));
                    i = j + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    found
}

/// Each model's average position over the evaluations that ranked it, best
/// (lowest) first; ties keep the label order.
pub fn aggregate(
    rankings: &[Vec<String>],
    label_to_model: &BTreeMap<String, String>,
) -> Vec<AggregateRanking> {
    let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for ranking in rankings {
        for (pos, label) in ranking.iter().enumerate() {
            if let Some(model) = label_to_model.get(label) {
                positions.entry(model.as_str()).or_default().push(pos + 1);
            }
        }
    }
    let mut out: Vec<AggregateRanking> = positions
        .into_iter()
        .map(|(model, ps)| AggregateRanking {
            model: model.to_owned(),
            average_rank: round2(ps.iter().sum::<usize>() as f64 / ps.len() as f64),
            rankings_count: u32::try_from(ps.len()).unwrap_or(u32::MAX),
        })
        .collect();
    out.sort_by(|a, b| a.average_rank.total_cmp(&b.average_rank));
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("Response {}", (b'A' + i as u8) as char))
            .collect()
    }

    #[test]
    fn plain_numbered_list() {
        let text = "Response A is thorough. Response B misses a case.\n\nFINAL RANKING:\n1. Response B\n2. Response A\n3. Response C";
        assert_eq!(
            parse_ranking(text, &known(3)),
            ["Response B", "Response A", "Response C"]
        );
    }

    #[test]
    fn prose_and_bold_markers_around_the_section() {
        let text = "I compared them carefully; **Response C** is weakest.\n\n**FINAL RANKING:**\n1. **Response A**\n2) *Response C*\n- Response B\n\nHope this helps!";
        assert_eq!(
            parse_ranking(text, &known(3)),
            ["Response A", "Response C", "Response B"]
        );
    }

    #[test]
    fn lower_case_heading_and_labels() {
        let text = "final ranking:\n1. response b\n2. response a";
        assert_eq!(parse_ranking(text, &known(2)), ["Response B", "Response A"]);
    }

    #[test]
    fn the_last_heading_counts() {
        let text = "I will end with a FINAL RANKING: section.\nResponse A good.\nFINAL RANKING:\n1. Response B\n2. Response A";
        assert_eq!(parse_ranking(text, &known(2)), ["Response B", "Response A"]);
    }

    #[test]
    fn missing_section_falls_back_to_order_of_mention() {
        let text = "Response B is best, then Response A; Response B again.";
        assert_eq!(parse_ranking(text, &known(2)), ["Response B", "Response A"]);
    }

    #[test]
    fn duplicates_unknown_labels_and_lookalikes_are_ignored() {
        let text = "FINAL RANKING:\n1. Response A\n2. Response A\n3. Response Z\n4. Responses B\n5. ResponseC\n6. Response B";
        assert_eq!(parse_ranking(text, &known(3)), ["Response A", "Response B"]);
        assert!(parse_ranking("", &known(3)).is_empty());
        assert!(parse_ranking("FINAL RANKING:", &known(3)).is_empty());
        assert!(parse_ranking("FINAL RANKING: Response Ä", &known(3)).is_empty());
    }

    #[test]
    fn inline_list_on_one_line() {
        let text = "FINAL RANKING: Response C > Response A > Response B";
        assert_eq!(
            parse_ranking(text, &known(3)),
            ["Response C", "Response A", "Response B"]
        );
    }

    #[test]
    fn aggregate_averages_positions() {
        let map: BTreeMap<String, String> = [
            ("Response A", "x/a"),
            ("Response B", "x/b"),
            ("Response C", "x/c"),
        ]
        .into_iter()
        .map(|(l, m)| (l.to_owned(), m.to_owned()))
        .collect();
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let agg = aggregate(
            &[
                r(&["Response B", "Response A", "Response C"]),
                r(&["Response B", "Response C", "Response A"]),
                r(&["Response A", "Response B"]),
            ],
            &map,
        );
        let got: Vec<(&str, f64, u32)> = agg
            .iter()
            .map(|a| (a.model.as_str(), a.average_rank, a.rankings_count))
            .collect();
        assert_eq!(got, [("x/b", 1.33, 3), ("x/a", 2.0, 3), ("x/c", 2.5, 2)]);
    }
}
