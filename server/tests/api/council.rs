//! Sending messages: the three stages against the fake upstream, streaming,
//! persistence, failures, and runs that outlive their requests.

use std::time::Duration;

use council_shared::CouncilEvent;
use council_testkit::FakeUpstream;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Session, TestApp, email};

const KEY: &str = "sk-or-v1-council-test-key-0001";
const COUNCIL: &[&str] = &["fake/alpha", "fake/beta", "fake/gamma"];
const LEAD: &str = "fake/chair";
const NO_KEY: &str = "No API key configured. Please add your OpenRouter API key in Settings.";

/// A fake upstream, a server using it, and a user with a saved key.
pub(crate) async fn setup() -> (FakeUpstream, TestApp, Session) {
    setup_with(|_| {}).await
}

async fn setup_with(
    tweak: impl FnOnce(&mut council_server::Config),
) -> (FakeUpstream, TestApp, Session) {
    let fake = FakeUpstream::start().await.expect("fake upstream starts");
    let base = fake.base_url();
    let app = TestApp::spawn_with(|c| {
        c.openrouter_base_url = base;
        tweak(c);
    })
    .await;
    let s = app.register(&email("council")).await;
    app.save_key(&s.access, KEY).await;
    (fake, app, s)
}

/// Polls the conversation until its last message is no longer running.
async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let conv = app.conversation(token, id).await;
        let last = conv["messages"]
            .as_array()
            .and_then(|m| m.last().cloned())
            .unwrap_or(Value::Null);
        if last["status"] != "running" {
            return conv;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run never finished");
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect()
}

#[tokio::test]
async fn a_question_gets_three_stages_and_they_survive_a_reload() {
    let (fake, app, s) = setup().await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    let r = app
        .ask(&s.access, &conv, "How should a library crate model errors?")
        .await
        .expect(200);
    let m = &r.body;
    assert_eq!(m["role"], "assistant");
    assert_eq!(m["status"], "complete");
    assert_eq!(m["error"], Value::Null);

    let stage1 = m["stage1"].as_array().expect("stage1");
    let models: Vec<&str> = stage1
        .iter()
        .map(|r| r["model"].as_str().expect("model"))
        .collect();
    assert_eq!(
        models, COUNCIL,
        "every council model answered, in council order"
    );
    for r in stage1 {
        assert!(
            r["response"]
                .as_str()
                .expect("response")
                .contains("How should a library crate model errors?")
        );
    }

    let stage2 = m["stage2"].as_array().expect("stage2");
    assert_eq!(stage2.len(), 3);
    for r in stage2 {
        let parsed = r["parsed_ranking"].as_array().expect("parsed");
        assert_eq!(parsed.len(), 3, "each evaluation ranks all three: {r}");
        assert!(
            r["ranking"]
                .as_str()
                .expect("ranking")
                .contains("FINAL RANKING:")
        );
    }
    let labels = m["metadata"]["label_to_model"].as_object().expect("labels");
    assert_eq!(labels.len(), 3);
    let mut mapped: Vec<&str> = labels
        .values()
        .map(|v| v.as_str().expect("model"))
        .collect();
    mapped.sort_unstable();
    assert_eq!(mapped, COUNCIL);
    let aggregate = m["metadata"]["aggregate_rankings"]
        .as_array()
        .expect("aggregate");
    assert_eq!(aggregate.len(), 3);
    let averages: Vec<f64> = aggregate
        .iter()
        .map(|a| a["average_rank"].as_f64().expect("avg"))
        .collect();
    assert!(
        averages.windows(2).all(|w| w[0] <= w[1]),
        "best first: {averages:?}"
    );
    assert!(aggregate.iter().all(|a| a["rankings_count"] == 3));

    assert_eq!(m["stage3"]["model"], LEAD);
    assert!(
        m["stage3"]["response"]
            .as_str()
            .expect("final")
            .starts_with("Answer from fake/chair")
    );
    let usage = &m["metadata"]["usage"];
    assert!(usage["prompt_tokens"].as_u64().expect("prompt tokens") > 0);
    assert!(
        usage["completion_tokens"]
            .as_u64()
            .expect("completion tokens")
            > 0
    );
    assert_eq!(m["metadata"]["failures"], json!([]));

    // The reloaded conversation holds the question and exactly this answer,
    // de-anonymised rankings included; the first message named it.
    let reloaded = app.conversation(&s.access, &conv).await;
    assert_eq!(reloaded["message_count"], 2);
    assert_eq!(reloaded["title"], "Fake Council Title");
    let msgs = reloaded["messages"].as_array().expect("messages");
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(
        msgs[0]["content"],
        "How should a library crate model errors?"
    );
    assert_eq!(&msgs[1], m, "the stored message is the one returned");

    // Three stage-1 calls, three evaluations, one synthesis, one title.
    assert_eq!(fake.requests().len(), 8);
}

