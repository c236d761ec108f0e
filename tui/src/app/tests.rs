//! The state machine without a terminal: every screen's transitions.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use council_shared::{
    AggregateRanking, ApiKeyResponse, AssistantMessage, AssistantRole, Conversation,
    ConversationSummary, CouncilEvent, Message, Metadata, ModelsResponse, RunStatus, Stage1Result,
    Stage2Metadata, Stage2Result, Stage3Result, TitleData, Usage, UserMessage, UserRole,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use super::*;

pub(crate) fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(crate) fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub(crate) fn alt_enter() -> Event {
    Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT))
}

pub(crate) fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = vec![];
    for c in text.chars() {
        effects.extend(app.update(key(KeyCode::Char(c))));
    }
    effects
}

pub(crate) fn wall() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 45, 0)
        .single()
        .expect("a valid time")
}

pub(crate) fn summary(title: &str, minutes_ago: i64, count: i64) -> ConversationSummary {
    let t = wall() - chrono::Duration::minutes(minutes_ago);
    ConversationSummary {
        id: Uuid::new_v4(),
        created_at: t,
        updated_at: t,
        title: title.into(),
        message_count: count,
        models: vec![
            "openai/gpt-5.1".into(),
            "anthropic/claude-sonnet-4.5".into(),
            "x-ai/grok-4".into(),
        ],
        lead_model: "google/gemini-3-pro-preview".into(),
    }
}

pub(crate) fn conversation(s: &ConversationSummary, messages: Vec<Message>) -> Conversation {
    Conversation {
        id: s.id,
        created_at: s.created_at,
        updated_at: s.updated_at,
        title: s.title.clone(),
        message_count: i64::try_from(messages.len()).unwrap_or(0),
        models: s.models.clone(),
        lead_model: s.lead_model.clone(),
        messages,
    }
}

pub(crate) fn signed_in(now: Instant) -> App {
    let (mut app, effects) = App::new(
        "http://127.0.0.1:8001".into(),
        Some("a@x.io".into()),
        true,
        now,
        wall(),
    );
    assert_eq!(
        effects,
        vec![Effect::LoadConversations { query: None }, Effect::LoadKeys]
    );
    app.update(Event::Resize(120, 40));
    app
}

#[test]
fn login_checks_the_form_before_asking_the_server() {
    let now = Instant::now();
    let (mut app, effects) = App::new("local".into(), None, false, now, wall());
    assert!(effects.is_empty());
    assert_eq!(app.screen, Screen::Login);
    assert_eq!(app.login.focus, AuthField::Email);
    // An invalid email is refused under its field.
    typed(&mut app, "nope");
    app.update(key(KeyCode::Tab));
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        app.login.error.as_ref().map(|e| e.0),
        Some(AuthField::Email)
    );
    // A valid one with no password: refused under the password.
    app.login.set_email("a@x.io");
    app.login.focus = AuthField::Password;
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        app.login.error.as_ref().map(|e| e.0),
        Some(AuthField::Password)
    );
    typed(&mut app, "hunter22hunter");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Login {
            email: "a@x.io".into(),
            password: "hunter22hunter".into()
        }]
    );
    assert!(app.login.busy);
    // The Debug output of an effect never shows the password.
    assert!(!format!("{effects:?}").contains("hunter22"));
    // The server refuses: the error shows, the password is cleared.
    app.update(Event::AuthFailed {
        error: Failure {
            message: "Invalid email or password".into(),
            status: Some(401),
            session_expired: false,
        },
    });
    assert!(!app.login.busy);
    assert_eq!(
        app.login.error,
        Some((AuthField::Password, "Invalid email or password".into()))
    );
    assert!(auth::value(&app.login.password).is_empty());
}

