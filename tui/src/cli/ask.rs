//! `council ask`: one council over the event stream, its progress on stderr
//! (redrawn in place on a terminal, plain lines otherwise), the final answer
//! on stdout.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

use council_shared::{AssistantMessage, Conversation, CouncilEvent, Message, RunStatus, validate};

use crate::app::{Milestone, RunProgress};
use crate::usage::Spend;
use futures_util::StreamExt;
use uuid::Uuid;

use super::{CliError, Context, EXIT_OK, EXIT_PARTIAL, print_stdout, with_context};
use crate::runtime::Options;
use crate::screens::spinner;
use council_client::{ClientError, EventStream};

/// How often the in-place status line moves (spinner, timer).
const TICK: Duration = Duration::from_millis(100);
/// How often to look at a council whose stream was lost.
const POLL: Duration = Duration::from_secs(2);
/// Failed looks in a row after which waiting for it stops.
const POLL_FAILURES: u32 = 5;

/// `council ask [QUESTION | -] [--conversation ID] [--models a,b --lead M] [--json]`.
#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The question; `-` or nothing reads it from standard input.
    #[arg(value_name = "QUESTION")]
    pub question: Option<String>,
    /// Ask in this conversation (a follow-up) instead of a new one.
    #[arg(long, value_name = "ID", conflicts_with_all = ["models", "lead"])]
    pub conversation: Option<Uuid>,
    /// The council of the new conversation: model ids, comma-separated
    /// (default: the server's).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// The lead model of the new conversation, which writes the final answer.
    #[arg(long, value_name = "MODEL")]
    pub lead: Option<String>,
    /// Print the AssistantMessage as JSON instead of the answer.
    #[arg(long)]
    pub json: bool,
}

/// How a council's stream ended.
enum Ending {
    /// `complete`, with the stored message.
    Finished(Box<AssistantMessage>),
    /// `error`: the run failed.
    Failed {
        reason: String,
        assistant: Option<Uuid>,
    },
    /// The stream broke before its last event; the run goes on there.
    Lost {
        error: ClientError,
        assistant: Option<Uuid>,
    },
}

/// Runs the command; the exit status says complete (0) or partial (2).
pub(crate) async fn run(options: &Options, args: AskArgs) -> Result<u8, CliError> {
    // Before reading a question typed at the terminal for nothing.
    super::ensure_signed_in(options)?;
    let question = read_question(args.question.as_deref()).await?;
    validate::content(&question).map_err(|e| CliError::new(e.0))?;
    let models = args
        .models
        .map(|list| {
            let list: Vec<String> = list
                .iter()
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            validate::council_models(&list)
        })
        .transpose()
        .map_err(|e| CliError::new(format!("--models: {}", e.0)))?;
    let lead = args.lead.map(|l| l.trim().to_owned());
    if let Some(lead) = &lead {
        validate::model_id(lead).map_err(|e| CliError::new(format!("--lead: {}", e.0)))?;
    }
    let json = args.json;
    with_context(options, true, async |ctx| {
        let conversation = match args.conversation {
            Some(id) => id,
            None => {
                ctx.client
                    .create_conversation(models, lead)
                    .await
                    .map_err(|e| ctx.error(e))?
                    .id
            }
        };
        let mut progress = Progress::new(std::io::stderr().is_terminal());
        progress.line(&format!("conversation: {conversation}"));
        let stream = ctx
            .client
            .stream_message(conversation, &question)
            .await
            .map_err(|e| refused(ctx, conversation, e))?;
        let ending = match follow(stream, &mut progress).await {
            Ending::Lost { error, assistant } => {
                wait_on_server(ctx, conversation, error, assistant, &mut progress).await?
            }
            other => other,
        };
        progress.clear();
        report(ctx, conversation, ending, json).await
    })
    .await
}

/// The question: the argument, or standard input for `-` or none.
async fn read_question(arg: Option<&str>) -> Result<String, CliError> {
    if let Some(q) = arg.filter(|q| *q != "-") {
        return Ok(q.trim().to_owned());
    }
    if std::io::stdin().is_terminal() {
        eprintln!("Type the question, then Ctrl-D on a line of its own:");
    }
    let text = tokio::task::spawn_blocking(|| {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map(|_| text)
    })
    .await
    .map_err(|e| CliError::new(format!("cannot read standard input: {e}")))?
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            CliError::new("the question on standard input is not UTF-8")
        }
        _ => CliError::new(format!("cannot read standard input: {e}")),
    })?;
    Ok(text.trim().to_owned())
}

