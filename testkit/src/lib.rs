//! A fake OpenAI-compatible chat-completions upstream for The Council's
//! tests, demos and benchmarks.
//!
//! [`FakeUpstream::start`] runs an axum server in-process on a free port.
//! Clients `POST {base_url}/chat/completions` (or `/v1/chat/completions`)
//! exactly as they would to OpenRouter and get deterministic answers:
//!
//! - a stage-2 ranking prompt (any message contains `FINAL RANKING:`, and
//!   none contains `Chairman of an LLM Council`, which marks stage 3) is
//!   answered with an evaluation and a `FINAL RANKING:` list of every
//!   `Response X` label, in an order that depends on the model id;
//! - a title prompt (any message contains `short title`, any case) is
//!   answered with `Fake Council Title`;
//! - anything else gets `Answer from {model}: ...` echoing the first 60
//!   characters of the last user message.
//!
//! The behaviour of each model is steered by directives in its id, so no
//! configuration is needed: `fake/alpha:ms200:flaky429` answers after
//! 200 ms and fails its first call with 429. Directives: `msN`, `failNNN`
//! (e.g. `fail500`, `fail429`), `badNNN` (e.g. `bad400`), `flakyNNN`
//! (e.g. `flaky429`), `hang`, `hangstream`, `malformed`, `empty`, and for
//! the `usage` of an answer `nocost` (tokens only) and `nousage` (none).
//! Otherwise every answer reports its tokens (one per word), and its cost
//! when the request asks for it with `"usage": {"include": true}`, as
//! OpenRouter does.
//! [`FakeUpstream::set_behavior`] overrides them per exact model id.
//!
//! Keys: a missing `Authorization: Bearer` header or a key containing
//! `invalid` gets 401, a key containing `forbidden` gets 403, anything else
//! is accepted unless [`FakeUpstream::require_key`] was called.
//!
//! Every request is recorded before it is answered; see
//! [`FakeUpstream::requests`]. The recordings are also served as JSON on
//! `GET /_requests` and cleared by `DELETE /_requests`.

mod answer;
mod behavior;
pub mod client;
mod record;
mod server;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use behavior::{Behavior, Outcome, UsageReport};
pub use record::{RecordedMessage, RecordedRequest};

/// Pending connections the listener queues (the kernel caps it at somaxconn).
const LISTEN_BACKLOG: u32 = 4096;

/// How long [`FakeUpstream::shutdown`] waits for open connections to finish
/// before it aborts the server task.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running fake upstream. Dropping it stops the server too (without
/// waiting); use [`FakeUpstream::shutdown`] to wait for it.
#[derive(Debug)]
pub struct FakeUpstream {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: watch::Sender<bool>,
    /// `None` only after [`FakeUpstream::shutdown`] took it.
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl FakeUpstream {
    /// Starts the fake on `127.0.0.1` with a port chosen by the OS.
    pub async fn start() -> std::io::Result<FakeUpstream> {
        FakeUpstream::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts the fake on `addr` (port 0 picks a free port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeUpstream> {
        // A council opens a connection per model at once; the default
        // backlog (128) overflows under a benchmark's burst and the kernel
        // drops SYNs, which costs the client a retransmission timeout.
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(LISTEN_BACKLOG)?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(server::Shared::new(shutdown_rx.clone()));
        let app = server::router(Arc::clone(&shared));
        let mut signal = shutdown_rx;
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            // A closed channel (handle dropped) also means "stop".
            let _ = signal.wait_for(|stop| *stop).await;
        });
        let task = tokio::spawn(async move { serve.await });
        tracing::debug!(%addr, "fake upstream started");
        Ok(FakeUpstream {
            addr,
            shared,
            shutdown,
            task: Some(task),
        })
    }

    /// The URL to use as the OpenAI-compatible base, e.g.
    /// `http://127.0.0.1:41234`; clients post to `{base_url}/chat/completions`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// The recorded requests whose `model` is exactly `model`.
    pub fn requests_for(&self, model: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.model == model)
            .collect()
    }

    /// Forgets all recorded requests (call counts for `FailFirst` are kept).
    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// Makes calls for exactly `model` behave as `behavior`, ignoring any
    /// directives in the id. Replaces an earlier override for that id.
    pub fn set_behavior(&self, model: &str, behavior: Behavior) {
        self.shared.set_behavior(model, behavior);
    }

    /// Latency for models whose id has no `msN` directive and whose
    /// override (if any) has no latency.
    pub fn set_default_latency(&self, latency: Duration) {
        self.shared.set_default_latency(latency);
    }

    /// From now on only `Bearer {key}` is accepted; every other key
    /// (including ones that would otherwise get 403) gets 401.
    pub fn require_key(&self, key: &str) {
        self.shared.require_key(key);
    }

    /// Stops accepting connections, releases hanging requests and waits
    /// (briefly) for the server to finish.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => tracing::warn!(%error, "fake upstream server failed"),
                Ok(Err(error)) => tracing::warn!(%error, "fake upstream task failed"),
                Err(_) => {
                    tracing::warn!("fake upstream did not stop in time; aborting it");
                    task.abort();
                }
            }
        }
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        // Without this a dropped handle would leave the server (and any
        // hanging requests) running until the runtime ends.
        self.shutdown.send_replace(true);
    }
}
