//! One council run, from the stored question to the stored answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use council_shared::{
    AssistantMessage, AssistantRole, Call, CouncilEvent, Failure, RunStatus, Stage1Result,
    Stage2Metadata, Stage2Result, Stage3Result, TitleData,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use rand::seq::SliceRandom;
use secrecy::SecretString;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::upstream::{Completion, UpstreamClient, UpstreamError};
use super::{
    CANCELLED_ERROR, Council, RunRequest, STOPPED_ERROR, StopReason, calls, prompts, ranking,
};
use crate::db::{self, conversations, messages};

/// How long the end of a run waits for a title still being made.
const TITLE_GRACE: Duration = Duration::from_secs(10);

/// Why a run ended without a final answer.
enum Ended {
    Failed(String),
    Stopped,
}

pub(super) struct Run {
    council: Council,
    request: RunRequest,
    message_id: Uuid,
    key: Arc<SecretString>,
    events: broadcast::Sender<CouncilEvent>,
    message: AssistantMessage,
    /// Checkpoints for the saver task, while the stages run.
    progress: Option<watch::Sender<AssistantMessage>>,
}

impl Run {
    pub(super) fn new(
        council: Council,
        request: RunRequest,
        row: messages::Message,
        key: SecretString,
        events: broadcast::Sender<CouncilEvent>,
    ) -> Self {
        let message = AssistantMessage {
            id: row.id.into(),
            role: AssistantRole::Assistant,
            created_at: db::utc(row.created_at),
            status: RunStatus::Running,
            stage1: vec![],
            stage2: vec![],
            stage3: None,
            metadata: Default::default(),
            error: None,
        };
        Self {
            council,
            request,
            message_id: row.id.into(),
            key: Arc::new(key),
            events,
            message,
            progress: None,
        }
    }

    pub(super) fn conversation_id(&self) -> Uuid {
        self.request.conversation_id
    }

    fn emit(&self, event: CouncilEvent) {
        // No listener is fine: the run goes on and its results are stored.
        let _ = self.events.send(event);
    }

    fn upstream(&self) -> UpstreamClient {
        self.council.inner.upstream.clone()
    }

    /// Runs the stages until done, failed, or stopped from outside; stores
    /// and announces the outcome; returns the final message.
    pub(super) async fn execute(
        mut self,
        cancel: &CancellationToken,
        reason: &Mutex<Option<super::StopReason>>,
    ) -> AssistantMessage {
        let title = self.request.first_message.then(|| self.spawn_title());
        let (progress, saver) = self.spawn_saver();
        self.progress = Some(progress);
        let outcome = {
            let stages = self.stages();
            tokio::select! {
                biased;
                () = cancel.cancelled() => Err(Ended::Stopped),
                result = stages => result,
            }
        };
        match outcome {
            Ok(()) => {
                self.message.status = if self.message.metadata.failures.is_empty() {
                    RunStatus::Complete
                } else {
                    RunStatus::Partial
                };
            }
            Err(Ended::Failed(error)) => {
                self.message.status = RunStatus::Failed;
                self.message.error = Some(error);
            }
            Err(Ended::Stopped) => {
                let why = *reason
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                self.message.status = RunStatus::Failed;
                self.message.error = Some(
                    match why {
                        Some(StopReason::Cancelled) => CANCELLED_ERROR,
                        _ => STOPPED_ERROR,
                    }
                    .to_owned(),
                );
            }
        }
        if let Some(title) = title {
            // A title already made was paid for: its call is kept even
            // when the run was stopped.
            let call = if !cancel.is_cancelled() {
                tokio::time::timeout(TITLE_GRACE, title).await.ok()
            } else if title.is_finished() {
                Some(title.await)
            } else {
                title.abort();
                None
            };
            if let Some(Ok(Some(call))) = call {
                self.record(call);
            }
        }
        // Intermediate checkpoints first, then the final state, in order.
        let storing = std::time::Instant::now();
        self.progress = None;
        let _ = saver.await;
        self.target().store(&self.message, true).await;
        tracing::info!(
            conversation_id = %self.request.conversation_id,
            status = self.message.status.as_str(),
            failures = self.message.metadata.failures.len(),
            store_ms = storing.elapsed().as_millis(),
            "council finished"
        );
        match self.message.status {
            RunStatus::Failed => self.emit(CouncilEvent::Error {
                message: self.message.error.clone().unwrap_or_default(),
            }),
            _ => self.emit(CouncilEvent::Complete {
                message: Box::new(self.message.clone()),
            }),
        }
        self.message
    }

