//! What each stage asks the models. The wording of the ranking and title
//! requests is part of the fake upstream's contract (it recognises
//! `FINAL RANKING:` and `short title`).

use std::collections::BTreeMap;

use super::upstream::ChatMessage;

/// Context carried into follow-ups is capped at this many characters; the
/// oldest turns are dropped first.
pub const HISTORY_MAX_CHARS: usize = 24_000;

/// An earlier question and the council's final answer to it (if any).
#[derive(Debug, Clone)]
pub struct Turn {
    pub question: String,
    pub answer: Option<String>,
}

/// Stage 1: the conversation so far, then the new question.
pub fn stage1(history: &[Turn], question: &str) -> Vec<ChatMessage> {
    let mut budget = HISTORY_MAX_CHARS.saturating_sub(question.len());
    let mut kept: Vec<&Turn> = Vec::new();
    for turn in history.iter().rev() {
        let size = turn.question.len() + turn.answer.as_ref().map_or(0, String::len);
        if size > budget {
            break;
        }
        budget -= size;
        kept.push(turn);
    }
    let mut messages = Vec::with_capacity(kept.len() * 2 + 1);
    for turn in kept.into_iter().rev() {
        messages.push(ChatMessage::user(&turn.question));
        if let Some(answer) = &turn.answer {
            messages.push(ChatMessage::assistant(answer));
        }
    }
    messages.push(ChatMessage::user(question));
    messages
}

/// Stage 2: the question and the anonymised answers, to be evaluated and
/// ranked. `answers` are (label, response) in label order.
pub fn stage2(question: &str, answers: &[(String, String)]) -> Vec<ChatMessage> {
    let mut responses = String::new();
    for (label, response) in answers {
        responses.push_str(&format!("{label}:\n{response}\n\n"));
    }
    let prompt = format!(
        "You are evaluating different responses to the following question:\n\n\
         Question: {question}\n\n\
         Here are the responses from different models (anonymized):\n\n\
         {responses}\
         Your task:\n\
         1. First, evaluate each response individually. For each response, explain what it does well and what it does poorly.\n\
         2. Then, at the very end of your response, provide a final ranking.\n\n\
         IMPORTANT: Your final ranking MUST be formatted EXACTLY as follows:\n\
         - Start with the line \"FINAL RANKING:\" (all caps, with colon)\n\
         - Then list the responses from best to worst as a numbered list\n\
         - Each line should be: number, period, space, then ONLY the response label (e.g., \"1. Response A\")\n\
         - Do not add any other text or explanations in the ranking section\n\n\
         Now provide your evaluation and ranking:"
    );
    vec![ChatMessage::user(&prompt)]
}

/// Stage 3: everything, for the lead model to synthesise one answer.
pub fn stage3(
    question: &str,
    answers: &[(String, String)],
    evaluations: &[(String, String)],
    label_to_model: &BTreeMap<String, String>,
) -> Vec<ChatMessage> {
    let mut stage1_text = String::new();
    for (model, response) in answers {
        stage1_text.push_str(&format!("Model: {model}\nResponse: {response}\n\n"));
    }
    let mut stage2_text = String::new();
    for (model, ranking) in evaluations {
        stage2_text.push_str(&format!("Model: {model}\nRanking: {ranking}\n\n"));
    }
    let mut legend = String::new();
    for (label, model) in label_to_model {
        legend.push_str(&format!("{label} = {model}\n"));
    }
    let prompt = format!(
        "You are the Chairman of an LLM Council. Multiple AI models have provided responses to a user's question, \
         and then ranked each other's responses.\n\n\
         Original Question: {question}\n\n\
         STAGE 1 - Individual Responses:\n{stage1_text}\
         STAGE 2 - Peer Rankings (labels: \n{legend}):\n{stage2_text}\
         Your task as Chairman is to synthesize all of this information into a single, comprehensive, accurate answer \
         to the user's original question. Consider the individual responses and their insights, the peer rankings and \
         what they reveal about response quality, and any patterns of agreement or disagreement.\n\n\
         Provide a clear, well-reasoned final answer that represents the council's collective wisdom:"
    );
    vec![ChatMessage::user(&prompt)]
}

/// The title request for a conversation's first question.
pub fn title(question: &str) -> Vec<ChatMessage> {
    let excerpt: String = question.chars().take(2_000).collect();
    vec![ChatMessage::user(&format!(
        "Generate a very short title (3-5 words maximum) that summarizes the following question. \
         The title should be concise and descriptive. Do not use quotes or punctuation in the title.\n\n\
         Question: {excerpt}\n\nTitle:"
    ))]
}

/// A model's title made fit for display: first line, no quotes or markup,
/// at most 8 words and 80 characters; `None` if nothing is left.
pub fn clean_title(raw: &str) -> Option<String> {
    let line = raw.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line
        .trim_start_matches("Title:")
        .trim_start_matches("title:");
    let stripped: String = line
        .chars()
        .filter(|c| !matches!(c, '"' | '\'' | '*' | '#' | '`' | '“' | '”'))
        .collect();
    let words: Vec<&str> = stripped.split_whitespace().take(8).collect();
    let mut title = words.join(" ");
    title = title.trim_end_matches(['.', ':', ';', ',']).to_owned();
    if title.chars().count() > 80 {
        title = title
            .chars()
            .take(80)
            .collect::<String>()
            .trim_end()
            .to_owned();
    }
    (!title.is_empty()).then_some(title)
}

/// A title from the question itself, for when the title model fails.
pub fn fallback_title(question: &str) -> String {
    clean_title(question).unwrap_or_else(|| "New Conversation".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_turns_within_the_budget() {
        let big = "x".repeat(HISTORY_MAX_CHARS / 2);
        let history = vec![
            Turn {
                question: "oldest".into(),
                answer: Some(big.clone()),
            },
            Turn {
                question: "middle".into(),
                answer: Some(big.clone()),
            },
            Turn {
                question: "newest".into(),
                answer: Some("short".into()),
            },
        ];
        let msgs = stage1(&history, "now?");
        let contents: Vec<&str> = msgs.iter().map(|m| m.content.as_str()).collect();
        assert!(
            !contents.contains(&"oldest"),
            "the oldest turn is dropped first"
        );
        assert_eq!(contents[contents.len() - 3..], ["newest", "short", "now?"]);
        assert!(contents.contains(&"middle"));
        assert_eq!(msgs[0].role, "user");
        let total: usize = contents.iter().map(|c| c.len()).sum();
        assert!(total <= HISTORY_MAX_CHARS + 10);
    }

    #[test]
    fn ranking_prompt_names_every_label_and_the_heading() {
        let msgs = stage2(
            "Q?",
            &[
                ("Response A".into(), "a".into()),
                ("Response B".into(), "b".into()),
            ],
        );
        let p = &msgs[0].content;
        assert!(
            p.contains("Response A:\na")
                && p.contains("Response B:\nb")
                && p.contains("FINAL RANKING:")
        );
    }

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(
            clean_title("\"Rust Error Handling\"\n").as_deref(),
            Some("Rust Error Handling")
        );
        assert_eq!(
            clean_title("Title: **Tokio vs async-std**.").as_deref(),
            Some("Tokio vs async-std")
        );
        assert_eq!(clean_title("   \n  ").as_deref(), None);
        assert_eq!(
            clean_title("one two three four five six seven eight nine ten").as_deref(),
            Some("one two three four five six seven eight")
        );
        assert_eq!(
            fallback_title("How do I pick a Postgres index?"),
            "How do I pick a Postgres index?"
        );
    }
}