#[test]
fn register_checks_length_and_confirmation_and_switches_back_and_forth() {
    let (mut app, _) = App::new("local".into(), None, false, Instant::now(), wall());
    typed(&mut app, "new@x.io");
    app.update(ctrl('r'));
    assert_eq!(app.screen, Screen::Register);
    assert_eq!(
        auth::value(&app.register.email),
        "new@x.io",
        "the email comes along"
    );
    app.update(key(KeyCode::Tab));
    typed(&mut app, "short");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "short");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        app.register.error.as_ref().map(|e| e.0),
        Some(AuthField::Password)
    );
    app.register.password = auth::single_line(true, "");
    app.register.password.insert_str("long enough pw");
    app.register.focus = AuthField::Confirm;
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        app.register.error,
        Some((AuthField::Confirm, "Passwords do not match".into()))
    );
    app.register.confirm = auth::single_line(true, "");
    app.register.confirm.insert_str("long enough pw");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Register {
            email: "new@x.io".into(),
            password: "long enough pw".into()
        }]
    );
    app.update(Event::AuthFailed {
        error: Failure {
            message: "Email already registered".into(),
            status: Some(400),
            session_expired: false,
        },
    });
    assert_eq!(
        app.register.error.as_ref().map(|e| e.0),
        Some(AuthField::Email)
    );
    app.update(ctrl('l'));
    assert_eq!(app.screen, Screen::Login);
    // Signing in lands on the chat and loads it.
    let effects = app.update(Event::SignedIn {
        email: "new@x.io".into(),
    });
    assert_eq!(app.screen, Screen::Chat);
    assert_eq!(
        effects,
        vec![Effect::LoadConversations { query: None }, Effect::LoadKeys]
    );
}

#[test]
fn ctrl_c_quits_from_the_forms() {
    let (mut app, _) = App::new("local".into(), None, false, Instant::now(), wall());
    assert_eq!(app.update(ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn an_expired_session_lands_on_login_with_a_message() {
    let mut app = signed_in(Instant::now());
    app.update(Event::Failed {
        what: Request::Conversations,
        error: Failure {
            message: "expired".into(),
            status: None,
            session_expired: true,
        },
    });
    assert_eq!(app.screen, Screen::Login);
    assert_eq!(auth::value(&app.login.email), "a@x.io");
    assert_eq!(app.login.focus, AuthField::Password);
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("expired"))
    );
}

#[test]
fn sidebar_moves_opens_filters_and_asks_before_deleting() {
    let now = Instant::now();
    let mut app = signed_in(now);
    let list = vec![
        summary("Rust errors", 2, 12),
        summary("Tokio", 60 * 24, 4),
        summary("Postgres", 60 * 72, 2),
    ];
    app.update(Event::ConversationsLoaded {
        query: None,
        list: list.clone(),
    });
    assert_eq!(app.chat.focus, Pane::Input, "typing a question comes first");
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.chat.focus, Pane::Messages);
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.chat.focus, Pane::Sidebar);
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Down));
    assert_eq!(app.chat.selected, 2);
    app.update(key(KeyCode::Down));
    assert_eq!(app.chat.selected, 2, "stays on the last");
    app.update(key(KeyCode::Char('k')));
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::LoadConversation(list[1].id)]);
    assert_eq!(app.chat.focus, Pane::Input);

    // Search as you type, once typing pauses; stale answers are ignored.
    app.chat.focus = Pane::Sidebar;
    app.update(key(KeyCode::Char('/')));
    assert!(typed(&mut app, "to").is_empty(), "nothing before the pause");
    let later = now + SEARCH_DELAY;
    assert_eq!(
        app.update(Event::Tick {
            now: later,
            wall: wall()
        }),
        vec![Effect::LoadConversations {
            query: Some("to".into())
        }]
    );
    app.update(Event::ConversationsLoaded {
        query: Some("t".into()),
        list: list.clone(),
    });
    assert_eq!(
        app.chat.conversations.len(),
        3,
        "an answer for an older query changes nothing... yet"
    );
    app.update(Event::ConversationsLoaded {
        query: Some("to".into()),
        list: vec![list[1].clone()],
    });
    assert_eq!(app.chat.conversations.len(), 1);
    assert_eq!(
        app.update(key(KeyCode::Esc)),
        vec![Effect::LoadConversations { query: None }]
    );
    assert!(app.chat.filter.is_none() && app.chat.query.is_none());

    // Delete asks first; anything but y keeps it.
    app.update(Event::ConversationsLoaded {
        query: None,
        list: list.clone(),
    });
    app.update(key(KeyCode::Char('d')));
    assert!(matches!(
        app.chat.dialog,
        Some(Dialog::ConfirmDelete { .. })
    ));
    assert!(app.update(key(KeyCode::Char('n'))).is_empty());
    assert!(app.chat.dialog.is_none());
    // The selection followed "Tokio" through the filter.
    assert_eq!(app.chat.selected, 1);
    app.update(key(KeyCode::Char('d')));
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Effect::Delete(list[1].id)]
    );
    app.update(Event::Deleted(list[1].id));
    assert_eq!(app.chat.conversations.len(), 2);
}

