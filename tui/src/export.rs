//! A conversation as a document: Markdown for people (the final answers up
//! front, every stage folded into `<details>`), JSON for programs (the
//! `Conversation` as the server serves it). Used by `council export` and by
//! the terminal UI's `e`, so both write the same file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use council_shared::{AssistantMessage, Conversation, Message, RunStatus, UserMessage};

/// Environment variable naming the directory the terminal UI exports to
/// (default: the current directory).
pub const EXPORT_DIR_ENV: &str = "COUNCIL_EXPORT_DIR";

/// Longest slug taken from a title for a file name, in bytes (ASCII).
const SLUG_MAX: usize = 60;

/// How many numbered alternatives [`save_new`] tries before giving up.
const NAME_ATTEMPTS: u32 = 1000;

/// The formats `council export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Markdown for reading (the default).
    #[default]
    Markdown,
    /// The `Conversation` JSON as served.
    Json,
}

/// The conversation as Markdown: `# Title`, then each question (a
/// blockquote) with the council's final answer, and its stages in
/// collapsed `<details>` sections: every stage 1 answer, every stage 2
/// evaluation with its labels replaced by model names, the aggregate
/// rankings table, and the failures.
pub fn markdown(conversation: &Conversation) -> String {
    let mut out = String::new();
    let title = one_line(&conversation.title);
    let _ = writeln!(
        out,
        "# {}\n",
        if title.is_empty() { "Untitled" } else { &title }
    );
    let _ = writeln!(
        out,
        "*Council: {} · lead {} · started {} · last activity {}*\n",
        conversation
            .models
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", "),
        format_args!("`{}`", conversation.lead_model),
        timestamp(conversation.created_at),
        timestamp(conversation.updated_at),
    );
    let mut question = 0;
    for message in &conversation.messages {
        match message {
            Message::User(user) => {
                question += 1;
                write_question(&mut out, question, user);
            }
            Message::Assistant(answer) => write_answer(&mut out, answer),
        }
    }
    if conversation.messages.is_empty() {
        out.push_str("*No messages yet.*\n");
    }
    // One trailing newline, however the last section ended.
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

/// The conversation as pretty-printed JSON, the `Conversation` shape of the
/// API, ending with a newline.
pub fn json(conversation: &Conversation) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(conversation)?;
    text.push('\n');
    Ok(text)
}

/// The final answer of a council (its stage 3), if it has one.
pub fn final_answer(message: &AssistantMessage) -> Option<&str> {
    message.stage3.as_ref().map(|s| s.response.as_str())
}

/// `text` with each stage 2 label (`Response A`, …) replaced by
/// `name(model)` in bold. Longest labels first, so `Response A` never eats
/// the start of a longer label.
pub fn deanonymise(
    text: &str,
    label_to_model: &std::collections::BTreeMap<String, String>,
    name: impl Fn(&str) -> &str,
) -> String {
    let mut labels: Vec<(&String, &String)> = label_to_model.iter().collect();
    labels.sort_by_key(|(label, _)| std::cmp::Reverse(label.len()));
    let mut text = text.to_owned();
    for (label, model) in labels {
        text = text.replace(label.as_str(), &format!("**{}**", name(model)));
    }
    text
}

/// A file name for an export of `title` made on `date`:
/// `rust-error-handling-2026-11-26.md` (lower-case ASCII letters and digits
/// joined by `-`; `conversation` when the title has none).
pub fn file_name(title: &str, date: NaiveDate, format: Format) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            if slug.len() >= SLUG_MAX {
                break;
            }
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() {
        "conversation"
    } else {
        slug
    };
    let extension = match format {
        Format::Markdown => "md",
        Format::Json => "json",
    };
    format!("{slug}-{}.{extension}", date.format("%Y-%m-%d"))
}

/// Writes `contents` to a new file `name` in `dir`, never replacing one:
/// when `name` exists, `stem-2.ext`, `stem-3.ext`, … are tried. Returns the
/// path written.
pub fn save_new(dir: &Path, name: &str, contents: &str) -> std::io::Result<PathBuf> {
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
        _ => (name, None),
    };
    for n in 1..=NAME_ATTEMPTS {
        let candidate = match (n, extension) {
            (1, _) => name.to_owned(),
            (n, Some(ext)) => format!("{stem}-{n}.{ext}"),
            (n, None) => format!("{stem}-{n}"),
        };
        let path = dir.join(candidate);
        // create_new is the check and the creation at once: no race with
        // another process writing the same name.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                if let Err(e) = file
                    .write_all(contents.as_bytes())
                    .and_then(|()| file.flush())
                {
                    // Leave no half-written export behind.
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{name} and {NAME_ATTEMPTS} numbered alternatives exist already"),
    ))
}

/// Where the terminal UI writes exports: `$COUNCIL_EXPORT_DIR`, else the
/// current directory.
pub fn export_dir() -> std::io::Result<PathBuf> {
    match std::env::var_os(EXPORT_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => std::env::current_dir(),
    }
}

