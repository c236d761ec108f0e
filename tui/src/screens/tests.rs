//! Every screen drawn on a test terminal at 60×20, 80×24 (a default ssh
//! window), 100×30 and 120×40, without colour (NO_COLOR's look) so the
//! snapshots show the text and symbols; and drawn at tiny sizes, where it
//! must not panic.

use std::time::{Duration, Instant};

use council_shared::*;
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{RenderCache, draw};
use crate::app::tests::{conversation, key, signed_in, summary, typed, user, wall};
use crate::app::{App, Event, Pane};
use crate::theme::Theme;

const SIZES: [(u16, u16); 4] = [(60, 20), (80, 24), (100, 30), (120, 40)];

fn render(app: &mut App, width: u16, height: u16) -> String {
    app.update(Event::Resize(width, height));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    let mut cache = RenderCache::default();
    terminal
        .draw(|f| draw(f, app, &mut cache, &Theme::plain()))
        .expect("draws");
    format!("{}", terminal.backend())
}

fn snapshot(name: &str, app: &mut App) {
    for (w, h) in SIZES {
        let screen = render(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn call(model: &str, stage: u8, prompt: u64, completion: u64, cost: Option<f64>, ms: u64) -> Call {
    Call {
        model: model.into(),
        stage,
        prompt_tokens: Some(prompt),
        completion_tokens: Some(completion),
        cost,
        latency_ms: ms,
    }
}

fn answered() -> Message {
    Message::Assistant(Box::new(AssistantMessage {
        id: uuid::Uuid::from_u128(7),
        role: AssistantRole::Assistant,
        created_at: wall(),
        status: RunStatus::Partial,
        stage1: vec![
            Stage1Result { model: "openai/gpt-5.1".into(), response: "Model errors with **one enum** per public boundary.\n\n- keep variants meaningful\n- implement `std::error::Error`".into() },
            Stage1Result { model: "anthropic/claude-sonnet-4.5".into(), response: "Use `thiserror` in libraries and `anyhow` in binaries.".into() },
        ],
        stage2: vec![
            Stage2Result { model: "openai/gpt-5.1".into(), ranking: "Response B is concise; Response A is thorough.\n\nFINAL RANKING:\n1. Response A\n2. Response B".into(), parsed_ranking: vec!["Response A".into(), "Response B".into()] },
            Stage2Result { model: "anthropic/claude-sonnet-4.5".into(), ranking: "FINAL RANKING:\n1. Response A\n2. Response B".into(), parsed_ranking: vec!["Response A".into(), "Response B".into()] },
        ],
        stage3: Some(Stage3Result {
            model: "google/gemini-3-pro-preview".into(),
            response: "## Short answer\nUse one `thiserror` enum per public boundary.\n\n- keep variants meaningful to callers\n- wrap sources with `#[from]`\n\n```rust\n#[derive(Debug, thiserror::Error)]\npub enum Error {}\n```".into(),
        }),
        metadata: Metadata {
            label_to_model: [("Response A".to_string(), "openai/gpt-5.1".to_string()), ("Response B".to_string(), "anthropic/claude-sonnet-4.5".to_string())].into_iter().collect(),
            aggregate_rankings: vec![
                AggregateRanking { model: "openai/gpt-5.1".into(), average_rank: 1.0, rankings_count: 2 },
                AggregateRanking { model: "anthropic/claude-sonnet-4.5".into(), average_rank: 2.0, rankings_count: 2 },
            ],
            failures: vec![Failure { model: "x-ai/grok-4".into(), stage: 1, error: "timed out after 120 s".into() }],
            usage: Usage { prompt_tokens: 9_210, completion_tokens: 3_221, cost: Some(0.0312) },
            calls: vec![
                call("google/gemini-2.5-flash", 0, 120, 12, Some(0.0001), 900),
                call("openai/gpt-5.1", 1, 1_200, 640, Some(0.0081), 8_200),
                call("anthropic/claude-sonnet-4.5", 1, 1_200, 702, Some(0.0093), 12_400),
                call("openai/gpt-5.1", 2, 2_400, 410, Some(0.0052), 6_100),
                call("anthropic/claude-sonnet-4.5", 2, 2_400, 385, Some(0.0061), 7_000),
                call("google/gemini-3-pro-preview", 3, 1_890, 1_072, Some(0.0024), 10_300),
            ],
        },
        error: None,
    }))
}

/// A signed-in app with three conversations, the first open with an answer.
fn chat_app(now: Instant) -> App {
    let mut app = signed_in(now);
    let mut list = vec![
        summary("Rust error handling in 2026", 2, 2),
        summary("Tokio vs async-std", 60 * 26, 4),
        summary("Postgres index choice", 60 * 72, 2),
    ];
    for (i, s) in list.iter_mut().enumerate() {
        s.id = uuid::Uuid::from_u128(100 + i as u128);
    }
    app.update(Event::ConversationsLoaded {
        query: None,
        list: list.clone(),
    });
    let mut question = user("What is the idiomatic way to model errors in a library crate?");
    if let Message::User(u) = &mut question {
        u.id = uuid::Uuid::from_u128(6);
    }
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &list[0],
        vec![question, answered()],
    ))));
    app
}