#[test]
fn rename_validates_and_new_conversation_picks_council_and_lead() {
    let mut app = signed_in(Instant::now());
    let list = vec![summary("Old", 1, 0)];
    app.update(Event::ConversationsLoaded {
        query: None,
        list: list.clone(),
    });
    app.chat.focus = Pane::Sidebar;
    app.update(key(KeyCode::Char('r')));
    for _ in 0..3 {
        app.update(key(KeyCode::Backspace));
    }
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "an empty title is refused"
    );
    assert!(
        matches!(
            &app.chat.dialog,
            Some(Dialog::Rename { error: Some(_), .. })
        ),
        "under the field, in the dialog"
    );
    typed(&mut app, "New title");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::Rename {
            id: list[0].id,
            title: "New title".into()
        }]
    );

    // n loads the catalogue first, then opens the picker.
    assert_eq!(
        app.update(key(KeyCode::Char('n'))),
        vec![Effect::LoadModels]
    );
    app.update(Event::ModelsLoaded(ModelsResponse {
        models: vec!["a/one".into(), "b/two".into(), "c/three".into()],
        default_models: vec!["a/one".into(), "b/two".into()],
        default_lead_model: "c/three".into(),
    }));
    assert!(matches!(
        app.chat.dialog,
        Some(Dialog::NewConversation { .. })
    ));
    // Untick a/one: only one left, refused.
    app.update(key(KeyCode::Char(' ')));
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    // Tick c/three, make b/two the lead.
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Char('l')));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Char(' ')));
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::CreateConversation {
            models: Some(vec!["b/two".into(), "c/three".into()]),
            lead_model: Some("b/two".into())
        }]
    );
}

fn assistant(status: RunStatus, answer: Option<&str>) -> Message {
    Message::Assistant(Box::new(AssistantMessage {
        id: Uuid::new_v4(),
        role: AssistantRole::Assistant,
        created_at: wall(),
        status,
        stage1: vec![
            Stage1Result {
                model: "openai/gpt-5.1".into(),
                response: "Use **thiserror**.".into(),
            },
            Stage1Result {
                model: "x-ai/grok-4".into(),
                response: "Use anyhow in binaries.".into(),
            },
        ],
        stage2: vec![Stage2Result {
            model: "openai/gpt-5.1".into(),
            ranking: "Response B is better.\n\nFINAL RANKING:\n1. Response B\n2. Response A".into(),
            parsed_ranking: vec!["Response B".into(), "Response A".into()],
        }],
        stage3: answer.map(|a| Stage3Result {
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
                    model: "x-ai/grok-4".into(),
                    average_rank: 1.0,
                    rankings_count: 1,
                },
                AggregateRanking {
                    model: "openai/gpt-5.1".into(),
                    average_rank: 2.0,
                    rankings_count: 1,
                },
            ],
            failures: vec![],
            usage: Usage::default(),
            ..Metadata::default()
        },
        error: None,
    }))
}

pub(crate) fn user(text: &str) -> Message {
    Message::User(UserMessage {
        id: Uuid::new_v4(),
        role: UserRole::User,
        content: text.into(),
        created_at: wall(),
    })
}

