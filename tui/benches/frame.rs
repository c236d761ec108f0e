//! Laying out and drawing the chat with a 200-message conversation open:
//! the first frame (nothing cached), later frames (finished messages
//! cached), and the memory the process holds for it. Times are medians, and
//! the last rows say whether they meet their goals (first frame at most
//! 2 ms, later frames under 0.5 ms).
//!
//! `cargo bench -p council-tui --bench frame`

use std::time::{Duration, Instant};

use chrono::Utc;
use council_shared::{
    AggregateRanking, AssistantMessage, AssistantRole, Conversation, Message, Metadata, RunStatus,
    Stage1Result, Stage2Result, Stage3Result, Usage, UserMessage, UserRole,
};
use council_tui::app::{App, Event, Pane};
use council_tui::screens::{RenderCache, draw};
use council_tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const MESSAGES: usize = 200;
const WARM_FRAMES: usize = 200;
/// First frames measured, each from an empty cache, for the median.
const COLD_RUNS: usize = 31;
/// The first frame of the conversation: every message laid out.
const FIRST_FRAME_GOAL: Duration = Duration::from_millis(2);
/// Every later frame, with the finished messages' lines cached.
const LATER_FRAME_GOAL: Duration = Duration::from_micros(500);

/// Resident memory of this process, in MiB (Linux).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn answer(i: usize) -> String {
    format!(
        "## Answer {i}\n\nA **council** answer with `code`, emphasis and a list:\n\n\
         - first point, long enough to wrap at eighty columns when the pane is narrow\n\
         - second point with a [link](https://example.com/{i})\n\
         - third point\n\n```rust\nfn main() {{\n    println!(\"{i}\");\n}}\n```\n\n\
         A closing paragraph that explains the trade-offs in some detail, so that the \
         renderer has real wrapping work to do on every line of it."
    )
}

fn conversation() -> Conversation {
    let now = Utc::now();
    let mut messages = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES / 2 {
        messages.push(Message::User(UserMessage {
            id: uuid::Uuid::new_v4(),
            role: UserRole::User,
            content: format!("Question number {i}: how should this be done, and why?"),
            created_at: now,
        }));
        messages.push(Message::Assistant(Box::new(AssistantMessage {
            id: uuid::Uuid::new_v4(),
            role: AssistantRole::Assistant,
            created_at: now,
            status: RunStatus::Complete,
            stage1: (0..3).map(|m| Stage1Result { model: format!("vendor/model-{m}"), response: answer(i) }).collect(),
            stage2: (0..3)
                .map(|m| Stage2Result {
                    model: format!("vendor/model-{m}"),
                    ranking: "Response A is best.\n\nFINAL RANKING:\n1. Response A\n2. Response B\n3. Response C".into(),
                    parsed_ranking: vec!["Response A".into(), "Response B".into(), "Response C".into()],
                })
                .collect(),
            stage3: Some(Stage3Result { model: "vendor/lead".into(), response: answer(i) }),
            metadata: Metadata {
                label_to_model: Default::default(),
                aggregate_rankings: vec![AggregateRanking { model: "vendor/model-0".into(), average_rank: 1.0, rankings_count: 3 }],
                failures: vec![],
                usage: Usage::default(),
                ..Metadata::default()
            },
            error: None,
        })));
    }
    Conversation {
        id: uuid::Uuid::new_v4(),
        created_at: now,
        updated_at: now,
        title: "A long conversation".into(),
        message_count: i64::try_from(MESSAGES).unwrap_or(0),
        models: vec![
            "vendor/model-0".into(),
            "vendor/model-1".into(),
            "vendor/model-2".into(),
        ],
        lead_model: "vendor/lead".into(),
        messages,
    }
}

fn frame(
    terminal: &mut Terminal<TestBackend>,
    app: &App,
    cache: &mut RenderCache,
    theme: &Theme,
) -> Duration {
    let t = Instant::now();
    terminal
        .draw(|f| draw(f, app, cache, theme))
        .expect("draws");
    t.elapsed()
}

/// The median of some durations (the upper one of an even count).
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// A row saying whether a measured time meets its goal.
fn goal(label: &str, measured: Duration, limit: Duration, strict: bool) {
    let met = if strict {
        measured < limit
    } else {
        measured <= limit
    };
    println!(
        "  goal: {label:<30} {:>8.3} ms   {} ({:.2} of the limit)",
        measured.as_secs_f64() * 1e3,
        if met { "met" } else { "NOT MET" },
        measured.as_secs_f64() / limit.as_secs_f64()
    );
}

fn main() {
    let theme = Theme::colored();
    let rss_before = rss_mib();
    let (mut app, _) = App::new(
        "bench".into(),
        Some("a@x.io".into()),
        true,
        Instant::now(),
        Utc::now(),
    );
    app.update(Event::ConversationLoaded(Box::new(conversation())));
    app.chat.focus = Pane::Messages;
    let (w, h) = (120, 40);
    app.update(Event::Resize(w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let mut cache = RenderCache::default();

    let very_first = frame(&mut terminal, &app, &mut cache, &theme);
    let mut warms = Vec::with_capacity(WARM_FRAMES);
    for _ in 0..WARM_FRAMES {
        warms.push(frame(&mut terminal, &app, &mut cache, &theme));
    }
    let warm = median(warms);
    let rss_after = rss_mib();
    // One first frame is one sample on a machine that may be busy: more
    // first frames, each with an empty cache and a blank terminal, give a
    // median that a stray context switch does not decide. They run after
    // the memory is read, as the allocator may keep their dropped pages.
    let mut colds = Vec::with_capacity(COLD_RUNS);
    for _ in 0..COLD_RUNS {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let mut cache = RenderCache::default();
        colds.push(frame(&mut terminal, &app, &mut cache, &theme));
    }
    let cold = median(colds);

    println!("{MESSAGES} messages at {w}x{h}, release build:");
    println!(
        "  first frame (lay out every message)  {:>8.2} ms   (median of {COLD_RUNS}; the very first {:.2} ms)",
        cold.as_secs_f64() * 1e3,
        very_first.as_secs_f64() * 1e3
    );
    println!(
        "  later frames (cached lines)          {:>8.3} ms   ({:.0}x faster than the first)",
        warm.as_secs_f64() * 1e3,
        cold.as_secs_f64() / warm.as_secs_f64()
    );
    println!("  cached message bodies                {:>8}", cache.len());
    println!(
        "  resident memory: {rss_after:.1} MiB (the conversation and its rendered lines: {:.1} MiB)",
        rss_after - rss_before
    );
    goal("first frame <= 2 ms", cold, FIRST_FRAME_GOAL, false);
    goal("later frames < 0.5 ms", warm, LATER_FRAME_GOAL, true);
}
