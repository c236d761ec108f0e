//! End-to-end tests of the fake upstream over real HTTP.

mod support;

use std::time::{Duration, Instant};

use council_testkit::{Behavior, FakeUpstream, Outcome, RecordedMessage};
use serde_json::{Value, json};
use support::{
    Event, KEY, body, client, content_of, data_json, parse_sse, post, post_with, streamed_content,
};

async fn start() -> FakeUpstream {
    FakeUpstream::start().await.expect("fake upstream starts")
}

/// `body` asking for the cost, as OpenRouter wants it.
fn with_cost(mut body: Value) -> Value {
    body["usage"] = json!({"include": true});
    body
}

/// The `usage` of an answer, streamed (the last data chunk that has one) or not.
async fn usage_of(response: reqwest::Response, stream: bool) -> Value {
    if !stream {
        let json: Value = response.json().await.expect("answer is JSON");
        return json["usage"].clone();
    }
    let text = response.text().await.expect("stream body");
    data_json(&parse_sse(&text))
        .iter()
        .rev()
        .find_map(|chunk| chunk.get("usage").cloned())
        .unwrap_or(Value::Null)
}

// ---------------------------------------------------------------- answers

#[tokio::test]
async fn non_streamed_answer_has_openai_shape_and_usage() {
    let fake = start().await;
    let question = "What is the tallest mountain on Earth?";
    let response = post(&fake, &with_cost(body("fake/alpha", question, false))).await;
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.expect("answer is JSON");

    assert!(json["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(json["object"], "chat.completion");
    assert!(json["created"].as_u64().is_some_and(|t| t > 0));
    assert_eq!(json["model"], "fake/alpha");
    let choice = &json["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    let content = choice["message"]["content"].as_str().expect("content");
    assert!(content.starts_with("Answer from fake/alpha: "), "{content}");
    assert!(content.contains(question), "{content}");
    assert!(content.split_whitespace().count() >= 8, "{content}");

    let usage = &json["usage"];
    let prompt = usage["prompt_tokens"].as_u64().expect("prompt_tokens");
    let completion = usage["completion_tokens"]
        .as_u64()
        .expect("completion_tokens");
    assert_eq!(prompt, 7, "one token per word of the question");
    assert_eq!(completion, content.split_whitespace().count() as u64);
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
    assert!(usage["cost"].as_f64().is_some_and(|cost| cost > 0.0));
}

#[tokio::test]
async fn the_cost_comes_only_when_asked_and_directives_drop_it_or_all_usage() {
    let fake = start().await;
    for stream in [false, true] {
        let plain = usage_of(post(&fake, &body("fake/alpha", "q", stream)).await, stream).await;
        assert!(plain["prompt_tokens"].as_u64().is_some(), "{plain}");
        assert!(plain.get("cost").is_none(), "not asked for: {plain}");

        let asked = with_cost(body("fake/alpha", "q", stream));
        let usage = usage_of(post(&fake, &asked).await, stream).await;
        assert!(usage["cost"].as_f64().is_some_and(|c| c > 0.0), "{usage}");

        let asked = with_cost(body("fake/alpha:nocost", "q", stream));
        let usage = usage_of(post(&fake, &asked).await, stream).await;
        assert!(usage["completion_tokens"].as_u64().is_some(), "{usage}");
        assert!(usage.get("cost").is_none(), "{usage}");

        let asked = with_cost(body("fake/alpha:nousage", "q", stream));
        let response = post(&fake, &asked).await;
        assert_eq!(response.status(), 200);
        let usage = usage_of(response, stream).await;
        assert_eq!(usage, Value::Null, "stream: {stream}");
    }
    // A stream without usage still ends properly.
    let text = post(&fake, &body("fake/alpha:nousage", "q", true))
        .await
        .text()
        .await
        .expect("stream body");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
}

#[tokio::test]
async fn answers_are_deterministic_and_on_the_v1_path_too() {
    let fake = start().await;
    let request = body("fake/alpha", "same question", false);
    let first = content_of(post(&fake, &request).await).await;
    let via_v1 = client()
        .post(format!("{}/v1/chat/completions", fake.base_url()))
        .bearer_auth(KEY)
        .json(&request)
        .send()
        .await
        .expect("request reaches the fake");
    assert_eq!(content_of(via_v1).await, first);
}

#[tokio::test]
async fn answer_echoes_the_last_user_message() {
    let fake = start().await;
    let request = json!({
        "model": "fake/alpha",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "old question"},
            {"role": "assistant", "content": "old answer"},
            {"role": "user", "content": [{"type": "text", "text": "newest question"}]},
        ],
        "max_tokens": 100,
        "some_unknown_field": {"ignored": true},
    });
    let content = content_of(post(&fake, &request).await).await;
    assert!(content.contains("newest question"), "{content}");
    assert!(!content.contains("old question"), "{content}");
}

#[tokio::test]
async fn streamed_answer_has_the_full_chunk_sequence() {
    let fake = start().await;
    let question = "Explain streaming please";
    let response = post(&fake, &with_cost(body("fake/alpha", question, true))).await;
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );

    let text = response.text().await.expect("stream body");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let events = parse_sse(&text);
    assert_eq!(
        events[0],
        Event::Comment("OPENROUTER PROCESSING".to_owned())
    );
    assert_eq!(events.last(), Some(&Event::Data("[DONE]".to_owned())));

    let chunks = data_json(&events);
    let (usage_chunk, rest) = chunks.split_last().expect("usage chunk");
    let (stop_chunk, content_chunks) = rest.split_last().expect("stop chunk");

    assert!(content_chunks.len() >= 3, "{} chunks", content_chunks.len());
    for chunk in content_chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "fake/alpha");
        assert_eq!(chunk["choices"][0]["index"], 0);
        assert!(chunk["choices"][0]["finish_reason"].is_null());
        assert!(chunk["choices"][0]["delta"]["content"].is_string());
    }
    let content = streamed_content(content_chunks);
    assert!(content.starts_with("Answer from fake/alpha: "), "{content}");
    assert!(content.contains(question), "{content}");

    assert_eq!(stop_chunk["choices"][0]["finish_reason"], "stop");
    assert_eq!(stop_chunk["choices"][0]["delta"], json!({}));

    assert_eq!(usage_chunk["choices"], json!([]));
    let usage = &usage_chunk["usage"];
    assert_eq!(usage["prompt_tokens"], 3);
    assert_eq!(
        usage["completion_tokens"].as_u64(),
        Some(content.split_whitespace().count() as u64)
    );
    assert!(usage["cost"].as_f64().is_some());

    // Every chunk belongs to the same completion.
    let id = &chunks[0]["id"];
    assert!(chunks.iter().all(|chunk| &chunk["id"] == id));
}