#[test]
fn sending_streams_a_live_run_and_reloads_at_the_end() {
    let t0 = Instant::now();
    let mut app = signed_in(t0);
    let s = summary("Rust errors", 2, 0);
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![s.clone()],
    });
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![],
    ))));
    app.chat.focus = Pane::Input;
    typed(&mut app, "Why?");
    app.update(alt_enter());
    typed(&mut app, "Really");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Send {
            conversation: s.id,
            content: "Why?\nReally".into()
        }]
    );
    assert!(app.chat.input.0.is_empty());
    assert!(app.animating());
    // A second Enter while it runs is refused with a notice.
    typed(&mut app, "more");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app.notice.is_some());

    let ev = |e: CouncilEvent, ms: u64| Event::Council {
        conversation: s.id,
        event: Box::new(e),
        at: t0 + Duration::from_millis(ms),
    };
    app.update(ev(
        CouncilEvent::Stage1Start {
            models: vec!["a/one".into(), "b/two".into()],
        },
        10,
    ));
    app.update(ev(
        CouncilEvent::Stage1Delta {
            model: "a/one".into(),
            delta: "Hel".into(),
        },
        20,
    ));
    let run = app.chat.run.as_ref().expect("running");
    assert_eq!(run.progress.models[0].state, ModelState::Streaming);
    assert_eq!(run.progress.models[1].state, ModelState::Waiting);
    app.update(ev(
        CouncilEvent::Stage1ModelComplete {
            model: "a/one".into(),
            response: "Hello".into(),
        },
        2100,
    ));
    app.update(ev(
        CouncilEvent::Stage1ModelError {
            model: "b/two".into(),
            error: "timed out after 120 s".into(),
        },
        3000,
    ));
    app.update(ev(
        CouncilEvent::TitleComplete {
            data: TitleData {
                title: "Why really".into(),
            },
        },
        3100,
    ));
    assert_eq!(app.chat.conversations[0].title, "Why really");
    app.update(ev(CouncilEvent::Stage1Complete { data: vec![] }, 3200));
    app.update(ev(CouncilEvent::Stage2Start, 3200));
    app.update(ev(
        CouncilEvent::Stage2Complete {
            data: vec![],
            metadata: Stage2Metadata::default(),
        },
        3300,
    ));
    app.update(ev(
        CouncilEvent::Stage3Start {
            model: "c/lead".into(),
        },
        3300,
    ));
    app.update(ev(
        CouncilEvent::Stage3Delta {
            delta: "Because".into(),
        },
        3400,
    ));
    let run = app.chat.run.as_ref().expect("running");
    assert_eq!(
        run.progress.models[0].finished,
        Some(t0 + Duration::from_millis(2100))
    );
    assert!(matches!(
        run.progress.models[1].state,
        ModelState::Failed(_)
    ));
    assert_eq!(
        (run.progress.stage, run.progress.answer.as_str()),
        (3, "Because")
    );
    let done = match assistant(RunStatus::Partial, Some("Because.")) {
        Message::Assistant(a) => a,
        Message::User(_) => unreachable!("an assistant message"),
    };
    let effects = app.update(ev(CouncilEvent::Complete { message: done }, 4000));
    assert!(app.chat.run.is_none());
    assert_eq!(
        effects,
        vec![
            Effect::LoadConversation(s.id),
            Effect::LoadConversations { query: None }
        ]
    );
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("some models failed"))
    );
}

#[test]
fn typing_without_a_conversation_creates_one_then_asks() {
    let now = Instant::now();
    let mut app = signed_in(now);
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![],
    });
    assert_eq!(
        app.chat.focus,
        Pane::Input,
        "the empty screen says: just type"
    );
    typed(&mut app, "First question");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::CreateConversation {
            models: None,
            lead_model: None
        }]
    );
    let s = summary("New Conversation", 0, 0);
    let effects = app.update(Event::Created(Box::new(conversation(&s, vec![]))));
    assert_eq!(
        effects,
        vec![Effect::Send {
            conversation: s.id,
            content: "First question".into()
        }]
    );
    assert_eq!(app.chat.conversations.len(), 1);
}

