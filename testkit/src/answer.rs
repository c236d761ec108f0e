//! Deterministic answer generation: what a fake model "says" for a prompt.
//!
//! Everything here is a pure function of the model id and the messages, so
//! tests can predict answers and two runs of a benchmark see the same text.

use crate::record::RecordedMessage;

/// The marker the Council's stage-2 prompt asks models to end with.
const RANKING_MARKER: &str = "FINAL RANKING:";
/// The Council's stage-3 (synthesis) prompt names the lead model so.
const SYNTHESIS_MARKER: &str = "Chairman of an LLM Council";
/// The fixed answer to a title request.
pub(crate) const TITLE_ANSWER: &str = "Fake Council Title";
/// How much of the question is echoed in a normal answer.
const ECHO_CHARS: usize = 60;

/// Produces the answer `model` gives to `messages`.
pub(crate) fn generate(model: &str, messages: &[RecordedMessage]) -> String {
    // A stage-3 prompt quotes the stage-2 evaluations, `FINAL RANKING:`
    // lists included, yet wants an ordinary answer.
    let synthesis = messages
        .iter()
        .any(|m| m.content.contains(SYNTHESIS_MARKER));
    // Ranking is checked before titles: a stage-2 prompt quotes the stage-1
    // answers, which could themselves contain anything, including "short title".
    if !synthesis && messages.iter().any(|m| m.content.contains(RANKING_MARKER)) {
        return ranking_answer(model, &labels_in(messages));
    }
    if messages
        .iter()
        .any(|m| m.content.to_lowercase().contains("short title"))
    {
        return TITLE_ANSWER.to_owned();
    }
    let question = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    let echo: String = question.chars().take(ECHO_CHARS).collect();
    format!(
        "Answer from {model}: this deterministic fake reply considers the question \"{echo}\" \
         and offers a short, well reasoned response."
    )
}

/// Token count used for `usage`: whitespace-separated words.
pub(crate) fn count_words(text: &str) -> u64 {
    // usize → u64 never truncates on supported targets; saturate anyway
    // rather than panic.
    u64::try_from(text.split_whitespace().count()).unwrap_or(u64::MAX)
}

/// Every distinct `Response X` label (X an uppercase ASCII letter that is
/// not the start of a longer word) in order of first appearance.
pub(crate) fn labels_in(messages: &[RecordedMessage]) -> Vec<char> {
    const PREFIX: &str = "Response ";
    let mut labels = Vec::new();
    for message in messages {
        let text = message.content.as_str();
        for (start, _) in text.match_indices(PREFIX) {
            let rest = &text.as_bytes()[start + PREFIX.len()..];
            let Some(&letter) = rest.first() else {
                continue;
            };
            // "Response Alpha" is prose, not a label; "Response A:" or
            // "Response A's" are labels.
            let ends_word = rest.get(1).is_none_or(|next| !next.is_ascii_alphanumeric());
            if letter.is_ascii_uppercase() && ends_word {
                let label = char::from(letter);
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
        }
    }
    labels
}

/// The order in which `model` ranks `labels`: the sorted labels rotated by
/// a per-model offset, so different council members disagree but each is
/// consistent with itself.
pub(crate) fn ranking_order(model: &str, labels: &[char]) -> Vec<char> {
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    if !sorted.is_empty() {
        let offset = model_hash(model) % sorted.len();
        sorted.rotate_left(offset);
    }
    sorted
}

/// A stable, trivially reproducible hash: the sum of the id's bytes.
fn model_hash(model: &str) -> usize {
    model
        .bytes()
        .fold(0usize, |sum, byte| sum.wrapping_add(usize::from(byte)))
}

/// An evaluation paragraph followed by the parseable `FINAL RANKING:` list.
fn ranking_answer(model: &str, labels: &[char]) -> String {
    const REMARKS: [&str; 4] = [
        "is accurate and clearly structured",
        "covers the main points but misses some nuance",
        "is helpful though somewhat verbose",
        "is brief and leaves out useful detail",
    ];
    let order = ranking_order(model, labels);
    let mut text = String::new();
    if order.is_empty() {
        text.push_str("There are no responses to evaluate.");
    } else {
        let remarks: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(i, label)| format!("Response {label} {}.", REMARKS[i % REMARKS.len()]))
            .collect();
        text.push_str(&remarks.join(" "));
    }
    text.push_str("\n\n");
    text.push_str(RANKING_MARKER);
    for (i, label) in order.iter().enumerate() {
        text.push_str(&format!("\n{}. Response {label}", i + 1));
    }
    text
}

