//! The export renderer: structure of the Markdown, file names, never
//! overwriting.

use chrono::{NaiveDate, TimeZone, Utc};
use council_shared::{
    AggregateRanking, AssistantMessage, AssistantRole, Conversation, Failure, Message, Metadata,
    RunStatus, Stage1Result, Stage2Result, Stage3Result, Usage, UserMessage, UserRole,
};
use uuid::Uuid;

use super::*;

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, minute, 0)
        .single()
        .expect("a valid time")
}

fn question(text: &str, minute: u32) -> Message {
    Message::User(UserMessage {
        id: Uuid::new_v4(),
        role: UserRole::User,
        content: text.into(),
        created_at: at(minute),
    })
}

fn answer(status: RunStatus, final_answer: Option<&str>, error: Option<&str>) -> Message {
    Message::Assistant(Box::new(AssistantMessage {
        id: Uuid::new_v4(),
        role: AssistantRole::Assistant,
        created_at: at(42),
        status,
        stage1: vec![
            Stage1Result {
                model: "openai/gpt-5.1".into(),
                response: "Use **thiserror**.\n\n```rust\nenum E {}".into(),
            },
            Stage1Result {
                model: "x-ai/grok-4".into(),
                response: "Use anyhow in binaries.".into(),
            },
        ],
        stage2: vec![Stage2Result {
            model: "openai/gpt-5.1".into(),
            ranking: "Response B is short; Response A is thorough.\n\nFINAL RANKING:\n1. Response A\n2. Response B"
                .into(),
            parsed_ranking: vec!["Response A".into(), "Response B".into()],
        }],
        stage3: final_answer.map(|a| Stage3Result {
            model: "google/gemini-3-pro-preview".into(),
            response: a.into(),
        }),
        metadata: Metadata {
            label_to_model: [
                ("Response A".to_string(), "openai/gpt-5.1".to_string()),
                ("Response B".to_string(), "x-ai/grok-4".to_string()),
            ]
            .into_iter()
            .collect(),
            aggregate_rankings: vec![
                AggregateRanking {
                    model: "openai/gpt-5.1".into(),
                    average_rank: 1.0,
                    rankings_count: 1,
                },
                AggregateRanking {
                    model: "x-ai/grok-4".into(),
                    average_rank: 2.0,
                    rankings_count: 1,
                },
            ],
            failures: vec![Failure {
                model: "anthropic/claude-sonnet-4.5".into(),
                stage: 1,
                error: "timed out\nafter 120 s".into(),
            }],
            usage: Usage::default(),
            ..Metadata::default()
        },
        error: error.map(str::to_owned),
    }))
}

fn conversation(title: &str, messages: Vec<Message>) -> Conversation {
    Conversation {
        id: Uuid::from_u128(1),
        created_at: at(40),
        updated_at: at(45),
        title: title.into(),
        message_count: i64::try_from(messages.len()).unwrap_or(0),
        models: vec![
            "openai/gpt-5.1".into(),
            "x-ai/grok-4".into(),
            "anthropic/claude-sonnet-4.5".into(),
        ],
        lead_model: "google/gemini-3-pro-preview".into(),
        messages,
    }
}

#[test]
fn markdown_has_the_title_the_questions_the_answers_and_folded_stages() {
    let c = conversation(
        "Rust error handling",
        vec![
            question("How should a library\n\nmodel errors?", 41),
            answer(
                RunStatus::Partial,
                Some("## Short answer\nOne `thiserror` enum."),
                None,
            ),
            question("And binaries?", 44),
            answer(RunStatus::Failed, None, Some("The lead model failed")),
        ],
    );
    let md = markdown(&c);
    assert!(md.starts_with("# Rust error handling\n\n"), "{md}");
    assert!(md.contains("lead `google/gemini-3-pro-preview`"), "{md}");
    // Questions as numbered sections with the text quoted, blank lines kept.
    assert!(
        md.contains("## Question 1\n\n> How should a library\n>\n> model errors?\n"),
        "{md}"
    );
    assert!(md.contains("## Question 2\n\n> And binaries?\n"), "{md}");
    assert!(md.contains("*Asked 2026-11-26 09:41 UTC*"), "{md}");
    // The final answer, verbatim, with who wrote it and the status.
    assert!(
        md.contains(
            "*Final answer by `google/gemini-3-pro-preview` · partial: some council models failed*\n\n## Short answer\nOne `thiserror` enum.\n"
        ),
        "{md}"
    );
    // Stage 1: every answer, the failure on one line.
    assert!(
        md.contains("<details>\n<summary>Stage 1 · 2 answers, 1 failed</summary>\n"),
        "{md}"
    );
    assert!(
        md.contains("#### `openai/gpt-5.1`\n\nUse **thiserror**."),
        "{md}"
    );
    assert!(
        md.contains("#### `anthropic/claude-sonnet-4.5` failed\n\ntimed out after 120 s\n"),
        "{md}"
    );
    // Stage 2: labels replaced by model names, the parsed ranking, the table.
    assert!(
        md.contains("<summary>Stage 2 · 1 rankings</summary>"),
        "{md}"
    );
    assert!(
        md.contains("**x-ai/grok-4** is short; **openai/gpt-5.1** is thorough."),
        "{md}"
    );
    assert!(!md.contains("Response A"), "{md}");
    assert!(
        md.contains("Parsed ranking:\n\n1. `openai/gpt-5.1`\n2. `x-ai/grok-4`\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "| # | model | average rank | votes |\n|---:|---|---:|---:|\n| 1 | `openai/gpt-5.1` | 1.00 | 1 |\n| 2 | `x-ai/grok-4` | 2.00 | 1 |\n"
        ),
        "{md}"
    );
    // The failed message says so.
    assert!(md.contains("*No final answer · failed*"), "{md}");
    assert!(
        md.contains("> **The council failed:** The lead model failed"),
        "{md}"
    );
    // Every section is closed, and the file ends with one newline.
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    assert_eq!(md.matches("<details>").count(), 4);
    assert!(md.ends_with("</details>\n") && !md.ends_with("\n\n"));
}