#[test]
fn a_failed_creation_gives_the_question_back() {
    let mut app = signed_in(Instant::now());
    app.chat.focus = Pane::Input;
    typed(&mut app, "Keep me");
    app.update(key(KeyCode::Enter));
    app.update(Event::Failed {
        what: Request::Create,
        error: Failure::new("boom"),
    });
    assert_eq!(app.chat.input.0.lines().join("\n"), "Keep me");
}

#[test]
fn ctrl_c_during_a_run_asks_then_cancels_or_quits() {
    let t0 = Instant::now();
    let mut app = signed_in(t0);
    let s = summary("Run", 0, 0);
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![],
    ))));
    app.chat.focus = Pane::Input;
    typed(&mut app, "Go");
    app.update(key(KeyCode::Enter));
    assert!(app.update(ctrl('c')).is_empty());
    assert!(matches!(app.chat.dialog, Some(Dialog::StopRun { .. })));
    assert!(
        app.update(key(KeyCode::Esc)).is_empty(),
        "Esc keeps watching"
    );
    assert!(app.chat.dialog.is_none());
    app.update(ctrl('c'));
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Effect::Cancel(s.id)]
    );
    assert!(app.chat.run.as_ref().is_some_and(|r| r.stopping));
    app.update(ctrl('c'));
    assert_eq!(app.update(key(KeyCode::Char('q'))), vec![Effect::Quit]);
    // The error event of the cancelled run ends it.
    let effects = app.update(Event::Council {
        conversation: s.id,
        event: Box::new(CouncilEvent::Error {
            message: "Cancelled".into(),
        }),
        at: t0,
    });
    assert!(app.chat.run.is_none());
    assert_eq!(effects.len(), 2);
}

#[test]
fn answers_expand_to_stage_tabs() {
    let mut app = signed_in(Instant::now());
    let s = summary("Stages", 0, 2);
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![user("Q"), assistant(RunStatus::Complete, Some("A"))],
    ))));
    assert_eq!(app.chat.selected_message, Some(1));
    app.chat.focus = Pane::Messages;
    app.update(key(KeyCode::Enter));
    assert_eq!(
        app.chat.view,
        Some(StageView {
            message: 1,
            stage: 1,
            tab: 0
        })
    );
    app.update(key(KeyCode::Right));
    assert_eq!(app.chat.view.map(|v| v.tab), Some(1));
    app.update(key(KeyCode::Right));
    assert_eq!(app.chat.view.map(|v| v.tab), Some(0), "wraps around");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.chat.view.map(|v| (v.stage, v.tab)), Some((2, 0)));
    app.update(key(KeyCode::Char('2')));
    assert_eq!(app.chat.view.map(|v| v.tab), Some(1), "the aggregate tab");
    app.update(key(KeyCode::Esc));
    assert!(app.chat.view.is_none());
}

#[test]
fn a_conversation_still_running_on_the_server_is_polled() {
    let mut app = signed_in(Instant::now());
    let s = summary("Busy", 0, 2);
    let effects = app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![user("Q"), assistant(RunStatus::Running, None)],
    ))));
    assert_eq!(effects, vec![Effect::ReloadConversationSoon(s.id)]);
}