    async fn stages(&mut self) -> Result<(), Ended> {
        let started = std::time::Instant::now();
        self.stage1().await?;
        let stage1 = started.elapsed();
        self.stage2().await;
        let stage2 = started.elapsed() - stage1;
        let result = self.stage3().await;
        tracing::debug!(
            stage1_ms = stage1.as_millis(),
            stage2_ms = stage2.as_millis(),
            stage3_ms = (started.elapsed() - stage1 - stage2).as_millis(),
            "council stages done"
        );
        result
    }

    async fn stage1(&mut self) -> Result<(), Ended> {
        let models = self.request.models.clone();
        self.emit(CouncilEvent::Stage1Start {
            models: models.clone(),
        });
        let prompt = prompts::stage1(&self.request.history, &self.request.question);
        let upstream = self.upstream();
        let key = self.key.clone();
        let events = self.events.clone();
        let mut pending: FuturesUnordered<_> = models
            .iter()
            .map(|model| {
                let (upstream, key, events, prompt) = (&upstream, &key, &events, &prompt);
                async move {
                    let on_delta = |piece: &str| {
                        let _ = events.send(CouncilEvent::Stage1Delta {
                            model: model.clone(),
                            delta: piece.to_owned(),
                        });
                    };
                    let (result, latency) =
                        calls::timed(upstream.stream(key, model, prompt, &on_delta)).await;
                    (model.clone(), result, latency)
                }
            })
            .collect();
        let mut errors = Vec::new();
        while let Some((model, result, latency)) = pending.next().await {
            match result {
                Ok(Completion { content, usage }) => {
                    self.record(calls::entry(&model, calls::ANSWER, usage, latency));
                    self.emit(CouncilEvent::Stage1ModelComplete {
                        model: model.clone(),
                        response: content.clone(),
                    });
                    self.message.stage1.push(Stage1Result {
                        model,
                        response: content,
                    });
                }
                Err(e) => {
                    self.fail_model(&model, calls::ANSWER, &e);
                    self.emit(CouncilEvent::Stage1ModelError {
                        model,
                        error: e.to_string(),
                    });
                    errors.push(e);
                }
            }
            self.checkpoint();
        }
        drop(pending);
        // Council order, not arrival order, so a reload reads the same.
        self.message
            .stage1
            .sort_by_key(|r| models.iter().position(|m| *m == r.model));
        if self.message.stage1.is_empty() {
            return Err(Ended::Failed(all_failed(&errors)));
        }
        self.emit(CouncilEvent::Stage1Complete {
            data: self.message.stage1.clone(),
        });
        Ok(())
    }