/// Why the server would not start the council, with what to do about it.
fn refused(ctx: &Context, conversation: Uuid, e: ClientError) -> CliError {
    match e.status() {
        Some(400) if e.to_string().contains("API key") => {
            CliError::new(format!("{e} (from the command line: `council key set`)"))
        }
        Some(404) => CliError::new(format!("conversation {conversation} not found")),
        Some(409) => CliError::new(format!(
            "a council is already running in conversation {conversation}: wait for it to finish"
        )),
        _ => ctx.error(e),
    }
}

/// Reads the stream to its end, telling the progress.
async fn follow(mut stream: EventStream, progress: &mut Progress) -> Ending {
    let mut assistant = None;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let item = if progress.fancy {
            tokio::select! {
                item = stream.next() => item,
                _ = tick.tick() => {
                    progress.redraw();
                    continue;
                }
            }
        } else {
            stream.next().await
        };
        match item {
            Some(Ok(event)) => {
                if let CouncilEvent::MessageCreated {
                    assistant_message_id,
                    ..
                } = &event
                {
                    assistant = Some(*assistant_message_id);
                }
                progress.event(&event);
                match event {
                    CouncilEvent::Complete { message } => return Ending::Finished(message),
                    CouncilEvent::Error { message } => {
                        return Ending::Failed {
                            reason: message,
                            assistant,
                        };
                    }
                    _ => {}
                }
            }
            // One event this client does not know; the others still come.
            Some(Err(ClientError::Protocol(e))) => {
                tracing::warn!(error = %e, "skipped an event of the council");
            }
            Some(Err(error)) => return Ending::Lost { error, assistant },
            None => {
                return Ending::Lost {
                    error: ClientError::Network(
                        "the event stream ended before the council finished".into(),
                    ),
                    assistant,
                };
            }
        }
    }
}

/// The stream broke, but the council goes on on the server: look at the
/// stored message until it has finished.
async fn wait_on_server(
    ctx: &Context,
    conversation: Uuid,
    error: ClientError,
    assistant: Option<Uuid>,
    progress: &mut Progress,
) -> Result<Ending, CliError> {
    let Some(assistant) = assistant else {
        return Err(ctx.error(error));
    };
    progress.line(&format!(
        "lost the event stream ({error}); waiting for the council to finish on the server"
    ));
    let mut failures = 0;
    loop {
        tokio::time::sleep(POLL).await;
        progress.redraw();
        match ctx.client.conversation(conversation).await {
            Ok(c) => {
                failures = 0;
                match find(&c, assistant) {
                    Some(m) if m.status != RunStatus::Running => {
                        return Ok(Ending::Finished(Box::new(m.clone())));
                    }
                    Some(_) => {}
                    None => {
                        return Err(CliError::new(
                            "the answer is no longer in the conversation (was it deleted?)",
                        ));
                    }
                }
            }
            Err(e @ (ClientError::Network(_) | ClientError::Protocol(_)))
                if failures + 1 < POLL_FAILURES =>
            {
                failures += 1;
                tracing::debug!(error = %e, "the server did not answer; trying again");
            }
            Err(e) => return Err(ctx.error(e)),
        }
    }
}

fn find(conversation: &Conversation, id: Uuid) -> Option<&AssistantMessage> {
    conversation.messages.iter().find_map(|m| match m {
        Message::Assistant(a) if a.id == id => Some(a.as_ref()),
        _ => None,
    })
}

/// Prints the outcome; returns the exit status (Err: failed).
async fn report(
    ctx: &Context,
    conversation: Uuid,
    ending: Ending,
    json: bool,
) -> Result<u8, CliError> {
    let message = match ending {
        Ending::Finished(message) => message,
        Ending::Failed { reason, assistant } => {
            // With --json the failed message, as stored, still goes to
            // stdout: scripts read its status and error there.
            if json
                && let Some(id) = assistant
                && let Ok(c) = ctx.client.conversation(conversation).await
                && let Some(m) = find(&c, id)
            {
                print_json(m)?;
            }
            return Err(CliError::new(format!("the council failed: {reason}")));
        }
        Ending::Lost { error, .. } => return Err(ctx.error(error)),
    };
    if json {
        print_json(&message)?;
    } else if let Some(answer) = crate::export::final_answer(&message) {
        let mut text = answer.trim_end().to_owned();
        text.push('\n');
        print_stdout(&text)?;
    }
    eprintln!("council: {}", summary(&message));
    match message.status {
        RunStatus::Complete => Ok(EXIT_OK),
        RunStatus::Partial => {
            let failed: Vec<String> = message
                .metadata
                .failures
                .iter()
                .map(|f| format!("{} (stage {}): {}", f.model, f.stage, f.error))
                .collect();
            eprintln!(
                "council: partial answer: some models failed: {}",
                one_line(&failed.join("; "))
            );
            Ok(EXIT_PARTIAL)
        }
        RunStatus::Failed => Err(CliError::new(format!(
            "the council failed: {}",
            message.error.as_deref().unwrap_or("no reason given")
        ))),
        RunStatus::Running => Err(CliError::new("the council has not finished")),
    }
}

