//! `metadata.calls` and `metadata.usage` (API.md "Usage, prices and
//! budgets"): one entry per model call, its stage, tokens, cost and
//! latency, and the sum of them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::council::setup;

/// The fake's cost of one call, when asked for it (`usage.include`).
const FAKE_COST: f64 = 0.00001;

fn calls(message: &Value) -> &Vec<Value> {
    message["metadata"]["calls"].as_array().expect("calls")
}

/// (stage, model) of each call, in the stored order.
fn stages_and_models(message: &Value) -> Vec<(u64, String)> {
    calls(message)
        .iter()
        .map(|c| {
            (
                c["stage"].as_u64().expect("stage"),
                c["model"].as_str().expect("model").to_owned(),
            )
        })
        .collect()
}

fn words(text: &Value) -> u64 {
    text.as_str().expect("text").split_whitespace().count() as u64
}

#[tokio::test]
async fn every_call_is_recorded_with_its_stage_tokens_cost_and_latency() {
    let (fake, app, s) = setup().await;
    let council = ["fake/alpha:ms200", "fake/beta", "fake/gamma"];
    let conv = app
        .conversation_with(&s.access, &council, "fake/chair")
        .await;
    let m = app
        .ask(&s.access, &conv, "Which calls?")
        .await
        .expect(200)
        .body;

    let mut expected = vec![(0, "test/title".to_owned())];
    for stage in [1, 2] {
        expected.extend(council.iter().map(|model| (stage, (*model).to_owned())));
    }
    expected.push((3, "fake/chair".to_owned()));
    assert_eq!(
        stages_and_models(&m),
        expected,
        "one call per model and stage, by stage then in council order"
    );
    // As many calls as the fake received.
    assert_eq!(calls(&m).len(), fake.requests().len());

    // The tokens are the fake's (a token per word), the cost the one it
    // reports when asked for it.
    let answers: BTreeMap<&str, &Value> = m["stage1"]
        .as_array()
        .expect("stage1")
        .iter()
        .map(|r| (r["model"].as_str().expect("model"), &r["response"]))
        .collect();
    for call in calls(&m) {
        assert!(
            call["prompt_tokens"].as_u64().is_some_and(|t| t > 0),
            "{call}"
        );
        assert!(
            call["completion_tokens"].as_u64().is_some_and(|t| t > 0),
            "{call}"
        );
        assert_eq!(call["cost"].as_f64(), Some(FAKE_COST), "{call}");
        let model = call["model"].as_str().expect("model");
        let latency = call["latency_ms"].as_u64().expect("latency_ms");
        if model.ends_with(":ms200") {
            assert!(latency >= 200, "the call took the fake's latency: {call}");
        }
        assert!(latency < 5_000, "{call}");
        match call["stage"].as_u64() {
            Some(1) => assert_eq!(
                call["completion_tokens"].as_u64(),
                Some(words(answers[model]))
            ),
            Some(3) => assert_eq!(
                call["completion_tokens"].as_u64(),
                Some(words(&m["stage3"]["response"]))
            ),
            _ => {}
        }
    }

    // The usage is their sum.
    let usage = &m["metadata"]["usage"];
    for field in ["prompt_tokens", "completion_tokens"] {
        let sum: u64 = calls(&m)
            .iter()
            .map(|c| c[field].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(usage[field].as_u64(), Some(sum), "{field}");
    }
    let cost = usage["cost"].as_f64().expect("a known cost");
    assert!((cost - 8.0 * FAKE_COST).abs() < 1e-12, "{cost}");

    // Stored as sent; a follow-up asks for no title.
    let stored = app.conversation(&s.access, &conv).await;
    assert_eq!(stored["messages"][1]["metadata"], m["metadata"]);
    let next = app
        .ask(&s.access, &conv, "And again?")
        .await
        .expect(200)
        .body;
    assert_eq!(stages_and_models(&next), expected[1..]);
}

#[tokio::test]
async fn an_unknown_cost_is_null_in_the_call_and_in_the_sum() {
    let (_fake, app, s) = setup().await;
    // alpha reports no usage at all, the lead tokens without a cost, and
    // gamma fails (it is in `failures`, not in `calls`).
    let council = ["fake/alpha:nousage", "fake/beta", "fake/gamma:bad400"];
    let conv = app
        .conversation_with(&s.access, &council, "fake/chair:nocost")
        .await;
    let m = app
        .ask(&s.access, &conv, "What does it cost?")
        .await
        .expect(200)
        .body;
    assert_eq!(m["status"], "partial");
    assert_eq!(m["metadata"]["failures"][0]["model"], "fake/gamma:bad400");
    assert_eq!(
        stages_and_models(&m),
        [
            (0, "test/title"),
            (1, "fake/alpha:nousage"),
            (1, "fake/beta"),
            (2, "fake/alpha:nousage"),
            (2, "fake/beta"),
            (3, "fake/chair:nocost"),
        ]
        .map(|(stage, model)| (stage, model.to_owned()))
    );
    for call in calls(&m) {
        let object = call.as_object().expect("an object");
        for field in ["prompt_tokens", "completion_tokens", "cost"] {
            assert!(
                object.contains_key(field),
                "{field} is always there: {call}"
            );
        }
        match call["model"].as_str().expect("model") {
            "fake/alpha:nousage" => {
                assert_eq!(call["prompt_tokens"], Value::Null, "{call}");
                assert_eq!(call["completion_tokens"], Value::Null, "{call}");
                assert_eq!(call["cost"], Value::Null, "{call}");
            }
            "fake/chair:nocost" => {
                assert!(call["completion_tokens"].as_u64().is_some_and(|t| t > 0));
                assert_eq!(call["cost"], Value::Null, "{call}");
            }
            _ => assert_eq!(call["cost"].as_f64(), Some(FAKE_COST), "{call}"),
        }
    }
    let usage = m["metadata"]["usage"].as_object().expect("usage");
    assert_eq!(usage.get("cost"), Some(&Value::Null), "never 0 for unknown");
    let known: u64 = calls(&m)
        .iter()
        .map(|c| c["prompt_tokens"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(usage["prompt_tokens"], json!(known));
    let stored = app.conversation(&s.access, &conv).await;
    assert_eq!(
        stored["messages"][1]["metadata"]["usage"]["cost"],
        Value::Null
    );
}