#[test]
fn settings_save_remove_password_and_sign_out() {
    let mut app = signed_in(Instant::now());
    app.update(key(KeyCode::Esc));
    assert_eq!(app.update(key(KeyCode::Char('s'))), vec![Effect::LoadKeys]);
    assert_eq!(app.screen, Screen::Settings);
    app.update(Event::KeysLoaded(vec![]));
    typed(&mut app, "bad key");
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "whitespace in a key is refused here"
    );
    app.settings.key = auth::single_line(true, "");
    typed(&mut app, "sk-or-v1-abcdef123456");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::SaveKey("sk-or-v1-abcdef123456".into())]
    );
    let saved = ApiKeyResponse {
        id: Uuid::new_v4(),
        provider: "openrouter".into(),
        key_hint: "...3456".into(),
        created_at: wall(),
        updated_at: wall(),
    };
    app.update(Event::KeySaved(saved));
    assert!(
        app.settings
            .status
            .as_ref()
            .is_some_and(|(t, e)| !e && t.contains("...3456"))
    );
    // Remove asks y/N.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Enter));
    assert!(app.settings.confirm_remove);
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Effect::DeleteKey("openrouter".into())]
    );
    app.update(Event::KeyDeleted);
    assert_eq!(app.settings.saved, Some(None));
    // Password: checked here, then sent.
    app.update(key(KeyCode::Tab));
    typed(&mut app, "old password");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "new password");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "new passwrod");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(
        app.settings
            .status
            .as_ref()
            .is_some_and(|(t, e)| *e && t.contains("match"))
    );
    app.settings.confirm = auth::single_line(true, "");
    typed(&mut app, "new password");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::ChangePassword {
            current: "old password".into(),
            new: "new password".into()
        }]
    );
    app.update(Event::Failed {
        what: Request::ChangePassword,
        error: Failure {
            message: "Current password is incorrect".into(),
            status: Some(401),
            session_expired: false,
        },
    });
    assert_eq!(app.settings.focus, SettingsField::CurrentPassword);
    // Sign out.
    app.settings.focus = SettingsField::SignOut;
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Effect::Logout]);
    app.update(Event::SignedOut);
    assert_eq!(app.screen, Screen::Login);
}

#[test]
fn help_opens_and_closes_and_ticks_only_animate_when_needed() {
    let now = Instant::now();
    let mut app = signed_in(now);
    app.update(key(KeyCode::Char('?')));
    assert!(app.help.is_none(), "? in the input box is a question mark");
    assert_eq!(app.chat.input.0.lines().concat(), "?");
    app.update(key(KeyCode::F(1)));
    assert!(app.help.is_some(), "F1 opens the help from anywhere");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('?')));
    assert!(app.help.is_some(), "outside the input ? is the help");
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.help, Some(1), "j scrolls the help");
    app.update(key(KeyCode::Char('x')));
    assert!(app.help.is_some(), "other keys do nothing under the help");
    app.update(key(KeyCode::Esc));
    assert!(app.help.is_none());
    let frame = app.frame;
    app.update(Event::Tick {
        now: now + Duration::from_millis(100),
        wall: wall(),
    });
    assert_eq!(app.frame, frame, "nothing animates: no frame advance");
}

#[test]
fn y_copies_the_focused_answer_and_e_exports_the_conversation() {
    let mut app = signed_in(Instant::now());
    let char_key = |c: char| key(KeyCode::Char(c));
    // Nothing open: both keys say why instead of doing nothing.
    app.chat.focus = Pane::Messages;
    assert!(app.update(char_key('y')).is_empty());
    assert!(app.notice.as_ref().is_some_and(|n| n.error));
    assert!(app.update(char_key('e')).is_empty());
    assert!(app.notice.as_ref().is_some_and(|n| n.error));

    let s = summary("Rust errors: a guide", 0, 4);
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![
            user("Q1"),
            assistant(RunStatus::Complete, Some("First *answer*")),
            user("Q2"),
            assistant(RunStatus::Complete, Some("Second")),
        ],
    ))));
    app.chat.focus = Pane::Messages;
    // The picked answer (the last, at first) goes to the clipboard.
    assert_eq!(
        app.update(char_key('y')),
        vec![Effect::Copy {
            what: "answer".into(),
            text: "Second".into()
        }]
    );
    app.update(key(KeyCode::Up));
    assert_eq!(
        app.update(char_key('y')),
        vec![Effect::Copy {
            what: "answer".into(),
            text: "First *answer*".into()
        }]
    );
    app.update(Event::Copied {
        what: "answer".into(),
        chars: 14,
    });
    assert_eq!(
        app.notice,
        Some(Notice {
            text: "Copied answer (14 chars)".into(),
            error: false
        })
    );
    // In the stage 1 view: the answer of the model whose tab is shown.
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Right));
    assert_eq!(
        app.update(char_key('y')),
        vec![Effect::Copy {
            what: "grok-4's answer".into(),
            text: "Use anyhow in binaries.".into()
        }]
    );
    app.update(key(KeyCode::Esc));

    // e: the open conversation as Markdown, named after its title and the date.
    let effects = app.update(char_key('e'));
    let current = app.chat.current.as_ref().expect("a conversation is open");
    assert_eq!(
        effects,
        vec![Effect::Export {
            file_name: "rust-errors-a-guide-2026-11-26.md".into(),
            contents: crate::export::markdown(current),
        }]
    );
    assert!(
        format!("{effects:?}").contains("bytes"),
        "Debug shows sizes"
    );
    app.update(Event::Exported {
        path: "/home/me/rust-errors-a-guide-2026-11-26.md".into(),
    });
    assert_eq!(
        app.notice.as_ref().map(|n| n.text.as_str()),
        Some("Exported to /home/me/rust-errors-a-guide-2026-11-26.md")
    );
    app.update(Event::Failed {
        what: Request::Export,
        error: Failure::new("Could not export: permission denied"),
    });
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("permission denied"))
    );

    // A failed council has no final answer to copy.
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![user("Q1"), assistant(RunStatus::Failed, None)],
    ))));
    assert!(app.update(char_key('y')).is_empty());
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("no final answer"))
    );

    // While typing, y and e are text.
    app.chat.focus = Pane::Input;
    assert!(app.update(char_key('y')).is_empty());
    assert!(app.update(char_key('e')).is_empty());
    assert_eq!(app.chat.input.0.lines().concat(), "ye");
}