fn write_question(out: &mut String, n: usize, user: &UserMessage) {
    let _ = writeln!(out, "## Question {n}\n");
    for line in user.content.trim_end().lines() {
        if line.trim().is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {line}");
        }
    }
    let _ = writeln!(out, "\n*Asked {}*\n", timestamp(user.created_at));
}

fn write_answer(out: &mut String, a: &AssistantMessage) {
    out.push_str("### Answer\n\n");
    let status = match a.status {
        RunStatus::Complete => "complete",
        RunStatus::Partial => "partial: some council models failed",
        RunStatus::Failed => "failed",
        RunStatus::Running => "still running when exported",
    };
    match &a.stage3 {
        Some(s) => {
            let _ = writeln!(out, "*Final answer by `{}` · {status}*\n", s.model);
            out.push_str(&fenced_safe(&s.response));
            out.push_str("\n\n");
        }
        None => {
            let _ = writeln!(out, "*No final answer · {status}*\n");
        }
    }
    if let Some(error) = &a.error {
        let _ = writeln!(out, "> **The council failed:** {}\n", one_line(error));
    }
    write_stage1(out, a);
    write_stage2(out, a);
    let late: Vec<_> = a
        .metadata
        .failures
        .iter()
        .filter(|f| f.stage >= 3)
        .collect();
    for f in late {
        let _ = writeln!(
            out,
            "*Stage {} failed for `{}`: {}*\n",
            f.stage,
            f.model,
            one_line(&f.error)
        );
    }
}

fn write_stage1(out: &mut String, a: &AssistantMessage) {
    let failures: Vec<_> = a
        .metadata
        .failures
        .iter()
        .filter(|f| f.stage == 1)
        .collect();
    if a.stage1.is_empty() && failures.is_empty() {
        return;
    }
    let failed = if failures.is_empty() {
        String::new()
    } else {
        format!(", {} failed", failures.len())
    };
    let _ = writeln!(
        out,
        "<details>\n<summary>Stage 1 · {} answers{failed}</summary>\n",
        a.stage1.len()
    );
    for r in &a.stage1 {
        let _ = writeln!(out, "#### `{}`\n", r.model);
        out.push_str(&fenced_safe(&r.response));
        out.push_str("\n\n");
    }
    for f in failures {
        let _ = writeln!(out, "#### `{}` failed\n\n{}\n", f.model, one_line(&f.error));
    }
    out.push_str("</details>\n\n");
}

fn write_stage2(out: &mut String, a: &AssistantMessage) {
    let failures: Vec<_> = a
        .metadata
        .failures
        .iter()
        .filter(|f| f.stage == 2)
        .collect();
    if a.stage2.is_empty() && failures.is_empty() && a.metadata.aggregate_rankings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details>\n<summary>Stage 2 · {} rankings</summary>\n",
        a.stage2.len()
    );
    for r in &a.stage2 {
        let _ = writeln!(out, "#### Evaluation by `{}`\n", r.model);
        let text = deanonymise(&r.ranking, &a.metadata.label_to_model, |m| m);
        out.push_str(&fenced_safe(&text));
        out.push_str("\n\n");
        if !r.parsed_ranking.is_empty() {
            out.push_str("Parsed ranking:\n\n");
            for (i, label) in r.parsed_ranking.iter().enumerate() {
                let model = a
                    .metadata
                    .label_to_model
                    .get(label)
                    .map_or(label.as_str(), String::as_str);
                let _ = writeln!(out, "{}. `{model}`", i + 1);
            }
            out.push('\n');
        }
    }
    for f in failures {
        let _ = writeln!(out, "#### `{}` failed\n\n{}\n", f.model, one_line(&f.error));
    }
    if !a.metadata.aggregate_rankings.is_empty() {
        out.push_str("#### Aggregate rankings\n\n");
        out.push_str("| # | model | average rank | votes |\n|---:|---|---:|---:|\n");
        for (i, r) in a.metadata.aggregate_rankings.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | `{}` | {:.2} | {} |",
                i + 1,
                r.model.replace('|', "\\|"),
                r.average_rank,
                r.rankings_count
            );
        }
        out.push('\n');
    }
    out.push_str("</details>\n\n");
}

/// A model's Markdown made safe to embed: trailing space trimmed, and an
/// unclosed code fence closed, so that it cannot swallow the sections
/// (and the `</details>`) that follow.
fn fenced_safe(text: &str) -> String {
    let mut open: Option<(char, usize)> = None;
    for line in text.lines() {
        let line = line.trim_start();
        for fence in ['`', '~'] {
            let n = line.chars().take_while(|c| *c == fence).count();
            if n < 3 {
                continue;
            }
            match open {
                None => open = Some((fence, n)),
                // A closing fence has no info string and is at least as long.
                Some((f, m)) if f == fence && n >= m && line[n..].trim().is_empty() => open = None,
                Some(_) => {}
            }
        }
    }
    let mut text = text.trim_end().to_owned();
    if let Some((fence, n)) = open {
        text.push('\n');
        text.extend(std::iter::repeat_n(fence, n));
    }
    text
}

/// Text on one line (errors and titles may hold newlines).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `2026-11-26 09:41 UTC`: exports are read anywhere, so they say UTC.
fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests;
