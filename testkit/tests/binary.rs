//! Runs the `council-testkit` binary as a separate process.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Kills the child on drop so a failing assertion does not leak a server.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_address_and_serves_requests() {
    let child = Command::new(env!("CARGO_BIN_EXE_council-testkit"))
        .args(["--bind", "127.0.0.1:0", "--latency-ms", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut running = Running(child);

    let stdout = running.0.stdout.take().expect("stdout is piped");
    // The binary prints the line right after binding, so this blocking read
    // is short.
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let base_url = line
        .trim()
        .strip_prefix("fake upstream listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let client = support::client();
    let answer: Value = client
        .post(format!("{base_url}/chat/completions"))
        .bearer_auth(support::KEY)
        .json(&support::body("fake/alpha", "binary question", false))
        .send()
        .await
        .expect("binary answers")
        .json()
        .await
        .expect("answer is JSON");
    let content = answer["choices"][0]["message"]["content"]
        .as_str()
        .expect("content");
    assert!(content.contains("binary question"), "{content}");

    let records: Vec<Value> = client
        .get(format!("{base_url}/_requests"))
        .send()
        .await
        .expect("GET /_requests")
        .json()
        .await
        .expect("records are JSON");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["model"], "fake/alpha");
}