#[test]
fn login_and_register() {
    let (mut app, _) = App::new(
        "local (data in /home/me/.local/share/council)".into(),
        None,
        false,
        Instant::now(),
        wall(),
    );
    snapshot("login_empty", &mut app);
    typed(&mut app, "me@example.com");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "secret");
    app.update(Event::AuthFailed {
        error: crate::app::Failure {
            message: "Invalid email or password".into(),
            status: Some(401),
            session_expired: false,
        },
    });
    snapshot("login_error", &mut app);
    app.update(crate::app::tests::ctrl('r'));
    snapshot("register", &mut app);
}

#[test]
fn chat_with_an_answer() {
    let mut app = chat_app(Instant::now());
    app.chat.focus = Pane::Messages;
    snapshot("chat_answer", &mut app);
}

#[test]
fn chat_empty() {
    let mut app = signed_in(Instant::now());
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![],
    });
    app.update(Event::KeysLoaded(vec![]));
    snapshot("chat_empty", &mut app);
}

#[test]
fn chat_while_a_council_runs() {
    let t0 = Instant::now();
    let mut app = chat_app(t0);
    app.chat.focus = Pane::Input;
    typed(&mut app, "And for binaries?");
    app.update(key(KeyCode::Enter));
    let id = uuid::Uuid::from_u128(100);
    let ev = |e: CouncilEvent, ms: u64| Event::Council {
        conversation: id,
        event: Box::new(e),
        at: t0 + Duration::from_millis(ms),
    };
    app.update(ev(
        CouncilEvent::Stage1Start {
            models: vec![
                "openai/gpt-5.1".into(),
                "anthropic/claude-sonnet-4.5".into(),
                "x-ai/grok-4".into(),
            ],
        },
        0,
    ));
    app.update(ev(
        CouncilEvent::Stage1ModelComplete {
            model: "openai/gpt-5.1".into(),
            response: "x".into(),
        },
        2100,
    ));
    app.update(ev(
        CouncilEvent::Stage1Delta {
            model: "anthropic/claude-sonnet-4.5".into(),
            delta: "Use".into(),
        },
        2200,
    ));
    app.update(ev(
        CouncilEvent::Stage1ModelError {
            model: "x-ai/grok-4".into(),
            error: "timed out after 120 s".into(),
        },
        5000,
    ));
    app.update(Event::Tick {
        now: t0 + Duration::from_secs(7),
        wall: wall(),
    });
    app.frame = 0;
    snapshot("chat_running", &mut app);
}

#[test]
fn stage_views() {
    let mut app = chat_app(Instant::now());
    app.chat.focus = Pane::Messages;
    app.update(key(KeyCode::Enter));
    snapshot("stage1", &mut app);
    app.update(key(KeyCode::Tab));
    snapshot("stage2_evaluation", &mut app);
    app.update(key(KeyCode::Char('3')));
    snapshot("stage2_aggregate", &mut app);
}

