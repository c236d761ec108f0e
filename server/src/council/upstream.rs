//! The OpenAI-compatible upstream (OpenRouter by default): one shared HTTP
//! client, the user's own key per call, streamed answers parsed as SSE,
//! a timeout per call and bounded retries on transient failures only.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// OpenRouter's attribution headers: who is calling.
const REFERER: &str = "https://github.com/the-council/council";
const TITLE: &str = "The Council";

/// One chat message sent upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: &'static str,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: &str) -> Self {
        Self {
            role: "user",
            content: content.to_owned(),
        }
    }

    pub fn assistant(content: &str) -> Self {
        Self {
            role: "assistant",
            content: content.to_owned(),
        }
    }
}

/// A finished answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub content: String,
    pub usage: ReportedUsage,
}

/// What the provider said a call used; `None` where it said nothing (no
/// `usage` at all, or one without that field).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReportedUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// US dollars: OpenRouter's `usage.cost`, sent because every request
    /// asks for it.
    pub cost: Option<f64>,
}

/// Why a model call failed; the text is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("the provider rejected your API key")]
    KeyRejected,
    #[error("timed out after {0} s")]
    Timeout(u64),
    #[error("rate limited by the provider (HTTP 429)")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the provider failed (HTTP {0})")]
    Server(u16),
    #[error("the provider refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("could not reach the provider")]
    Connection,
    #[error("malformed response from the provider")]
    Malformed,
    #[error("the model returned an empty answer")]
    Empty,
}

impl UpstreamError {
    /// Worth another try: the provider may answer next time.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server(_) | Self::Connection
        )
    }
}

/// How often and how patiently to retry transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(400),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter, or the provider's Retry-After
    /// when it asks for a wait we are willing to give.
    fn delay(&self, attempt: u32, error: &UpstreamError) -> Duration {
        if let UpstreamError::RateLimited {
            retry_after: Some(wait),
        } = error
            && *wait <= self.max_delay
        {
            return *wait;
        }
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max_delay);
        let jitter = rand::random_range(0.5..=1.0);
        ceiling.mul_f64(jitter)
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    /// OpenRouter: report the cost in `usage`.
    usage: UsageRequest,
}

impl<'a> ChatRequest<'a> {
    /// A request that also asks for the usage (and, on OpenRouter, the
    /// cost) in the answer, streamed or not.
    fn new(model: &'a str, messages: &'a [ChatMessage], stream: bool) -> Self {
        Self {
            model,
            messages,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            usage: UsageRequest { include: true },
        }
    }
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct UsageRequest {
    include: bool,
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    delta: Option<WireMessage>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    cost: Option<f64>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl From<WireUsage> for ReportedUsage {
    fn from(u: WireUsage) -> Self {
        Self {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cost: u.cost,
        }
    }
}

/// A provider error reported inside a 200 body or stream.
fn wire_error(e: WireError) -> UpstreamError {
    let status = e
        .code
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(502);
    classify(status, None, e.message.unwrap_or_default())
}

fn classify(status: u16, retry_after: Option<Duration>, message: String) -> UpstreamError {
    match status {
        401 | 403 => UpstreamError::KeyRejected,
        429 => UpstreamError::RateLimited { retry_after },
        s if s >= 500 => UpstreamError::Server(s),
        s => UpstreamError::Refused {
            status: s,
            message: message.chars().take(300).collect(),
        },
    }
}

/// Calls `<base>/chat/completions` for the council.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    endpoint: String,
    timeout: Duration,
    retry: RetryPolicy,
}

impl UpstreamClient {
    pub fn new(
        base_url: &str,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, reqwest::Error> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("HTTP-Referer", HeaderValue::from_static(REFERER));
        headers.insert("X-Title", HeaderValue::from_static(TITLE));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Self {
            http,
            endpoint: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            timeout,
            retry,
        })
    }

    /// A whole answer at once.
    pub async fn complete(
        &self,
        key: &SecretString,
        model: &str,
        messages: &[ChatMessage],
    ) -> Result<Completion, UpstreamError> {
        self.with_retries(
            || async { self.complete_once(key, model, messages).await },
            || true,
        )
        .await
    }