/// `3 models · 12.4k tok · $0.031 · 37s`: what the council used, in one
/// line on stderr (an unknown cost is `$?`, never `$0`).
fn summary(message: &AssistantMessage) -> String {
    let models = message.stage1.len()
        + message
            .metadata
            .failures
            .iter()
            .filter(|f| f.stage == 1)
            .count();
    let models = if models == 1 {
        "1 model".to_owned()
    } else {
        format!("{models} models")
    };
    format!("{models} · {}", Spend::of_answer(message).label())
}

fn print_json(message: &AssistantMessage) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(message)
        .map_err(|e| CliError::new(format!("cannot encode the answer: {e}")))?;
    text.push('\n');
    print_stdout(&text)
}

/// Server text (model names, errors) made safe for a terminal: control
/// characters, escape sequences among them, become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The progress on stderr. Every step is a line; on a terminal a status
/// line below them is redrawn in place (spinner, counts, time). The run's
/// state is the chat screen's reducer, [`RunProgress`].
struct Progress {
    fancy: bool,
    run: RunProgress,
    frame: u64,
    /// The status line is on the screen (and must be cleared first).
    shown: bool,
}

impl Progress {
    fn new(fancy: bool) -> Self {
        Self {
            fancy,
            run: RunProgress::new(Instant::now()),
            frame: 0,
            shown: false,
        }
    }

    fn event(&mut self, event: &CouncilEvent) {
        if let Some(step) = self.run.apply(event.clone(), Instant::now()) {
            let text = match step {
                Milestone::Asking(models) => format!(
                    "stage 1: asking {} models: {}",
                    models.len(),
                    models.join(", ")
                ),
                Milestone::Answered { model, secs } => {
                    format!("stage 1: {model} answered ({secs:.1}s)")
                }
                Milestone::ModelFailed { model, error } => {
                    format!("stage 1: {model} failed: {error}")
                }
                Milestone::RankingStarted => {
                    "stage 2: the models rank the anonymised answers".to_owned()
                }
                Milestone::Ranked { model } => format!("stage 2: {model} ranked the answers"),
                Milestone::Best {
                    model,
                    average_rank,
                } => format!("stage 2: ranked best: {model} (average rank {average_rank:.2})"),
                Milestone::Writing { model } => {
                    format!("stage 3: {model} writes the final answer")
                }
                Milestone::Written { secs } => format!("stage 3: done ({secs:.1}s)"),
                Milestone::Titled(title) => format!("title: {title}"),
                Milestone::Finished { status, secs } => {
                    format!("done: {} after {secs:.1}s", status.as_str())
                }
                // The reason is the command's error message.
                Milestone::Failed(_) => return,
            };
            self.line(&text);
        } else if self.fancy {
            self.redraw();
        }
    }

    /// The status line's text.
    fn status(&self) -> String {
        let secs = self.run.started.elapsed().as_secs();
        let clock = format!("{}:{:02}", secs / 60, secs % 60);
        format!("{} {} · {clock}", spinner(self.frame), self.run.summary())
    }

    /// A step: a line of its own (above the status line on a terminal).
    fn line(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.shown {
            let _ = write!(err, "\r\x1b[2K");
            self.shown = false;
        }
        let _ = writeln!(err, "{}", one_line(text));
        let _ = err.flush();
        drop(err);
        if self.fancy {
            self.redraw();
        }
    }

    /// Draws the status line again (terminal only), cut to the width so it
    /// never wraps (a wrapped line cannot be redrawn in place).
    fn redraw(&mut self) {
        if !self.fancy {
            return;
        }
        self.frame = self.frame.wrapping_add(1);
        let width = crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w));
        // One cell short of the width: a full line would wrap the cursor.
        let status = crate::text::fit(&one_line(&self.status()), width.saturating_sub(1));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{status}");
        let _ = err.flush();
        self.shown = true;
    }

    /// Removes the status line before the answer is printed.
    fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}
