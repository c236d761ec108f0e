//! The council: a question to every council model (stage 1), anonymised
//! peer rankings (stage 2), the lead model's synthesis (stage 3).
//!
//! A run belongs to the server, not to the request that started it: it is a
//! task of its own that stores each stage's results as they exist and sends
//! its events to whoever listens. A listener that goes away drops only
//! itself. The database is the source of truth: a running assistant message
//! is the conversation's lock (one per conversation, across replicas), and
//! records which server instance runs it, so that the runs of an instance
//! that died are marked failed by the next one to start.

mod calls;
pub mod prompts;
pub mod ranking;
mod run;
pub mod upstream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use council_shared::{AssistantMessage, CouncilEvent};
use secrecy::SecretString;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::db::{self, Db, DbError, instances, messages};
use upstream::UpstreamClient;

/// Events buffered per run for a listener that falls behind; one that falls
/// further behind skips deltas but still gets the terminal event.
/// tokio allocates every slot of a broadcast channel up front (about 112
/// bytes each): 4096 slots cost 229 MB over 500 concurrent runs
/// (council-bench row 3b); 256 hold several seconds of deltas.
const EVENT_BUFFER: usize = 256;
/// An instance silent for this long is dead and its runs are failed, unless
/// configured otherwise (`COUNCIL_INSTANCE_STALE_SECS`).
pub const INSTANCE_STALE_AFTER: Duration = Duration::from_secs(45);
/// The shortest stale window: heart-beats are at least a second apart, and a
/// live instance must get several in before anyone takes it for dead.
pub const MIN_INSTANCE_STALE_AFTER: Duration = Duration::from_secs(3);

/// How often an instance heart-beats (and, on a shared database, sweeps the
/// runs of dead replicas) when instances silent for `stale_after` count as
/// dead: four beats per window, so that a write delayed by a busy database
/// never makes a live instance look dead; at most once a second.
pub fn heartbeat_interval(stale_after: Duration) -> Duration {
    (stale_after / 4).max(Duration::from_secs(1))
}

/// The error recorded on runs cut short by a server stop or crash.
pub const STOPPED_ERROR: &str = "The server stopped before the council finished";
/// The error recorded on runs cancelled by their user.
pub const CANCELLED_ERROR: &str = "Cancelled";

/// Why a run was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Cancelled,
    ServerStopping,
}

/// What stops a live run from outside.
#[derive(Debug)]
struct RunHandle {
    done: watch::Receiver<Option<AssistantMessage>>,
    cancel: CancellationToken,
    reason: Mutex<Option<StopReason>>,
}

/// What a caller gets back when a run has started.
#[derive(Debug)]
pub struct StartedRun {
    pub user_message_id: Uuid,
    pub assistant_message_id: Uuid,
    /// Subscribed before the run started: no event is missed.
    pub events: broadcast::Receiver<CouncilEvent>,
    /// The final message, once the run has ended.
    pub done: watch::Receiver<Option<AssistantMessage>>,
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub conversation_id: Uuid,
    pub question: String,
    pub models: Vec<String>,
    pub lead_model: String,
    pub history: Vec<prompts::Turn>,
    pub first_message: bool,
}

/// The council service of one server instance.
#[derive(Clone)]
pub struct Council {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    upstream: UpstreamClient,
    title_model: String,
    instance_id: Uuid,
    /// Silence after which another instance counts as dead.
    stale_after: Duration,
    /// By conversation id.
    runs: Mutex<HashMap<Uuid, Arc<RunHandle>>>,
    tracker: TaskTracker,
    accepting: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Council {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Council")
            .field("instance_id", &self.inner.instance_id)
            .finish_non_exhaustive()
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("A council is already running in this conversation")]
    AlreadyRunning,
    #[error("The server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for StartError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

impl Council {
    /// Registers this instance and fails the runs of instances that are gone
    /// (on SQLite, a single-process database: every run not ours).
    ///
    /// Other instances count as dead once silent for `stale_after` (at
    /// least [`MIN_INSTANCE_STALE_AFTER`]); this one heart-beats accordingly.
    pub async fn start(
        db: Db,
        upstream: UpstreamClient,
        title_model: String,
        stale_after: Duration,
    ) -> Result<Self, DbError> {
        let instance_id = Uuid::new_v4();
        let council = Self {
            inner: Arc::new(Inner {
                db: db.clone(),
                upstream,
                title_model,
                instance_id,
                stale_after: stale_after.max(MIN_INSTANCE_STALE_AFTER),
                runs: Mutex::new(HashMap::new()),
                tracker: TaskTracker::new(),
                accepting: std::sync::atomic::AtomicBool::new(true),
            }),
        };
        db.write_query(move |c| instances::register(c, instance_id, db::now()))
            .await?;
        let failed = council.fail_orphaned_runs().await?;
        if failed > 0 {
            tracing::warn!(failed, "marked runs cut off by a server stop as failed");
        }
        council.spawn_heartbeat();
        Ok(council)
    }

    /// This instance's id (as recorded on the runs it executes).
    pub fn instance_id(&self) -> Uuid {
        self.inner.instance_id
    }

    /// Marks failed the running messages no live instance owns.
    async fn fail_orphaned_runs(&self) -> Result<usize, DbError> {
        let me = self.inner.instance_id;
        let single_process = self.inner.db.url().is_sqlite();
        let stale = chrono::Duration::from_std(self.inner.stale_after).unwrap_or_default();
        self.inner
            .db
            .write_query(move |c| {
                let now = db::now();
                let alive = if single_process {
                    // Only one process opens the file: every other
                    // instance is gone, including one killed without
                    // deregistering.
                    instances::forget_all_but(c, me)?;
                    vec![me]
                } else {
                    let mut alive = instances::alive_since(c, now - stale)?;
                    alive.push(me);
                    alive
                };
                messages::fail_orphaned_runs(c, &alive, STOPPED_ERROR, now)
            })
            .await
    }