/// Splits `content` into stream deltas, one word (with the whitespace that
/// precedes the next word) per piece. Concatenating the pieces gives back
/// `content` exactly. Empty content gives one empty piece so a stream still
/// carries a content chunk.
pub(crate) fn split_for_stream(content: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut previous_was_space = false;
    let mut current_has_word = false;
    for ch in content.chars() {
        let is_space = ch.is_whitespace();
        // A new piece starts where a word begins after whitespace, so
        // whitespace and newlines stay with the word before them, and
        // leading whitespace with the first word.
        if !is_space && previous_was_space && current_has_word {
            pieces.push(std::mem::take(&mut current));
            current_has_word = false;
        }
        previous_was_space = is_space;
        current_has_word |= !is_space;
        current.push(ch);
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(content: &str) -> RecordedMessage {
        RecordedMessage::new("user", content)
    }

    #[test]
    fn normal_answer_echoes_the_last_user_message() {
        let messages = [
            user("first question"),
            RecordedMessage::new("assistant", "an earlier answer"),
            user("What is the capital of France?"),
        ];
        let answer = generate("fake/alpha", &messages);
        assert!(answer.starts_with("Answer from fake/alpha: "), "{answer}");
        assert!(
            answer.contains("What is the capital of France?"),
            "{answer}"
        );
        assert!(!answer.contains("first question"), "{answer}");
        assert!(count_words(&answer) >= 8);
    }

    #[test]
    fn normal_answer_echoes_only_sixty_chars() {
        let long = "x".repeat(100);
        let answer = generate("m", &[user(&long)]);
        assert!(answer.contains(&"x".repeat(60)));
        assert!(!answer.contains(&"x".repeat(61)));
    }

    #[test]
    fn title_request_is_case_insensitive() {
        let answer = generate("m", &[user("Give a SHORT TITLE for this chat")]);
        assert_eq!(answer, TITLE_ANSWER);
    }

    #[test]
    fn labels_skip_words_and_duplicates() {
        let messages = [user(
            "Response B: x\nResponse A's view. Response Alpha. Response B again. Response C",
        )];
        assert_eq!(labels_in(&messages), vec!['B', 'A', 'C']);
    }

    #[test]
    fn ranking_lists_each_label_once_after_marker() {
        let messages = [user(
            "Response A: one\nResponse B: two\nResponse C: three\nEnd with FINAL RANKING:",
        )];
        let answer = generate("fake/beta", &messages);
        let (_, list) = answer.split_once(RANKING_MARKER).expect("marker present");
        for label in ["Response A", "Response B", "Response C"] {
            assert_eq!(list.matches(label).count(), 1, "{answer}");
        }
    }

    #[test]
    fn ranking_order_is_a_rotation_depending_on_the_model() {
        let labels = ['C', 'A', 'B'];
        // "a" is byte 97: 97 % 3 == 1; "b" is 98: 98 % 3 == 2.
        assert_eq!(ranking_order("a", &labels), vec!['B', 'C', 'A']);
        assert_eq!(ranking_order("b", &labels), vec!['C', 'A', 'B']);
        assert_eq!(ranking_order("a", &labels), ranking_order("a", &labels));
        assert!(ranking_order("a", &[]).is_empty());
    }

    #[test]
    fn split_round_trips_and_splits_by_word() {
        let text = "Hello  big\nworld !";
        let pieces = split_for_stream(text);
        assert_eq!(pieces, vec!["Hello  ", "big\n", "world ", "!"]);
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_for_stream(""), vec![String::new()]);
        assert_eq!(split_for_stream("  lead"), vec!["  lead"]);
    }
}