#[test]
fn a_printable_key_that_is_no_command_types_into_the_input() {
    let mut app = signed_in(Instant::now());
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![summary("Old", 1, 2)],
    });
    // From the list: `W` is no command there, so it and all that follows
    // is the question.
    app.chat.focus = Pane::Sidebar;
    typed(&mut app, "Why is the sky blue?");
    assert_eq!(app.chat.focus, Pane::Input);
    assert_eq!(app.chat.input.0.lines().concat(), "Why is the sky blue?");
    // From the conversation too; `j` there is a command, `w` is not.
    app.chat.input = super::chat::Input::default();
    app.chat.focus = Pane::Messages;
    typed(&mut app, "what");
    assert_eq!(app.chat.input.0.lines().concat(), "what");
    // Control keys are never text.
    app.chat.focus = Pane::Sidebar;
    app.update(ctrl('x'));
    assert_eq!(app.chat.focus, Pane::Sidebar);
}

#[test]
fn back_from_settings_a_question_starting_with_s_arrives_whole() {
    let mut app = signed_in(Instant::now());
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![],
    });
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('s')));
    assert_eq!(app.screen, Screen::Settings);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Chat);
    assert_eq!(app.chat.focus, Pane::Input);
    typed(&mut app, "so why is the sky blue?");
    assert_eq!(app.chat.input.0.lines().concat(), "so why is the sky blue?");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::CreateConversation {
            models: None,
            lead_model: None
        }]
    );
}

#[test]
fn search_waits_for_a_pause_and_two_characters() {
    let t0 = Instant::now();
    let mut app = signed_in(t0);
    let tick = |app: &mut App, ms: u64| {
        app.update(Event::Tick {
            now: t0 + Duration::from_millis(ms),
            wall: wall(),
        })
    };
    app.chat.focus = Pane::Sidebar;
    app.update(key(KeyCode::Char('/')));
    assert!(typed(&mut app, "r").is_empty());
    assert!(
        tick(&mut app, 1_000).is_empty(),
        "one character searches nothing"
    );
    app.now = t0 + Duration::from_millis(1_000);
    typed(&mut app, "u");
    app.now = t0 + Duration::from_millis(1_150);
    typed(&mut app, "s");
    assert!(
        tick(&mut app, 1_300).is_empty(),
        "200 ms after the last key, not the first"
    );
    assert_eq!(
        tick(&mut app, 1_350),
        vec![Effect::LoadConversations {
            query: Some("rus".into())
        }]
    );
    assert!(tick(&mut app, 2_000).is_empty(), "sent once");
    // Enter does not wait.
    typed(&mut app, "t");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::LoadConversations {
            query: Some("rust".into())
        }]
    );
    assert!(tick(&mut app, 5_000).is_empty());
}