    /// Heart-beats, and on a shared database also sweeps the runs of
    /// replicas that stopped heart-beating.
    fn spawn_heartbeat(&self) {
        let weak = Arc::downgrade(&self.inner);
        let every = heartbeat_interval(self.inner.stale_after);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let council = Council { inner };
                if !council
                    .inner
                    .accepting
                    .load(std::sync::atomic::Ordering::Relaxed)
                {
                    return;
                }
                let id = council.inner.instance_id;
                let beat = council
                    .inner
                    .db
                    .write_query(move |c| instances::heartbeat(c, id, db::now()))
                    .await;
                if let Err(e) = beat {
                    tracing::warn!(error = %e, "heartbeat failed");
                }
                if !council.inner.db.url().is_sqlite() {
                    match council.fail_orphaned_runs().await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::warn!(failed = n, "marked runs of a stopped replica as failed")
                        }
                        Err(e) => tracing::warn!(error = %e, "sweeping orphaned runs failed"),
                    }
                }
            }
        });
    }

    /// Stores the question and a running answer, then starts the run.
    pub async fn start_run(
        &self,
        request: RunRequest,
        key: SecretString,
    ) -> Result<StartedRun, StartError> {
        if !self
            .inner
            .accepting
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StartError::ShuttingDown);
        }
        let now = db::now();
        let mut user_message = messages::new_user(request.conversation_id, &request.question, now);
        let mut assistant =
            messages::new_running(request.conversation_id, self.inner.instance_id, now);
        let stored = self
            .inner
            .db
            .write_query(move |c| {
                messages::append(c, &mut user_message)?;
                messages::append(c, &mut assistant)?;
                Ok((user_message, assistant))
            })
            .await;
        let (user_message, assistant) = match stored {
            Ok(rows) => rows,
            Err(e) if e.is_unique_violation() => return Err(StartError::AlreadyRunning),
            Err(e) => return Err(e.into()),
        };

        let (events, receiver) = broadcast::channel(EVENT_BUFFER);
        let (done_tx, done) = watch::channel(None);
        let handle = Arc::new(RunHandle {
            done: done.clone(),
            cancel: CancellationToken::new(),
            reason: Mutex::new(None),
        });
        self.lock_runs()
            .insert(request.conversation_id, handle.clone());

        let assistant_message_id = assistant.id.into();
        let run = run::Run::new(self.clone(), request, assistant, key, events);
        let council = self.clone();
        self.inner.tracker.spawn(async move {
            let conversation_id = run.conversation_id();
            let message = run.execute(&handle.cancel, &handle.reason).await;
            {
                // The conversation may already run its next council (the
                // database released it when this one was stored): only this
                // run's own entry goes.
                let mut runs = council.lock_runs();
                if runs
                    .get(&conversation_id)
                    .is_some_and(|h| Arc::ptr_eq(h, &handle))
                {
                    runs.remove(&conversation_id);
                }
            }
            let _ = done_tx.send(Some(message));
        });

        Ok(StartedRun {
            user_message_id: user_message.id.into(),
            assistant_message_id,
            events: receiver,
            done,
        })
    }

    /// Stops the conversation's run at once; `None` when none runs here.
    /// The receiver sees the final message once the run has stored it.
    pub fn cancel(
        &self,
        conversation_id: Uuid,
    ) -> Option<watch::Receiver<Option<AssistantMessage>>> {
        let runs = self.lock_runs();
        let handle = runs.get(&conversation_id)?;
        handle.stop(StopReason::Cancelled);
        Some(handle.done.clone())
    }

    /// Stops accepting runs, lets the running ones finish for up to
    /// `grace`, then stops the rest (they end `failed`, stages kept).
    pub async fn shutdown(&self, grace: Duration) {
        self.inner
            .accepting
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.inner.tracker.close();
        if tokio::time::timeout(grace, self.inner.tracker.wait())
            .await
            .is_err()
        {
            let stopping: Vec<Arc<RunHandle>> = self.lock_runs().values().cloned().collect();
            tracing::warn!(
                runs = stopping.len(),
                "stopping runs still going at shutdown"
            );
            for handle in &stopping {
                handle.stop(StopReason::ServerStopping);
            }
            self.inner.tracker.wait().await;
        }
        let id = self.inner.instance_id;
        if let Err(e) = self
            .inner
            .db
            .write_query(move |c| instances::remove(c, id))
            .await
        {
            tracing::warn!(error = %e, "could not deregister this instance");
        }
    }

    /// Runs in progress on this instance.
    pub fn running(&self) -> usize {
        self.lock_runs().len()
    }

    fn lock_runs(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<RunHandle>>> {
        self.inner
            .runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl RunHandle {
    fn stop(&self, reason: StopReason) {
        let mut slot = self
            .reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.get_or_insert(reason);
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_come_four_times_per_stale_window() {
        assert_eq!(
            heartbeat_interval(INSTANCE_STALE_AFTER),
            Duration::from_millis(11_250)
        );
        assert_eq!(
            heartbeat_interval(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn a_live_instance_beats_several_times_before_it_could_look_dead() {
        // The heartbeat has a floor of one second: the shortest window
        // still fits three beats.
        assert_eq!(
            heartbeat_interval(MIN_INSTANCE_STALE_AFTER),
            Duration::from_secs(1)
        );
        for secs in 3..=600 {
            let stale = Duration::from_secs(secs);
            assert!(heartbeat_interval(stale) * 3 <= stale, "{secs} s");
        }
    }
}