#[tokio::test]
async fn every_upstream_call_carries_the_users_own_key() {
    let (fake, app, alice) = setup().await;
    let bob = app.register(&email("bob")).await;
    app.save_key(&bob.access, "sk-or-v1-bobs-own-key-77").await;
    let a = app.conversation_with(&alice.access, COUNCIL, LEAD).await;
    let b = app.conversation_with(&bob.access, COUNCIL, LEAD).await;
    app.ask(&alice.access, &a, "Alice asks").await.expect(200);
    let alice_calls = fake.requests();
    assert!(!alice_calls.is_empty());
    for r in &alice_calls {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str()),
            "{}",
            r.model
        );
        assert_eq!(
            r.headers.get("x-title").map(String::as_str),
            Some("The Council")
        );
        assert!(r.headers.contains_key("http-referer"));
    }
    fake.clear_requests();
    app.ask(&bob.access, &b, "Bob asks").await.expect(200);
    for r in fake.requests() {
        assert_eq!(
            r.authorization.as_deref(),
            Some("Bearer sk-or-v1-bobs-own-key-77")
        );
    }
}

#[tokio::test]
async fn follow_ups_carry_earlier_questions_and_final_answers() {
    let (fake, app, s) = setup().await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    let first = app
        .ask(&s.access, &conv, "First question about lifetimes")
        .await
        .expect(200);
    let first_answer = first.body["stage3"]["response"]
        .as_str()
        .expect("answer")
        .to_owned();
    fake.clear_requests();
    app.ask(&s.access, &conv, "And a follow-up?")
        .await
        .expect(200);
    for model in COUNCIL {
        let calls = fake.requests_for(model);
        let stage1 = calls
            .iter()
            .find(|r| r.stream)
            .expect("a streamed stage-1 call");
        let contents: Vec<(&str, &str)> = stage1
            .messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            contents,
            [
                ("user", "First question about lifetimes"),
                ("assistant", first_answer.as_str()),
                ("user", "And a follow-up?")
            ]
        );
    }
    // Only the first message asks for a title.
    let titles = fake
        .requests()
        .iter()
        .filter(|r| r.model == "test/title")
        .count();
    assert_eq!(titles, 0);
}