#[test]
fn an_unclosed_code_fence_is_closed_before_the_next_section() {
    let md = markdown(&conversation(
        "t",
        vec![
            question("q", 41),
            answer(RunStatus::Complete, Some("a"), None),
        ],
    ));
    // The first stage 1 answer opens a fence it never closes.
    let start = md.find("enum E {}").expect("the answer is there");
    let rest = &md[start..];
    assert!(
        rest.starts_with("enum E {}\n```\n\n#### `x-ai/grok-4`"),
        "{rest}"
    );
    assert_eq!(fenced_safe("```rust\nx\n```"), "```rust\nx\n```");
    assert_eq!(fenced_safe("~~~~\nx\n~~~"), "~~~~\nx\n~~~\n~~~~");
    assert_eq!(fenced_safe("```\n~~~\n"), "```\n~~~\n```");
}

#[test]
fn an_empty_conversation_and_a_running_answer_are_said_so() {
    let md = markdown(&conversation("  ", vec![]));
    assert!(md.starts_with("# Untitled\n"), "{md}");
    assert!(md.ends_with("*No messages yet.*\n"), "{md}");
    let mut running = answer(RunStatus::Running, None, None);
    if let Message::Assistant(a) = &mut running {
        a.stage1.clear();
        a.stage2.clear();
        a.metadata = Metadata::default();
    }
    let md = markdown(&conversation("t", vec![question("q", 41), running]));
    assert!(
        md.contains("*No final answer · still running when exported*"),
        "{md}"
    );
    assert!(!md.contains("<details>"), "no empty stage sections: {md}");
}

#[test]
fn json_is_the_conversation_as_served() {
    let c = conversation(
        "t",
        vec![
            question("q", 41),
            answer(RunStatus::Complete, Some("a"), None),
        ],
    );
    let text = json(&c).expect("encodes");
    let back: Conversation = serde_json::from_str(&text).expect("parses as a Conversation");
    assert_eq!(back, c);
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(value["messages"][1]["role"], "assistant");
    assert_eq!(value["messages"][1]["stage3"]["response"], "a");
}

#[test]
fn file_names_are_slugs_of_the_title_and_the_date() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 26).expect("a valid date");
    assert_eq!(
        file_name("Rust error handling in 2026!", day, Format::Markdown),
        "rust-error-handling-in-2026-2026-11-26.md"
    );
    assert_eq!(
        file_name("  Ça va? / C++ & Go  ", day, Format::Json),
        "a-va-c-go-2026-11-26.json"
    );
    assert_eq!(
        file_name("…", day, Format::Markdown),
        "conversation-2026-11-26.md"
    );
    assert_eq!(
        file_name("../../etc/passwd", day, Format::Markdown),
        "etc-passwd-2026-11-26.md",
        "never a path"
    );
    let long = file_name(&"word ".repeat(40), day, Format::Markdown);
    assert!(long.len() <= SLUG_MAX + "-2026-11-26.md".len(), "{long}");
    assert!(!long.contains("--"), "{long}");
}

#[test]
fn save_new_never_replaces_a_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = save_new(dir.path(), "t-2026-11-26.md", "one").expect("written");
    assert_eq!(first, dir.path().join("t-2026-11-26.md"));
    let second = save_new(dir.path(), "t-2026-11-26.md", "two").expect("written");
    assert_eq!(second, dir.path().join("t-2026-11-26-2.md"));
    let third = save_new(dir.path(), "t-2026-11-26.md", "three").expect("written");
    assert_eq!(third, dir.path().join("t-2026-11-26-3.md"));
    assert_eq!(std::fs::read_to_string(&first).expect("readable"), "one");
    assert_eq!(std::fs::read_to_string(&second).expect("readable"), "two");
    let missing = dir.path().join("no such directory");
    assert!(save_new(&missing, "x.md", "x").is_err());
}
