//! Helpers shared by the integration tests: a reqwest client and a small
//! hand-written SSE parser.

#![allow(dead_code)] // Not every test binary uses every helper.

use std::time::Duration;

use council_testkit::FakeUpstream;
use serde_json::{Value, json};

/// The key the tests send unless they test key handling.
pub const KEY: &str = "sk-test-key";

/// A client whose overall timeout is generous but finite, so a broken fake
/// fails a test instead of stalling the run.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("reqwest client builds")
}

/// A minimal chat-completions body with one user message.
pub fn body(model: &str, question: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "stream": stream,
    })
}

/// Posts `body` with the standard test key.
pub async fn post(fake: &FakeUpstream, body: &Value) -> reqwest::Response {
    post_with(&client(), fake, body, Some(KEY)).await
}

/// Posts `body` with an optional bearer key using `client`.
pub async fn post_with(
    client: &reqwest::Client,
    fake: &FakeUpstream,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .post(format!("{}/chat/completions", fake.base_url()))
        .json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.expect("request reaches the fake")
}

/// One parsed SSE event: either a comment or a data payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Comment(String),
    Data(String),
}

/// Splits a complete SSE text into events. Only what the fake emits is
/// supported: `: comment` and `data: payload` lines, events separated by a
/// blank line.
pub fn parse_sse(text: &str) -> Vec<Event> {
    text.split("\n\n")
        .filter(|block| !block.is_empty())
        .flat_map(|block| block.lines())
        .map(|line| {
            if let Some(comment) = line.strip_prefix(':') {
                Event::Comment(comment.trim().to_owned())
            } else if let Some(data) = line.strip_prefix("data:") {
                Event::Data(data.trim_start().to_owned())
            } else {
                panic!("unexpected SSE line {line:?}")
            }
        })
        .collect()
}

/// The JSON payloads of the data events, stopping before `[DONE]`.
pub fn data_json(events: &[Event]) -> Vec<Value> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Data(data) if data != "[DONE]" => {
                Some(serde_json::from_str(data).expect("data line is JSON"))
            }
            _ => None,
        })
        .collect()
}

/// The concatenated `delta.content` of stream chunks.
pub fn streamed_content(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// The `message.content` of a non-streamed answer.
pub async fn content_of(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.expect("answer is JSON");
    json["choices"][0]["message"]["content"]
        .as_str()
        .expect("content is a string")
        .to_owned()
}