#[tokio::test]
async fn a_failing_model_makes_the_run_partial() {
    let (_fake, app, s) = setup().await;
    let conv = app
        .conversation_with(
            &s.access,
            &["fake/alpha", "fake/broken:fail500", "fake/gamma"],
            LEAD,
        )
        .await;
    let r = app.ask(&s.access, &conv, "Partial?").await.expect(200);
    assert_eq!(r.body["status"], "partial");
    let answered: Vec<&str> = r.body["stage1"]
        .as_array()
        .expect("stage1")
        .iter()
        .map(|x| x["model"].as_str().expect("m"))
        .collect();
    assert_eq!(answered, ["fake/alpha", "fake/gamma"]);
    let failures = r.body["metadata"]["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["model"], "fake/broken:fail500");
    assert_eq!(failures[0]["stage"], 1);
    assert!(
        failures[0]["error"]
            .as_str()
            .expect("error")
            .contains("500")
    );
    assert_eq!(
        r.body["stage2"].as_array().map(Vec::len),
        Some(2),
        "only those who answered rank"
    );
    assert!(r.body["stage3"]["response"].is_string());
}

#[tokio::test]
async fn when_every_model_fails_the_run_fails_with_a_clear_error() {
    let (_fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, &["fake/a:fail500", "fake/b:fail500"], LEAD)
        .await;
    let r = app.ask(&s.access, &conv, "Anyone?").await.expect_error(502);
    assert!(
        r.detail().contains("Every council model failed"),
        "{}",
        r.detail()
    );
    let stored = app.conversation(&s.access, &conv).await;
    let last = &stored["messages"][1];
    assert_eq!(last["status"], "failed");
    assert_eq!(last["error"], r.detail());
    assert_eq!(last["stage3"], Value::Null);
    assert_eq!(
        last["metadata"]["failures"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn a_failing_lead_model_fails_the_run_but_keeps_the_stages() {
    let (_fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, COUNCIL, "fake/chair:fail500")
        .await;
    let r = app.ask(&s.access, &conv, "Lead?").await.expect_error(502);
    assert!(r.detail().contains("lead model"), "{}", r.detail());
    let last = &app.conversation(&s.access, &conv).await["messages"][1];
    assert_eq!(last["status"], "failed");
    assert_eq!(last["stage1"].as_array().map(Vec::len), Some(3));
    assert_eq!(last["stage2"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn transient_failures_are_retried() {
    let (fake, app, s) = setup().await;
    let conv = app
        .conversation_with(
            &s.access,
            &["fake/alpha:flaky429", "fake/beta:flaky500"],
            LEAD,
        )
        .await;
    let r = app.ask(&s.access, &conv, "Retry me").await.expect(200);
    assert_eq!(r.body["status"], "complete");
    // First stage-1 call failed, the retry answered; later calls succeed at once.
    assert_eq!(
        fake.requests_for("fake/alpha:flaky429")
            .iter()
            .filter(|r| r.stream)
            .count(),
        2
    );
    assert_eq!(
        fake.requests_for("fake/beta:flaky500")
            .iter()
            .filter(|r| r.stream)
            .count(),
        2
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, &["fake/alpha", "fake/beta:bad400"], LEAD)
        .await;
    let r = app.ask(&s.access, &conv, "No retry").await.expect(200);
    assert_eq!(r.body["status"], "partial");
    assert_eq!(fake.requests_for("fake/beta:bad400").len(), 1);
}

#[tokio::test]
async fn a_hanging_model_times_out() {
    let (_fake, app, s) = setup_with(|c| c.upstream_timeout = Duration::from_secs(1)).await;
    let conv = app
        .conversation_with(&s.access, &["fake/alpha", "fake/stuck:hang"], LEAD)
        .await;
    let r = app.ask(&s.access, &conv, "Still there?").await.expect(200);
    assert_eq!(r.body["status"], "partial");
    let failure = &r.body["metadata"]["failures"][0];
    assert_eq!(failure["model"], "fake/stuck:hang");
    assert!(
        failure["error"]
            .as_str()
            .expect("error")
            .contains("timed out"),
        "{failure}"
    );
}

#[tokio::test]
async fn a_malformed_answer_is_a_model_failure() {
    let (_fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, &["fake/alpha", "fake/garbled:malformed"], LEAD)
        .await;
    let r = app.ask(&s.access, &conv, "Readable?").await.expect(200);
    assert_eq!(r.body["status"], "partial");
    assert!(
        r.body["metadata"]["failures"][0]["error"]
            .as_str()
            .expect("error")
            .contains("malformed")
    );
}

#[tokio::test]
async fn a_rejected_key_says_so() {
    let (_fake, app, s) = setup().await;
    app.save_key(&s.access, "sk-or-v1-invalid-key-000").await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    let r = app.ask(&s.access, &conv, "Key?").await.expect_error(502);
    assert_eq!(
        r.detail(),
        "Every council model failed: the provider rejected your API key"
    );
}

#[tokio::test]
async fn without_a_key_nothing_is_stored() {
    let (fake, app, _) = setup().await;
    let s = app.register(&email("nokey")).await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    let r = app.ask(&s.access, &conv, "Hello?").await.expect_error(400);
    assert_eq!(r.detail(), NO_KEY);
    let (status, body) = app.ask_stream(&s.access, &conv, "Hello?").await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(body[0]["detail"], NO_KEY);
    let stored = app.conversation(&s.access, &conv).await;
    assert_eq!(stored["message_count"], 0);
    assert_eq!(stored["messages"], json!([]));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn bad_messages_are_refused() {
    let (fake, app, s) = setup().await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    app.ask(&s.access, &conv, "").await.expect_error(400);
    app.ask(&s.access, &conv, " \n\t ").await.expect_error(400);
    app.ask(&s.access, &conv, &"x".repeat(32_001))
        .await
        .expect_error(400);
    app.ask(&s.access, &uuid::Uuid::new_v4().to_string(), "Lost?")
        .await
        .expect_error(404);
    app.post(
        &format!("/api/conversations/{conv}/message"),
        Some(&s.access),
        json!({}),
    )
    .await
    .expect_error(422);
    let other = app.register(&email("other")).await;
    app.save_key(&other.access, KEY).await;
    app.ask(&other.access, &conv, "Not mine")
        .await
        .expect_error(404);
    let (status, _) = app.ask_stream(&other.access, &conv, "Not mine").await;
    assert_eq!(status.as_u16(), 404);
    app.call(
        Method::POST,
        &format!("/api/conversations/{conv}/cancel"),
        Some(&other.access),
        None,
    )
    .await
    .expect_error(404);
    assert_eq!(app.conversation(&s.access, &conv).await["message_count"], 0);
    assert!(fake.requests().is_empty());
    app.ask(&s.access, &conv, &"x".repeat(32_000))
        .await
        .expect(200);
}

#[tokio::test]
async fn the_stream_follows_the_api_order() {
    let (_fake, app, s) = setup().await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    let (status, events) = app.ask_stream(&s.access, &conv, "Stream it").await;
    assert!(status.is_success());
    let t = types(&events);
    assert_eq!(t[0], "message_created");
    assert_eq!(t[1], "stage1_start");
    assert_eq!(*t.last().expect("events"), "complete");
    assert_eq!(
        t.iter().filter(|x| **x == "title_complete").count(),
        1,
        "title exactly once"
    );
    let pos = |name: &str| {
        t.iter()
            .position(|x| *x == name)
            .unwrap_or_else(|| panic!("no {name} in {t:?}"))
    };
    let last = |name: &str| {
        t.iter()
            .rposition(|x| *x == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert!(pos("stage1_delta") < pos("stage1_complete"));
    assert_eq!(
        t.iter().filter(|x| **x == "stage1_model_complete").count(),
        3
    );
    assert!(last("stage1_model_complete") < pos("stage1_complete"));
    assert!(pos("stage1_complete") < pos("stage2_start"));
    assert_eq!(
        t.iter().filter(|x| **x == "stage2_model_complete").count(),
        3
    );
    assert!(last("stage2_model_complete") < pos("stage2_complete"));
    assert!(pos("stage2_complete") < pos("stage3_start"));
    assert!(pos("stage3_start") < pos("stage3_delta"));
    assert!(last("stage3_delta") < pos("stage3_complete"));
    assert!(pos("stage3_complete") < pos("complete"));
    assert!(pos("title_complete") < pos("complete"));

    let created = &events[0];
    let done = events.last().expect("complete");
    assert_eq!(created["assistant_message_id"], done["message"]["id"]);
    assert_eq!(events[1]["models"], json!(COUNCIL));
    // The deltas of each model add up to its answer, and stage 3's to the final one.
    for model in COUNCIL {
        let streamed: String = events
            .iter()
            .filter(|e| e["type"] == "stage1_delta" && e["model"] == *model)
            .map(|e| e["delta"].as_str().expect("delta"))
            .collect();
        let complete = events
            .iter()
            .find(|e| e["type"] == "stage1_model_complete" && e["model"] == *model)
            .expect("model complete");
        assert_eq!(streamed, complete["response"].as_str().expect("response"));
    }
    let final_text: String = events
        .iter()
        .filter(|e| e["type"] == "stage3_delta")
        .map(|e| e["delta"].as_str().expect("delta"))
        .collect();
    assert_eq!(
        final_text,
        done["message"]["stage3"]["response"]
            .as_str()
            .expect("final")
    );
    let s2 = events
        .iter()
        .find(|e| e["type"] == "stage2_complete")
        .expect("stage2_complete");
    assert_eq!(
        s2["metadata"]["label_to_model"],
        done["message"]["metadata"]["label_to_model"]
    );
    let title = events
        .iter()
        .find(|e| e["type"] == "title_complete")
        .expect("title");
    assert_eq!(title["data"]["title"], "Fake Council Title");
    // The stream's final message is what a reload shows.
    assert_eq!(
        app.conversation(&s.access, &conv).await["messages"][1],
        done["message"]
    );
}

#[tokio::test]
async fn a_failed_run_ends_the_stream_with_error() {
    let (_fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, &["fake/a:fail500", "fake/b:fail429"], LEAD)
        .await;
    let (_, events) = app.ask_stream(&s.access, &conv, "Doomed").await;
    let t = types(&events);
    assert_eq!(t.iter().filter(|x| **x == "stage1_model_error").count(), 2);
    assert_eq!(*t.last().expect("events"), "error");
    assert!(
        events.last().expect("error")["message"]
            .as_str()
            .expect("message")
            .contains("Every council model failed")
    );
    assert!(!t.contains(&"stage2_start"));
}

#[tokio::test]
async fn a_disconnected_client_finds_the_finished_run_later() {
    let (_fake, app, s) = setup().await;
    let slow: Vec<String> = COUNCIL.iter().map(|m| format!("{m}:ms300")).collect();
    let slow: Vec<&str> = slow.iter().map(String::as_str).collect();
    let conv = app
        .conversation_with(&s.access, &slow, "fake/chair:ms300")
        .await;
    let id = conv.parse().expect("a conversation id");
    let mut events = app
        .as_user(&s.access)
        .stream_message(id, "Walk away")
        .await
        .expect("the council starts");
    assert!(matches!(
        events.next().await,
        Some(Ok(CouncilEvent::MessageCreated { .. }))
    ));
    assert!(matches!(
        events.next().await,
        Some(Ok(CouncilEvent::Stage1Start { .. }))
    ));
    drop(events); // the client goes away mid-run

    let running = app.conversation(&s.access, &conv).await;
    assert_eq!(running["messages"][1]["status"], "running");
    let conv_after = settled(&app, &s.access, &conv).await;
    let answer = &conv_after["messages"][1];
    assert_eq!(answer["status"], "complete");
    assert!(answer["stage3"]["response"].is_string());
}

#[tokio::test]
async fn a_second_message_while_one_runs_is_a_conflict() {
    let (_fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, &["fake/a:ms500", "fake/b:ms500"], "fake/c:ms100")
        .await;
    let mut reader = app.open_stream(&s.access, &conv, "one").await;
    reader.next().await.expect("message_created");
    let second = app.ask(&s.access, &conv, "two").await.expect_error(409);
    assert!(second.detail().contains("already running"));
    let (status, _) = app.ask_stream(&s.access, &conv, "three").await;
    assert_eq!(status.as_u16(), 409);
    // Nothing of the refused messages was stored; the first run finishes.
    while reader.next().await.is_some() {}
    let conv_after = app.conversation(&s.access, &conv).await;
    assert_eq!(conv_after["message_count"], 2);
    // And now the conversation takes the next question.
    app.ask(&s.access, &conv, "four").await.expect(200);
}

#[tokio::test]
async fn cancel_stops_the_run_and_keeps_finished_stages() {
    let (fake, app, s) = setup().await;
    let conv = app
        .conversation_with(&s.access, &["fake/quick", "fake/slow:ms5000"], "fake/chair")
        .await;
    let mut reader = app.open_stream(&s.access, &conv, "Stop me").await;
    // Wait until the quick model has answered.
    reader.until("stage1_model_complete").await;
    let cancel = format!("/api/conversations/{conv}/cancel");
    let r = app
        .call(Method::POST, &cancel, Some(&s.access), None)
        .await
        .expect(200);
    assert_eq!(r.body, json!({"status": "cancelled"}));
    let mut last = Value::Null;
    while let Some(e) = reader.next().await {
        last = e;
    }
    assert_eq!(last, json!({"type": "error", "message": "Cancelled"}));
    let stored = &app.conversation(&s.access, &conv).await["messages"][1];
    assert_eq!(stored["status"], "failed");
    assert_eq!(stored["error"], "Cancelled");
    assert_eq!(
        stored["stage1"][0]["model"], "fake/quick",
        "the finished answer is kept"
    );
    let calls: Vec<(&Value, &Value)> = stored["metadata"]["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["stage"] != 0)
        .map(|c| (&c["model"], &c["stage"]))
        .collect();
    assert_eq!(
        calls,
        [(&json!("fake/quick"), &json!(1))],
        "the call that answered is kept, the cut one is not"
    );
    // Nothing runs any more: cancelling again is a 404, and no synthesis was asked for.
    app.call(Method::POST, &cancel, Some(&s.access), None)
        .await
        .expect_error(404);
    assert!(fake.requests_for("fake/chair").is_empty());
}

#[tokio::test]
async fn a_server_stop_fails_running_councils_and_keeps_their_stages() {
    let (_fake, mut app, s) = setup_with(|c| c.shutdown_grace = Duration::from_millis(200)).await;
    let conv = app
        .conversation_with(
            &s.access,
            &["fake/quick", "fake/slow:ms10000"],
            "fake/chair",
        )
        .await;
    let mut reader = app.open_stream(&s.access, &conv, "Bye").await;
    reader.until("stage1_model_complete").await;
    app.stop().await;
    let mut last = Value::Null;
    while let Some(e) = reader.next().await {
        last = e;
    }
    assert_eq!(last["type"], "error");

    // A new server on the same database shows the run failed, stages kept,
    // and takes new questions.
    let mut conn = app.connect_db();
    let (status, error, stage1) = crate::support::last_message_state(&mut conn, &conv);
    assert_eq!(status, "failed");
    assert_eq!(
        error.as_deref(),
        Some("The server stopped before the council finished")
    );
    assert!(stage1.contains("fake/quick"));
}

#[tokio::test]
async fn runs_of_a_dead_server_are_failed_at_start_up() {
    let (_fake, mut app, s) = setup().await;
    let conv = app.conversation_with(&s.access, COUNCIL, LEAD).await;
    // A run left `running` by an instance that no longer exists.
    let state = app.server.as_ref().expect("running").state().clone();
    let id: uuid::Uuid = conv.parse().expect("a conversation id");
    let dead_instance = uuid::Uuid::new_v4();
    state
        .db
        .write_query(move |c| {
            let now = council_server::db::now();
            let mut q = council_server::db::messages::new_user(id, "Asked before the crash", now);
            council_server::db::messages::append(c, &mut q)?;
            let mut a = council_server::db::messages::new_running(id, dead_instance, now);
            council_server::db::messages::append(c, &mut a)
        })
        .await
        .expect("seeded");
    // While it is `running`, the conversation takes no new question.
    app.ask(&s.access, &conv, "Blocked?")
        .await
        .expect_error(409);

    app.restart().await;
    let stored = app.conversation(&s.access, &conv).await;
    let last = &stored["messages"][1];
    assert_eq!(last["status"], "failed");
    assert_eq!(
        last["error"],
        "The server stopped before the council finished"
    );
    assert_eq!(stored["messages"][0]["content"], "Asked before the crash");
    app.ask(&s.access, &conv, "After the restart")
        .await
        .expect(200);
}

#[tokio::test]
async fn quiet_streams_get_keep_alive_comments() {
    let (_fake, app, s) = setup_with(|c| c.sse_keep_alive = Duration::from_millis(100)).await;
    let conv = app
        .conversation_with(&s.access, &["fake/a:ms700", "fake/b:ms700"], "fake/c")
        .await;
    let mut reader = app.open_stream(&s.access, &conv, "Slow").await;
    while reader.next().await.is_some() {}
    assert!(
        reader.comments.iter().filter(|c| *c == "ping").count() >= 3,
        "{:?}",
        reader.comments
    );
}