#[test]
fn dialogs_settings_and_help() {
    let mut app = chat_app(Instant::now());
    app.chat.focus = Pane::Sidebar;
    app.update(key(KeyCode::Char('d')));
    snapshot("dialog_delete", &mut app);
    app.update(key(KeyCode::Esc));
    app.chat.focus = Pane::Sidebar;
    app.update(key(KeyCode::Char('n')));
    app.update(Event::ModelsLoaded(ModelsResponse {
        models: vec![
            "openai/gpt-5.1".into(),
            "anthropic/claude-sonnet-4.5".into(),
            "x-ai/grok-4".into(),
        ],
        default_models: vec![
            "openai/gpt-5.1".into(),
            "anthropic/claude-sonnet-4.5".into(),
        ],
        default_lead_model: "google/gemini-3-pro-preview".into(),
    }));
    snapshot("dialog_new", &mut app);
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('s')));
    app.update(Event::KeysLoaded(vec![ApiKeyResponse {
        id: uuid::Uuid::from_u128(9),
        provider: "openrouter".into(),
        key_hint: "...4f2a".into(),
        created_at: wall(),
        updated_at: wall(),
    }]));
    snapshot("settings", &mut app);
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('?')));
    snapshot("help", &mut app);
}

#[test]
fn chat_from_a_server_that_reports_no_usage() {
    let mut app = chat_app(Instant::now());
    if let Some(c) = &mut app.chat.current
        && let Some(Message::Assistant(a)) = c.messages.last_mut()
    {
        a.metadata.usage = Usage::default();
        a.metadata.calls.clear();
    }
    app.chat.focus = Pane::Messages;
    snapshot("chat_answer_no_usage", &mut app);
    app.update(key(KeyCode::Enter));
    snapshot("stage1_no_usage", &mut app);
}

#[test]
fn local_mode_first_start_asks_for_the_key() {
    let mut app = signed_in(Instant::now());
    app.server_label = "local (data in /home/me/.local/share/council)".into();
    app.set_local();
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![],
    });
    app.update(Event::KeysLoaded(vec![]));
    snapshot("settings_local_welcome", &mut app);
}

#[test]
fn a_long_title_shortens_with_an_ellipsis() {
    let mut app = chat_app(Instant::now());
    let long = "How should a small team choose between PostgreSQL, SQLite and a hosted database for a service that must run offline";
    if let Some(c) = &mut app.chat.current {
        c.title = long.into();
    }
    app.chat.conversations[0].title = long.into();
    app.chat.focus = Pane::Messages;
    snapshot("chat_long_title", &mut app);
}

#[test]
fn the_sidebar_shows_over_the_whole_width_on_narrow_terminals() {
    let mut app = chat_app(Instant::now());
    app.update(Event::Resize(60, 20));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('b')));
    let screen = render(&mut app, 60, 20);
    insta::assert_snapshot!("sidebar_overlay_60x20", screen);
}

/// Tiny and odd sizes: every screen draws without panicking.
#[test]
fn every_screen_survives_any_size() {
    let sizes = [
        (1, 1),
        (2, 2),
        (3, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (59, 19),
        (200, 60),
    ];
    let mut states: Vec<App> = Vec::new();
    let (login, _) = App::new("x".into(), None, false, Instant::now(), wall());
    states.push(login);
    states.push(chat_app(Instant::now()));
    let mut stages = chat_app(Instant::now());
    stages.chat.focus = Pane::Messages;
    stages.update(key(KeyCode::Enter));
    states.push(stages);
    let mut settings = chat_app(Instant::now());
    settings.update(key(KeyCode::Esc));
    settings.update(key(KeyCode::Char('s')));
    states.push(settings);
    let mut help = chat_app(Instant::now());
    help.update(key(KeyCode::F(1)));
    states.push(help);
    let mut dialog = chat_app(Instant::now());
    dialog.chat.focus = Pane::Sidebar;
    dialog.update(key(KeyCode::Char('r')));
    states.push(dialog);
    for mut app in states {
        for (w, h) in sizes {
            let screen = render(&mut app, w, h);
            assert_eq!(screen.lines().count(), usize::from(h), "{w}x{h}");
        }
    }
}
