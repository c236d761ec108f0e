//! One council's progress as its events tell it: the reducer both the chat
//! screen and `council ask` follow a run with (events in, state out). It
//! knows nothing of screens or terminals; what is worth a line of its own
//! in a log comes back as a [`Milestone`].

use std::time::Instant;

use council_shared::{AssistantMessage, CouncilEvent, RunStatus};
use uuid::Uuid;

/// How one council model is doing in stage 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelState {
    Waiting,
    Streaming,
    Done,
    Failed(String),
}

/// One council model in stage 1.
#[derive(Debug, Clone)]
pub struct ModelProgress {
    pub model: String,
    pub state: ModelState,
    /// When its answer (or failure) arrived.
    pub finished: Option<Instant>,
    /// Bytes of its answer streamed so far.
    pub chars: usize,
}

/// What a step of the run was, for those who log the run line by line.
#[derive(Debug, Clone, PartialEq)]
pub enum Milestone {
    /// Stage 1 began with these models.
    Asking(Vec<String>),
    Answered {
        model: String,
        secs: f64,
    },
    ModelFailed {
        model: String,
        error: String,
    },
    RankingStarted,
    Ranked {
        model: String,
    },
    /// The best-ranked model once every ranking is in.
    Best {
        model: String,
        average_rank: f64,
    },
    Writing {
        model: String,
    },
    Written {
        secs: f64,
    },
    Titled(String),
    Finished {
        status: RunStatus,
        secs: f64,
    },
    Failed(String),
}

/// A run as far as its events have told it.
#[derive(Debug, Clone)]
pub struct RunProgress {
    pub started: Instant,
    /// 0 before stage 1 starts, then 1, 2 or 3.
    pub stage: u8,
    pub models: Vec<ModelProgress>,
    /// Models asked to rank (those that answered in stage 1).
    pub stage2_total: usize,
    pub stage2_done: usize,
    pub lead: Option<String>,
    /// The final answer as it streams.
    pub answer: String,
    pub assistant: Option<Uuid>,
    /// When the last event came (`complete`, `error`: when the run ended).
    pub last_event: Instant,
    /// The stored message, once `complete` came.
    pub message: Option<Box<AssistantMessage>>,
    /// Why the run failed, once `error` came.
    pub error: Option<String>,
}