#[tokio::test]
async fn streamed_and_plain_answers_have_the_same_content() {
    let fake = start().await;
    let plain = content_of(post(&fake, &body("fake/alpha", "q", false)).await).await;
    let text = post(&fake, &body("fake/alpha", "q", true))
        .await
        .text()
        .await
        .expect("stream body");
    assert_eq!(streamed_content(&data_json(&parse_sse(&text))), plain);
}

fn ranking_request(model: &str) -> Value {
    let prompt = "Evaluate these answers.\n\nResponse A:\nParis.\n\nResponse B:\nLyon.\n\n\
                  Response C:\nMarseille.\n\nThen end with a line FINAL RANKING: followed by \
                  a numbered list such as 1. Response A";
    json!({"model": model, "messages": [{"role": "user", "content": prompt}]})
}

fn ranked_labels(content: &str) -> Vec<String> {
    let (_, list) = content
        .split_once("FINAL RANKING:")
        .expect("answer has FINAL RANKING:");
    list.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (number, label) = line.split_once(". ").expect("numbered line");
            assert!(number.trim().parse::<u32>().is_ok(), "{line}");
            label.trim().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn ranking_answer_lists_every_label_once() {
    let fake = start().await;
    let content = content_of(post(&fake, &ranking_request("fake/alpha")).await).await;
    let mut labels = ranked_labels(&content);
    let before = content
        .split_once("FINAL RANKING:")
        .map(|(before, _)| before)
        .unwrap_or_default();
    for label in ["Response A", "Response B", "Response C"] {
        assert!(
            before.contains(label),
            "evaluation mentions {label}: {content}"
        );
    }
    labels.sort();
    assert_eq!(labels, ["Response A", "Response B", "Response C"]);
}

#[tokio::test]
async fn ranking_order_is_stable_per_model_and_varies_across_models() {
    let fake = start().await;
    let mut orders = Vec::new();
    for model in ["fake/alpha", "fake/beta", "fake/gamma"] {
        let first = content_of(post(&fake, &ranking_request(model)).await).await;
        let again = content_of(post(&fake, &ranking_request(model)).await).await;
        assert_eq!(first, again, "{model} is deterministic");
        orders.push(ranked_labels(&first));
    }
    orders.dedup();
    assert!(orders.len() > 1, "models disagree: {orders:?}");
}

#[tokio::test]
async fn title_request_gets_the_fixed_title() {
    let fake = start().await;
    let request = json!({
        "model": "fake/alpha",
        "messages": [{"role": "user", "content": "Generate a Short Title (3-5 words) for: What is Rust?"}],
    });
    assert_eq!(
        content_of(post(&fake, &request).await).await,
        "Fake Council Title"
    );
}

#[tokio::test]
async fn empty_directive_answers_with_empty_content() {
    let fake = start().await;
    let content = content_of(post(&fake, &body("fake/quiet:empty", "hello", false)).await).await;
    assert_eq!(content, "");

    let text = post(&fake, &body("fake/quiet:empty", "hello", true))
        .await
        .text()
        .await
        .expect("stream body");
    let chunks = data_json(&parse_sse(&text));
    assert_eq!(streamed_content(&chunks), "");
    assert!(text.ends_with("data: [DONE]\n\n"));
}

// ------------------------------------------------------------------- keys

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let json: Value = response.json().await.expect("error body is JSON");
    (status, json)
}

