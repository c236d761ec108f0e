//! `council conversations` and `council export`.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Local, Utc};
use council_shared::ConversationSummary;
use uuid::Uuid;

use super::{CliError, EXIT_OK, print_stdout, with_context};
use crate::export::{self, Format};
use crate::runtime::Options;

/// `[--search TEXT] [--json]`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only conversations whose title or messages contain TEXT (any case).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Print the list as JSON (the API's ConversationSummary objects).
    #[arg(long)]
    pub json: bool,
}

/// `ID [--format md|json] [-o FILE]`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The conversation's id (see `council conversations`).
    #[arg(value_name = "ID")]
    pub id: Uuid,
    /// Markdown to read, or the Conversation JSON as the server serves it.
    #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
    pub format: ExportFormat,
    /// Write to FILE (replacing it) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The formats of `council export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Markdown: the answers, each stage in a `<details>` section.
    Md,
    /// The Conversation JSON of the API.
    Json,
}

/// Lists conversations: a table on stdout (or JSON).
pub(crate) async fn list(options: &Options, args: ListArgs) -> Result<u8, CliError> {
    let query = args.search.map(|s| s.trim().to_owned());
    with_context(options, true, async |ctx| {
        let list = ctx
            .client
            .conversations(query.as_deref())
            .await
            .map_err(|e| ctx.error(e))?;
        if args.json {
            let mut text = serde_json::to_string_pretty(&list)
                .map_err(|e| CliError::new(format!("cannot encode the list: {e}")))?;
            text.push('\n');
            return print_stdout(&text).map(|()| EXIT_OK);
        }
        if list.is_empty() {
            match query.as_deref().filter(|q| !q.is_empty()) {
                Some(q) => eprintln!("No conversation matches “{q}”."),
                None => eprintln!("No conversations yet: `council ask` starts one."),
            }
            return Ok(EXIT_OK);
        }
        print_stdout(&table(&list, |t| {
            t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
        }))?;
        Ok(EXIT_OK)
    })
    .await
}

/// The list as aligned columns; the title comes last, so that a long one
/// cannot push the others out of line.
fn table(list: &[ConversationSummary], time: impl Fn(DateTime<Utc>) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36}  {:>8}  {:<16}  TITLE",
        "ID", "MESSAGES", "LAST ACTIVITY"
    );
    for c in list {
        let title: String = c
            .title
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .collect();
        let _ = writeln!(
            out,
            "{:<36}  {:>8}  {:<16}  {title}",
            c.id,
            c.message_count,
            time(c.updated_at)
        );
    }
    out
}

/// Writes a conversation to stdout or a file.
pub(crate) async fn export(options: &Options, args: ExportArgs) -> Result<u8, CliError> {
    with_context(options, true, async |ctx| {
        let conversation =
            ctx.client
                .conversation(args.id)
                .await
                .map_err(|e| match e.status() {
                    Some(404) => CliError::new(format!("conversation {} not found", args.id)),
                    _ => ctx.error(e),
                })?;
        let format = match args.format {
            ExportFormat::Md => Format::Markdown,
            ExportFormat::Json => Format::Json,
        };
        let text = match format {
            Format::Markdown => export::markdown(&conversation),
            Format::Json => export::json(&conversation)
                .map_err(|e| CliError::new(format!("cannot encode the conversation: {e}")))?,
        };
        match &args.output {
            Some(path) => {
                std::fs::write(path, &text)
                    .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
                eprintln!("Wrote {}.", path.display());
            }
            None => print_stdout(&text)?,
        }
        Ok(EXIT_OK)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_table_aligns_its_columns_and_keeps_titles_on_one_line() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 26, 9, 41, 0)
            .single()
            .expect("a valid time");
        let summary = |n: u128, title: &str, count: i64| ConversationSummary {
            id: Uuid::from_u128(n),
            created_at: t,
            updated_at: t,
            title: title.into(),
            message_count: count,
            models: vec![],
            lead_model: "a/b".into(),
        };
        let text = table(
            &[summary(1, "Rust errors", 12), summary(2, "Two\nlines", 2)],
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "ID                                    MESSAGES  LAST ACTIVITY     TITLE",
                "00000000-0000-0000-0000-000000000001        12  2026-11-26 09:41  Rust errors",
                "00000000-0000-0000-0000-000000000002         2  2026-11-26 09:41  Two lines",
            ]
        );
    }
}