impl RunProgress {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            stage: 0,
            models: Vec::new(),
            stage2_total: 0,
            stage2_done: 0,
            lead: None,
            answer: String::new(),
            assistant: None,
            last_event: started,
            message: None,
            error: None,
        }
    }

    /// True once `complete` or `error` came.
    pub fn ended(&self) -> bool {
        self.message.is_some() || self.error.is_some()
    }

    /// Seconds from the start to `at`.
    pub fn secs(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.started).as_secs_f64()
    }

    /// Stage 1 models in `state`.
    pub fn count(&self, state: &ModelState) -> usize {
        self.models.iter().filter(|m| m.state == *state).count()
    }

    /// Stage 1 models that failed.
    pub fn failed(&self) -> usize {
        self.models
            .iter()
            .filter(|m| matches!(m.state, ModelState::Failed(_)))
            .count()
    }

    fn model(&mut self, name: &str) -> Option<&mut ModelProgress> {
        self.models.iter_mut().find(|m| m.model == name)
    }

    /// Applies one event that arrived at `at`.
    pub fn apply(&mut self, event: CouncilEvent, at: Instant) -> Option<Milestone> {
        self.last_event = at;
        match event {
            CouncilEvent::MessageCreated {
                assistant_message_id,
                ..
            } => {
                self.assistant = Some(assistant_message_id);
                None
            }
            CouncilEvent::Stage1Start { models } => {
                self.stage = 1;
                self.models = models
                    .iter()
                    .map(|model| ModelProgress {
                        model: model.clone(),
                        state: ModelState::Waiting,
                        finished: None,
                        chars: 0,
                    })
                    .collect();
                Some(Milestone::Asking(models))
            }
            CouncilEvent::Stage1Delta { model, delta } => {
                if let Some(m) = self.model(&model) {
                    m.state = ModelState::Streaming;
                    m.chars += delta.len();
                }
                None
            }
            CouncilEvent::Stage1ModelComplete { model, .. } => {
                if let Some(m) = self.model(&model) {
                    m.state = ModelState::Done;
                    m.finished = Some(at);
                }
                let secs = self.secs(at);
                Some(Milestone::Answered { model, secs })
            }
            CouncilEvent::Stage1ModelError { model, error } => {
                if let Some(m) = self.model(&model) {
                    m.state = ModelState::Failed(error.clone());
                    m.finished = Some(at);
                }
                Some(Milestone::ModelFailed { model, error })
            }
            CouncilEvent::Stage1Complete { .. } => {
                self.stage = 2;
                None
            }
            CouncilEvent::Stage2Start => {
                self.stage = 2;
                self.stage2_total = self.count(&ModelState::Done);
                Some(Milestone::RankingStarted)
            }
            CouncilEvent::Stage2ModelComplete { model, .. } => {
                self.stage2_done += 1;
                Some(Milestone::Ranked { model })
            }
            CouncilEvent::Stage2Complete { metadata, .. } => {
                self.stage = 3;
                metadata
                    .aggregate_rankings
                    .into_iter()
                    .next()
                    .map(|best| Milestone::Best {
                        model: best.model,
                        average_rank: best.average_rank,
                    })
            }
            CouncilEvent::Stage3Start { model } => {
                self.stage = 3;
                self.lead = Some(model.clone());
                Some(Milestone::Writing { model })
            }
            CouncilEvent::Stage3Delta { delta } => {
                self.answer.push_str(&delta);
                None
            }
            CouncilEvent::Stage3Complete { .. } => Some(Milestone::Written {
                secs: self.secs(at),
            }),
            CouncilEvent::TitleComplete { data } => Some(Milestone::Titled(data.title)),
            CouncilEvent::Complete { message } => {
                let status = message.status;
                self.message = Some(message);
                Some(Milestone::Finished {
                    status,
                    secs: self.secs(at),
                })
            }
            CouncilEvent::Error { message } => {
                self.error = Some(message.clone());
                Some(Milestone::Failed(message))
            }
        }
    }

    /// One line saying where the run is, e.g. `stage 1 · 2/3 answered ·
    /// 1 streaming`.
    pub fn summary(&self) -> String {
        match self.stage {
            0 => "sending the question".to_owned(),
            1 => {
                let failed = match self.failed() {
                    0 => String::new(),
                    n => format!(", {n} failed"),
                };
                let streaming = match self.count(&ModelState::Streaming) {
                    0 => String::new(),
                    n => format!(" · {n} streaming"),
                };
                format!(
                    "stage 1 · {}/{} answered{failed}{streaming}",
                    self.count(&ModelState::Done),
                    self.models.len(),
                )
            }
            2 => format!(
                "stage 2 · {}/{} rankings",
                self.stage2_done, self.stage2_total
            ),
            _ => format!(
                "stage 3 · {} writing · {} chars",
                self.lead.as_deref().unwrap_or("the lead"),
                self.answer.chars().count()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use council_shared::{Metadata, Stage2Metadata, TitleData};

    use super::*;

    fn message(status: RunStatus) -> Box<AssistantMessage> {
        Box::new(AssistantMessage {
            id: Uuid::from_u128(2),
            role: council_shared::AssistantRole::Assistant,
            created_at: chrono::DateTime::UNIX_EPOCH,
            status,
            stage1: vec![],
            stage2: vec![],
            stage3: None,
            metadata: Metadata::default(),
            error: None,
        })
    }

    #[test]
    fn a_run_is_followed_from_question_to_answer() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut run = RunProgress::new(t0);
        assert_eq!(run.summary(), "sending the question");
        run.apply(
            CouncilEvent::MessageCreated {
                user_message_id: Uuid::from_u128(1),
                assistant_message_id: Uuid::from_u128(2),
            },
            at(0),
        );
        assert_eq!(run.assistant, Some(Uuid::from_u128(2)));
        let models = vec!["a/x".to_owned(), "b/y".to_owned(), "c/z".to_owned()];
        assert_eq!(
            run.apply(
                CouncilEvent::Stage1Start {
                    models: models.clone()
                },
                at(0)
            ),
            Some(Milestone::Asking(models))
        );
        run.apply(
            CouncilEvent::Stage1Delta {
                model: "a/x".into(),
                delta: "Hel".into(),
            },
            at(1),
        );
        assert_eq!(run.summary(), "stage 1 · 0/3 answered · 1 streaming");
        assert_eq!(
            run.apply(
                CouncilEvent::Stage1ModelComplete {
                    model: "a/x".into(),
                    response: "Hello".into()
                },
                at(2)
            ),
            Some(Milestone::Answered {
                model: "a/x".into(),
                secs: 2.0
            })
        );
        run.apply(
            CouncilEvent::Stage1ModelError {
                model: "c/z".into(),
                error: "timed out".into(),
            },
            at(3),
        );
        run.apply(
            CouncilEvent::Stage1ModelComplete {
                model: "b/y".into(),
                response: "Hi".into(),
            },
            at(3),
        );
        assert_eq!(run.summary(), "stage 1 · 2/3 answered, 1 failed");
        run.apply(CouncilEvent::Stage2Start, at(4));
        assert_eq!(run.stage2_total, 2, "only the models that answered rank");
        run.apply(
            CouncilEvent::Stage2ModelComplete {
                model: "a/x".into(),
                ranking: String::new(),
                parsed_ranking: vec![],
            },
            at(5),
        );
        assert_eq!(run.summary(), "stage 2 · 1/2 rankings");
        assert_eq!(
            run.apply(
                CouncilEvent::Stage2Complete {
                    data: vec![],
                    metadata: Stage2Metadata::default()
                },
                at(5)
            ),
            None,
            "no rankings, no best"
        );
        run.apply(
            CouncilEvent::Stage3Start {
                model: "l/m".into(),
            },
            at(6),
        );
        run.apply(
            CouncilEvent::Stage3Delta {
                delta: "Sky".into(),
            },
            at(6),
        );
        assert_eq!(run.answer, "Sky");
        assert_eq!(run.summary(), "stage 3 · l/m writing · 3 chars");
        assert_eq!(
            run.apply(
                CouncilEvent::TitleComplete {
                    data: TitleData {
                        title: "Blue".into()
                    }
                },
                at(6)
            ),
            Some(Milestone::Titled("Blue".into()))
        );
        assert!(!run.ended());
        assert_eq!(
            run.apply(
                CouncilEvent::Complete {
                    message: message(RunStatus::Partial)
                },
                at(8)
            ),
            Some(Milestone::Finished {
                status: RunStatus::Partial,
                secs: 8.0
            })
        );
        assert!(run.ended());
    }

    #[test]
    fn events_for_models_it_does_not_know_change_nothing() {
        let t0 = Instant::now();
        let mut run = RunProgress::new(t0);
        run.apply(
            CouncilEvent::Stage1Delta {
                model: "x/unknown".into(),
                delta: "?".into(),
            },
            t0,
        );
        assert!(run.models.is_empty());
        run.apply(
            CouncilEvent::Error {
                message: "No API key".into(),
            },
            t0,
        );
        assert_eq!(run.error.as_deref(), Some("No API key"));
        assert!(run.ended());
    }
}