    /// Peer review; skipped (but still announced) when fewer than two
    /// models answered. A failed evaluation only makes the run partial.
    async fn stage2(&mut self) {
        self.emit(CouncilEvent::Stage2Start);
        let answered = self.message.stage1.clone();
        if answered.len() >= 2 {
            let mut order: Vec<usize> = (0..answered.len()).collect();
            order.shuffle(&mut rand::rng());
            let mut label_to_model = BTreeMap::new();
            let mut labelled = Vec::with_capacity(order.len());
            for (i, idx) in order.into_iter().enumerate() {
                let label = format!(
                    "Response {}",
                    char::from(b'A' + u8::try_from(i).unwrap_or(25))
                );
                label_to_model.insert(label.clone(), answered[idx].model.clone());
                labelled.push((label, answered[idx].response.clone()));
            }
            let labels: Vec<String> = labelled.iter().map(|(l, _)| l.clone()).collect();
            let prompt = prompts::stage2(&self.request.question, &labelled);
            let upstream = self.upstream();
            let key = self.key.clone();
            let mut pending: FuturesUnordered<_> = answered
                .iter()
                .map(|r| {
                    let (upstream, key, prompt) = (&upstream, &key, &prompt);
                    async move {
                        let (result, latency) =
                            calls::timed(upstream.complete(key, &r.model, prompt)).await;
                        (r.model.clone(), result, latency)
                    }
                })
                .collect();
            while let Some((model, result, latency)) = pending.next().await {
                match result {
                    Ok(Completion { content, usage }) => {
                        self.record(calls::entry(&model, calls::RANKING, usage, latency));
                        let parsed_ranking = ranking::parse_ranking(&content, &labels);
                        self.emit(CouncilEvent::Stage2ModelComplete {
                            model: model.clone(),
                            ranking: content.clone(),
                            parsed_ranking: parsed_ranking.clone(),
                        });
                        self.message.stage2.push(Stage2Result {
                            model,
                            ranking: content,
                            parsed_ranking,
                        });
                    }
                    Err(e) => self.fail_model(&model, calls::RANKING, &e),
                }
                self.checkpoint();
            }
            drop(pending);
            let models = &self.request.models;
            self.message
                .stage2
                .sort_by_key(|r| models.iter().position(|m| *m == r.model));
            let parsed: Vec<Vec<String>> = self
                .message
                .stage2
                .iter()
                .map(|r| r.parsed_ranking.clone())
                .collect();
            self.message.metadata.aggregate_rankings = ranking::aggregate(&parsed, &label_to_model);
            self.message.metadata.label_to_model = label_to_model;
        }
        self.emit(CouncilEvent::Stage2Complete {
            data: self.message.stage2.clone(),
            metadata: Stage2Metadata {
                label_to_model: self.message.metadata.label_to_model.clone(),
                aggregate_rankings: self.message.metadata.aggregate_rankings.clone(),
            },
        });
        self.checkpoint();
    }

    async fn stage3(&mut self) -> Result<(), Ended> {
        let lead = self.request.lead_model.clone();
        self.emit(CouncilEvent::Stage3Start {
            model: lead.clone(),
        });
        let answers: Vec<(String, String)> = self
            .message
            .stage1
            .iter()
            .map(|r| (r.model.clone(), r.response.clone()))
            .collect();
        let evaluations: Vec<(String, String)> = self
            .message
            .stage2
            .iter()
            .map(|r| (r.model.clone(), r.ranking.clone()))
            .collect();
        let prompt = prompts::stage3(
            &self.request.question,
            &answers,
            &evaluations,
            &self.message.metadata.label_to_model,
        );
        let events = self.events.clone();
        let on_delta = |piece: &str| {
            let _ = events.send(CouncilEvent::Stage3Delta {
                delta: piece.to_owned(),
            });
        };
        let upstream = self.upstream();
        let (result, latency) =
            calls::timed(upstream.stream(&self.key, &lead, &prompt, &on_delta)).await;
        match result {
            Ok(Completion { content, usage }) => {
                self.record(calls::entry(&lead, calls::SYNTHESIS, usage, latency));
                let result = Stage3Result {
                    model: lead,
                    response: content,
                };
                self.emit(CouncilEvent::Stage3Complete {
                    data: result.clone(),
                });
                self.message.stage3 = Some(result);
                Ok(())
            }
            Err(e) => {
                self.fail_model(&lead, calls::SYNTHESIS, &e);
                Err(Ended::Failed(format!("The lead model {lead} failed: {e}")))
            }
        }
    }

    /// Adds a call that answered to `metadata.calls` and `metadata.usage`;
    /// stored with the next checkpoint.
    fn record(&mut self, call: Call) {
        calls::add(&mut self.message.metadata, call, &self.request.models);
    }

    fn fail_model(&mut self, model: &str, stage: u8, error: &UpstreamError) {
        tracing::info!(model, stage, %error, "model call failed");
        self.message.metadata.failures.push(Failure {
            model: model.to_owned(),
            stage,
            error: error.to_string(),
        });
    }