#[test]
fn local_mode_asks_for_the_key_first_and_never_offers_to_sign_out() {
    let mut app = signed_in(Instant::now());
    app.set_local();
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![],
    });
    let effects = app.update(Event::KeysLoaded(vec![]));
    assert_eq!(
        app.screen,
        Screen::Settings,
        "the first screen asks for the key"
    );
    assert_eq!(effects, vec![Effect::LoadKeys]);
    assert_eq!(app.settings.focus, SettingsField::NewKey);
    assert!(!app.settings.fields().contains(&SettingsField::SignOut));
    assert!(!app.settings.fields().contains(&SettingsField::NewPassword));
    // Tab goes round the key's rows only.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    assert_eq!(app.settings.focus, SettingsField::NewKey);
    app.update(Event::Paste("sk-or-v1-abcdef123456".into()));
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::SaveKey("sk-or-v1-abcdef123456".into())]
    );
    app.update(Event::KeySaved(ApiKeyResponse {
        id: Uuid::new_v4(),
        provider: "openrouter".into(),
        key_hint: "...3456".into(),
        created_at: wall(),
        updated_at: wall(),
    }));
    assert_eq!(app.screen, Screen::Chat, "then straight on to asking");
    assert_eq!(app.chat.focus, Pane::Input);
    // Asked once: a later empty key list only says so.
    app.update(Event::KeysLoaded(vec![]));
    assert_eq!(app.screen, Screen::Chat);
}

#[test]
fn the_sidebar_never_shares_a_row_with_half_a_box() {
    let mut app = signed_in(Instant::now());
    let s = summary("Open", 1, 2);
    assert_eq!(app.chat.sidebar(120), SidebarMode::Column(32));
    assert_eq!(
        app.chat.sidebar(80),
        SidebarMode::Column(26),
        "nothing open yet"
    );
    assert_eq!(app.chat.sidebar(79), SidebarMode::Hidden);
    app.update(Event::ConversationLoaded(Box::new(conversation(
        &s,
        vec![],
    ))));
    assert_eq!(
        app.chat.sidebar(99),
        SidebarMode::Hidden,
        "the answer gets the width"
    );
    app.update(Event::Resize(70, 20));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('b')));
    assert_eq!(app.chat.focus, Pane::Sidebar);
    assert_eq!(
        app.chat.sidebar(70),
        SidebarMode::Overlay,
        "the whole width"
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(app.chat.sidebar(70), SidebarMode::Hidden);
    assert_eq!(app.chat.focus, Pane::Input);
}

#[test]
fn every_hint_shown_is_a_key_that_works() {
    let mut app = signed_in(Instant::now());
    app.update(Event::ConversationsLoaded {
        query: None,
        list: vec![summary("Old", 1, 2)],
    });
    for pane in [Pane::Sidebar, Pane::Messages, Pane::Input] {
        app.chat.focus = pane;
        for (keys, word) in crate::keymap::hints(&app.scopes()) {
            let found = crate::keymap::BINDINGS.iter().any(|b| {
                b.shown == keys && b.hint == Some(word) && app.scopes().contains(&b.scope)
            });
            assert!(found, "{keys} {word} in {pane:?}");
        }
    }
}

#[test]
fn local_mode_signs_in_again_when_the_session_ends() {
    let mut app = signed_in(Instant::now());
    app.set_local();
    let expired = Failure {
        message: "Your session has expired. Please sign in again.".into(),
        status: None,
        session_expired: true,
    };
    let effects = app.update(Event::Failed {
        what: Request::Conversations,
        error: expired,
    });
    assert_eq!(effects, vec![Effect::SignInLocally]);
    assert_eq!(app.screen, Screen::Chat, "no form to fill in");
    // If that fails too, the forms are the way on.
    app.update(Event::LocalSignInFailed("the file is gone".into()));
    assert_eq!(app.screen, Screen::Login);
    assert!(!app.local);
    assert_eq!(
        app.notice.as_ref().map(|n| n.text.as_str()),
        Some("the file is gone")
    );
}