#[tokio::test]
async fn missing_or_invalid_key_is_401_and_forbidden_is_403() {
    let fake = start().await;
    let request = body("fake/alpha", "hi", false);
    let client = client();

    let (status, json) = error_of(post_with(&client, &fake, &request, None).await).await;
    assert_eq!(status, 401);
    assert_eq!(json["error"]["message"], "No auth credentials found");
    assert_eq!(json["error"]["code"], 401);

    let (status, _) =
        error_of(post_with(&client, &fake, &request, Some("sk-invalid-key")).await).await;
    assert_eq!(status, 401);

    let not_bearer = client
        .post(format!("{}/chat/completions", fake.base_url()))
        .header("authorization", format!("Basic {KEY}"))
        .json(&request)
        .send()
        .await
        .expect("request reaches the fake");
    assert_eq!(not_bearer.status(), 401);

    let (status, json) =
        error_of(post_with(&client, &fake, &request, Some("sk-forbidden-key")).await).await;
    assert_eq!(status, 403);
    assert_eq!(json["error"]["code"], 403);

    assert_eq!(
        post_with(&client, &fake, &request, Some("anything-else"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn require_key_accepts_only_that_key() {
    let fake = start().await;
    fake.require_key("sk-the-one");
    let request = body("fake/alpha", "hi", false);
    let client = client();
    assert_eq!(
        post_with(&client, &fake, &request, Some("sk-the-one"))
            .await
            .status(),
        200
    );
    assert_eq!(
        post_with(&client, &fake, &request, Some("sk-other"))
            .await
            .status(),
        401
    );
    assert_eq!(
        post_with(&client, &fake, &request, None).await.status(),
        401
    );
}

// --------------------------------------------------------------- failures

#[tokio::test]
async fn fail500_always_fails_with_an_error_body() {
    let fake = start().await;
    for _ in 0..2 {
        let (status, json) =
            error_of(post(&fake, &body("fake/broken:fail500", "q", false)).await).await;
        assert_eq!(status, 500);
        assert_eq!(json["error"]["code"], 500);
        assert!(json["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn fail429_sets_retry_after() {
    let fake = start().await;
    for _ in 0..2 {
        let response = post(&fake, &body("fake/busy:fail429", "q", true)).await;
        assert_eq!(
            response.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        let (status, json) = error_of(response).await;
        assert_eq!(status, 429);
        assert_eq!(json["error"]["code"], 429);
    }
}

#[tokio::test]
async fn bad400_is_a_client_error() {
    let fake = start().await;
    let (status, json) = error_of(post(&fake, &body("fake/picky:bad400", "q", false)).await).await;
    assert_eq!(status, 400);
    assert_eq!(json["error"]["code"], 400);
}

#[tokio::test]
async fn flaky_models_fail_only_their_first_call() {
    let fake = start().await;
    let flaky = body("fake/alpha:flaky429", "q", false);
    let first = post(&fake, &flaky).await;
    assert_eq!(first.status(), 429);
    assert!(first.headers().contains_key("retry-after"));
    assert_eq!(post(&fake, &flaky).await.status(), 200);
    assert_eq!(post(&fake, &flaky).await.status(), 200);

    // Counted per exact model id.
    let other = body("fake/beta:flaky500", "q", true);
    assert_eq!(post(&fake, &other).await.status(), 500);
    assert_eq!(post(&fake, &other).await.status(), 200);

    // And per server instance.
    let fresh = start().await;
    assert_eq!(post(&fresh, &flaky).await.status(), 429);
}

#[tokio::test]
async fn malformed_answers_are_not_json() {
    let fake = start().await;
    let response = post(&fake, &body("fake/alpha:malformed", "q", false)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    let response = post(&fake, &body("fake/alpha:malformed", "q", true)).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    let data: Vec<String> = parse_sse(&text)
        .into_iter()
        .filter_map(|event| match event {
            Event::Data(data) => Some(data),
            Event::Comment(_) => None,
        })
        .collect();
    assert!(!data.is_empty(), "{text}");
    for line in &data {
        assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    }
    assert!(!text.contains("[DONE]"), "{text}");
}

// ------------------------------------------------------ latency and hangs

#[tokio::test]
async fn ms_directive_delays_the_answer() {
    let fake = start().await;
    let started = Instant::now();
    let response = post(&fake, &body("fake/slow:ms200", "q", false)).await;
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let mut response = post(&fake, &body("fake/slow:ms150", "q", true)).await;
    let mut seen = String::new();
    while !seen.contains("data: {") {
        let chunk = response
            .chunk()
            .await
            .expect("stream readable")
            .expect("stream has a content chunk");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // A stream's first chunk comes after nine tenths of the latency...
    assert!(
        started.elapsed() >= Duration::from_millis(135),
        "{:?}",
        started.elapsed()
    );
    let rest = response.text().await.expect("rest of stream");
    // ...and the whole call takes it.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert!(rest.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn default_latency_applies_to_models_without_ms() {
    let fake = start().await;
    fake.set_default_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(
        post(&fake, &body("fake/alpha", "q", false)).await.status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));

    // An explicit msN wins over the default.
    let started = Instant::now();
    assert_eq!(
        post(&fake, &body("fake/alpha:ms300", "q", false))
            .await
            .status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn hang_times_out_the_client_without_blocking_others() {
    let fake = start().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client builds");
    let hanging = {
        let url = format!("{}/chat/completions", fake.base_url());
        let request = body("fake/stuck:hang", "q", false);
        tokio::spawn(async move {
            impatient
                .post(url)
                .bearer_auth(KEY)
                .json(&request)
                .send()
                .await
        })
    };

    // Meanwhile a normal call is answered: were the server blocked by the
    // hanging call, this would never succeed.
    while fake.requests_for("fake/stuck:hang").is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        post(&fake, &body("fake/alpha", "q", false)).await.status(),
        200
    );

    let error = hanging
        .await
        .expect("task runs")
        .expect_err("hanging request times out");
    assert!(error.is_timeout(), "{error}");
    assert_eq!(fake.requests_for("fake/stuck:hang").len(), 1);
}

#[tokio::test]
async fn hangstream_sends_one_chunk_then_nothing() {
    let fake = start().await;
    let mut response = post(&fake, &body("fake/stuck:hangstream", "a b c d e", true)).await;
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    while !seen.contains("data: {") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), response.chunk())
            .await
            .expect("first chunk arrives")
            .expect("stream readable")
            .expect("stream not finished");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let chunks = data_json(&parse_sse(&seen));
    assert_eq!(chunks.len(), 1, "{seen}");
    assert!(chunks[0]["choices"][0]["delta"]["content"].is_string());

    let next = tokio::time::timeout(Duration::from_millis(300), response.chunk()).await;
    assert!(next.is_err(), "nothing more arrives: {next:?}");

    // Non-streamed calls simply hang.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client builds");
    let error = impatient
        .post(format!("{}/chat/completions", fake.base_url()))
        .bearer_auth(KEY)
        .json(&body("fake/stuck:hangstream", "q", false))
        .send()
        .await
        .expect_err("non-streamed hangstream hangs");
    assert!(error.is_timeout(), "{error}");
}

#[tokio::test]
async fn shutdown_releases_hanging_requests() {
    let fake = start().await;
    let url = format!("{}/chat/completions", fake.base_url());
    let hanging = tokio::spawn(async move {
        client()
            .post(url)
            .bearer_auth(KEY)
            .json(&body("fake/stuck:hang", "q", false))
            .send()
            .await
    });
    // Wait until the request has arrived before shutting down.
    while fake.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    fake.shutdown().await;
    // The client sees either the 503 or a closed connection rather than
    // hanging until its own 5 s timeout.
    let _ = tokio::time::timeout(Duration::from_secs(3), hanging)
        .await
        .expect("hanging client is released");
}

// ------------------------------------------------------ overrides, records

#[tokio::test]
async fn set_behavior_beats_directives() {
    let fake = start().await;
    fake.set_behavior(
        "fake/alpha:fail500",
        Behavior {
            reply: Some("overridden reply".to_owned()),
            ..Behavior::default()
        },
    );
    let content = content_of(post(&fake, &body("fake/alpha:fail500", "q", false)).await).await;
    assert_eq!(content, "overridden reply");

    fake.set_behavior(
        "fake/plain",
        Behavior {
            outcome: Outcome::Status(503),
            ..Behavior::default()
        },
    );
    assert_eq!(
        post(&fake, &body("fake/plain", "q", false)).await.status(),
        503
    );

    fake.set_behavior(
        "fake/once",
        Behavior {
            latency: Some(Duration::from_millis(100)),
            outcome: Outcome::FailFirst(502),
            ..Behavior::default()
        },
    );
    let started = Instant::now();
    assert_eq!(
        post(&fake, &body("fake/once", "q", false)).await.status(),
        502
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(
        post(&fake, &body("fake/once", "q", false)).await.status(),
        200
    );
}

#[tokio::test]
async fn requests_are_recorded_even_when_they_fail() {
    let fake = start().await;
    let client = client();
    let ok = json!({
        "model": "fake/alpha",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello there"},
        ],
        "stream": true,
    });
    let response = client
        .post(format!("{}/chat/completions", fake.base_url()))
        .bearer_auth(KEY)
        .header("X-Title", "The Council")
        .json(&ok)
        .send()
        .await
        .expect("request reaches the fake");
    response.text().await.expect("stream body");
    assert_eq!(
        post_with(&client, &fake, &body("fake/alpha", "no key", false), None)
            .await
            .status(),
        401
    );
    assert_eq!(
        post(&fake, &body("fake/b:fail500", "broken", false))
            .await
            .status(),
        500
    );

    let records = fake.requests();
    assert_eq!(records.len(), 3);
    let first = &records[0];
    assert_eq!(first.authorization.as_deref(), Some("Bearer sk-test-key"));
    assert_eq!(first.model, "fake/alpha");
    assert!(first.stream);
    assert_eq!(
        first.messages,
        vec![
            RecordedMessage::new("system", "Be brief."),
            RecordedMessage::new("user", "Hello there"),
        ]
    );
    assert_eq!(
        first.headers.get("x-title").map(String::as_str),
        Some("The Council")
    );
    assert_eq!(
        first.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-test-key")
    );
    assert!(first.headers.contains_key("content-type"));

    assert_eq!(records[1].authorization, None);
    assert_eq!(records[1].messages[0].content, "no key");
    assert!(!records[1].stream);
    assert_eq!(records[2].model, "fake/b:fail500");
    assert!(records[0].received_at_ms <= records[2].received_at_ms);

    assert_eq!(fake.requests_for("fake/alpha").len(), 2);
    assert_eq!(fake.requests_for("fake/b:fail500").len(), 1);
    assert!(fake.requests_for("fake/none").is_empty());

    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn requests_endpoint_lists_and_clears_records() {
    let fake = start().await;
    post(&fake, &body("fake/alpha", "recorded", false)).await;
    let client = client();
    let url = format!("{}/_requests", fake.base_url());

    let records: Vec<council_testkit::RecordedRequest> = client
        .get(&url)
        .send()
        .await
        .expect("GET /_requests")
        .json()
        .await
        .expect("records are JSON");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].messages[0].content, "recorded");

    let deleted = client.delete(&url).send().await.expect("DELETE /_requests");
    assert!(deleted.status().is_success());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn invalid_json_is_recorded_and_rejected() {
    let fake = start().await;
    let response = client()
        .post(format!("{}/chat/completions", fake.base_url()))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request reaches the fake");
    assert_eq!(response.status(), 400);
    let records = fake.requests();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].model, "");
}