    /// Names the conversation from its first question, alongside the
    /// stages; announces the title once. Returns the call, if the title
    /// model answered.
    fn spawn_title(&self) -> tokio::task::JoinHandle<Option<Call>> {
        let upstream = self.upstream();
        let key = self.key.clone();
        let model = self.council.inner.title_model.clone();
        let question = self.request.question.clone();
        let conversation_id = self.request.conversation_id;
        let database = self.council.inner.db.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let (result, latency) =
                calls::timed(upstream.complete(&key, &model, &prompts::title(&question))).await;
            let (title, call) = match result {
                Ok(c) => (
                    prompts::clean_title(&c.content)
                        .unwrap_or_else(|| prompts::fallback_title(&question)),
                    Some(calls::entry(&model, calls::TITLE, c.usage, latency)),
                ),
                Err(e) => {
                    tracing::info!(%e, "title model failed; titling from the question");
                    (prompts::fallback_title(&question), None)
                }
            };
            let stored = title.clone();
            if let Err(e) = database
                .write_query(move |c| {
                    conversations::set_generated_title(c, conversation_id, &stored)
                })
                .await
            {
                tracing::warn!(error = %e, "could not store the conversation title");
            }
            let _ = events.send(CouncilEvent::TitleComplete {
                data: TitleData { title },
            });
            call
        })
    }

    /// Hands the run as it stands to the saver; never waits for the database.
    fn checkpoint(&self) {
        if let Some(progress) = &self.progress {
            progress.send_replace(self.message.clone());
        }
    }

    /// Stores checkpoints in the background, in order, the newest only when
    /// several arrive during one write: a busy database delays how soon a
    /// stage is stored, never the stages themselves.
    fn spawn_saver(&self) -> (watch::Sender<AssistantMessage>, tokio::task::JoinHandle<()>) {
        let (progress, mut latest) = watch::channel(self.message.clone());
        let target = self.target();
        let saver = tokio::spawn(async move {
            while latest.changed().await.is_ok() {
                let snapshot = latest.borrow_and_update().clone();
                target.store(&snapshot, false).await;
            }
        });
        (progress, saver)
    }

    fn target(&self) -> SaveTarget {
        SaveTarget {
            db: self.council.inner.db.clone(),
            message_id: self.message_id,
            runner_id: self.council.inner.instance_id,
        }
    }
}

/// Where a run's progress is stored.
struct SaveTarget {
    db: db::Db,
    message_id: Uuid,
    runner_id: Uuid,
}

impl SaveTarget {
    /// Stores `m`; `finished` releases the conversation for the next question.
    async fn store(&self, m: &AssistantMessage, finished: bool) {
        let progress = messages::RunProgress {
            content: m
                .stage3
                .as_ref()
                .map(|s| s.response.clone())
                .unwrap_or_default(),
            status: Some(m.status.as_str().to_owned()),
            stage1: Some(json(&m.stage1)),
            stage2: Some(json(&m.stage2)),
            stage3: m.stage3.as_ref().map(json),
            metadata: Some(json(&m.metadata)),
            error: m.error.clone(),
            updated_at: db::now(),
        };
        let (id, runner) = (self.message_id, self.runner_id);
        let saved = self
            .db
            .write_query(move |c| messages::save_progress(c, id, runner, &progress, finished))
            .await;
        match saved {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                message_id = %self.message_id,
                "run no longer owned by this instance; progress not stored"
            ),
            Err(e) => tracing::error!(
                error = %e,
                message_id = %self.message_id,
                "could not store run progress"
            ),
        }
    }
}

/// A stored JSON column.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// The error of a run in which no council model answered.
fn all_failed(errors: &[UpstreamError]) -> String {
    match errors.first() {
        Some(first) if errors.iter().all(|e| e == first) => {
            format!("Every council model failed: {first}")
        }
        _ => {
            let mut distinct: Vec<String> = errors.iter().map(ToString::to_string).collect();
            distinct.dedup();
            format!("Every council model failed: {}", distinct.join("; "))
        }
    }
}