    /// An answer streamed: `on_delta` sees each piece as it arrives. A call
    /// that already produced pieces is not retried (they were shown).
    pub async fn stream(
        &self,
        key: &SecretString,
        model: &str,
        messages: &[ChatMessage],
        on_delta: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Completion, UpstreamError> {
        let produced = std::sync::atomic::AtomicBool::new(false);
        let tracking = |piece: &str| {
            produced.store(true, std::sync::atomic::Ordering::Relaxed);
            on_delta(piece);
        };
        self.with_retries(
            || async { self.stream_once(key, model, messages, &tracking).await },
            || !produced.load(std::sync::atomic::Ordering::Relaxed),
        )
        .await
    }

    async fn with_retries<F, Fut>(
        &self,
        mut call: F,
        may_retry: impl Fn() -> bool,
    ) -> Result<Completion, UpstreamError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Completion, UpstreamError>>,
    {
        let mut attempt = 0;
        loop {
            let result = match tokio::time::timeout(self.timeout, call()).await {
                Ok(r) => r,
                Err(_) => Err(UpstreamError::Timeout(self.timeout.as_secs())),
            };
            match result {
                Ok(c) if c.content.trim().is_empty() => return Err(UpstreamError::Empty),
                Ok(c) => return Ok(c),
                Err(e) if e.is_transient() && attempt + 1 < self.retry.attempts && may_retry() => {
                    let wait = self.retry.delay(attempt, &e);
                    tracing::debug!(error = %e, attempt, ?wait, "retrying a model call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn request(&self, key: &SecretString, body: &ChatRequest<'_>) -> reqwest::RequestBuilder {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
        auth.set_sensitive(true);
        self.http
            .post(&self.endpoint)
            .header(AUTHORIZATION, auth)
            .json(body)
    }

    /// Sends and checks the status; an error status becomes its error.
    async fn send(
        &self,
        key: &SecretString,
        body: &ChatRequest<'_>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let response = self.request(key, body).send().await.map_err(|e| {
            tracing::debug!(error = %e, "upstream connection failed");
            UpstreamError::Connection
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ChatResponse>(&text)
            .ok()
            .and_then(|r| r.error)
            .and_then(|e| e.message)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        Err(classify(status.as_u16(), retry_after, message))
    }

    async fn complete_once(
        &self,
        key: &SecretString,
        model: &str,
        messages: &[ChatMessage],
    ) -> Result<Completion, UpstreamError> {
        let body = ChatRequest::new(model, messages, false);
        let response = self.send(key, &body).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|_| UpstreamError::Connection)?;
        let parsed: ChatResponse =
            serde_json::from_slice(&bytes).map_err(|_| UpstreamError::Malformed)?;
        if let Some(e) = parsed.error {
            return Err(wire_error(e));
        }
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message)
            .and_then(|m| m.content)
            .ok_or(UpstreamError::Malformed)?;
        Ok(Completion {
            content,
            usage: parsed.usage.map(ReportedUsage::from).unwrap_or_default(),
        })
    }

    async fn stream_once(
        &self,
        key: &SecretString,
        model: &str,
        messages: &[ChatMessage],
        on_delta: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Completion, UpstreamError> {
        let body = ChatRequest::new(model, messages, true);
        let response = self.send(key, &body).await?;
        if response.status() != StatusCode::OK {
            return Err(UpstreamError::Malformed);
        }
        let mut events = response.bytes_stream().eventsource();
        let mut completion = Completion::default();
        let mut finished = false;
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| match e {
                eventsource_stream::EventStreamError::Transport(_) => UpstreamError::Connection,
                _ => UpstreamError::Malformed,
            })?;
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                finished = true;
                break;
            }
            let chunk: ChatResponse =
                serde_json::from_str(data).map_err(|_| UpstreamError::Malformed)?;
            if let Some(e) = chunk.error {
                return Err(wire_error(e));
            }
            if let Some(usage) = chunk.usage {
                completion.usage = usage.into();
            }
            for choice in chunk.choices {
                if let Some(piece) = choice
                    .delta
                    .and_then(|d| d.content)
                    .filter(|p| !p.is_empty())
                {
                    on_delta(&piece);
                    completion.content.push_str(&piece);
                }
            }
        }
        if !finished && completion.content.is_empty() {
            return Err(UpstreamError::Malformed);
        }
        Ok(completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_errors_and_only_transient_ones_retry() {
        assert_eq!(
            classify(401, None, String::new()),
            UpstreamError::KeyRejected
        );
        assert_eq!(
            classify(403, None, String::new()),
            UpstreamError::KeyRejected
        );
        assert!(classify(429, None, String::new()).is_transient());
        assert!(classify(503, None, String::new()).is_transient());
        assert!(!classify(400, None, "bad".into()).is_transient());
        assert!(!UpstreamError::Timeout(5).is_transient());
        assert_eq!(
            UpstreamError::KeyRejected.to_string(),
            "the provider rejected your API key"
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        let e = UpstreamError::Server(500);
        for attempt in 0..6 {
            let d = p.delay(attempt, &e);
            let ceiling =
                Duration::from_millis(100 * 2u64.pow(attempt)).min(Duration::from_millis(1000));
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?}");
        }
        let asked = UpstreamError::RateLimited {
            retry_after: Some(Duration::from_millis(700)),
        };
        assert_eq!(p.delay(0, &asked), Duration::from_millis(700));
    }
}
