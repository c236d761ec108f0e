//! The events of `POST /api/conversations/{id}/message/stream`, in the
//! order `API.md` gives. On the wire each is `data: <json>` with a `type`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::{AggregateRanking, AssistantMessage, Stage1Result, Stage2Result, Stage3Result};

/// One event of a council run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CouncilEvent {
    MessageCreated {
        user_message_id: Uuid,
        assistant_message_id: Uuid,
    },
    Stage1Start {
        models: Vec<String>,
    },
    Stage1Delta {
        model: String,
        delta: String,
    },
    Stage1ModelComplete {
        model: String,
        response: String,
    },
    Stage1ModelError {
        model: String,
        error: String,
    },
    Stage1Complete {
        data: Vec<Stage1Result>,
    },
    Stage2Start,
    Stage2ModelComplete {
        model: String,
        ranking: String,
        parsed_ranking: Vec<String>,
    },
    Stage2Complete {
        data: Vec<Stage2Result>,
        metadata: Stage2Metadata,
    },
    Stage3Start {
        model: String,
    },
    Stage3Delta {
        delta: String,
    },
    Stage3Complete {
        data: Stage3Result,
    },
    TitleComplete {
        data: TitleData,
    },
    Complete {
        message: Box<AssistantMessage>,
    },
    Error {
        message: String,
    },
}

impl CouncilEvent {
    /// `complete` and `error` end a run's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Complete { .. } | Self::Error { .. })
    }
}

/// The de-anonymisation that `stage2_complete` carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stage2Metadata {
    pub label_to_model: BTreeMap<String, String>,
    pub aggregate_rankings: Vec<AggregateRanking>,
}

/// `title_complete`'s data.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleData {
    pub title: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_named_as_in_the_api() {
        let names = [
            (CouncilEvent::Stage1Start { models: vec![] }, "stage1_start"),
            (
                CouncilEvent::Stage1ModelComplete {
                    model: "a/b".into(),
                    response: "r".into(),
                },
                "stage1_model_complete",
            ),
            (CouncilEvent::Stage2Start, "stage2_start"),
            (
                CouncilEvent::Stage3Delta { delta: "d".into() },
                "stage3_delta",
            ),
            (
                CouncilEvent::TitleComplete {
                    data: TitleData { title: "t".into() },
                },
                "title_complete",
            ),
            (
                CouncilEvent::Error {
                    message: "m".into(),
                },
                "error",
            ),
        ];
        for (event, name) in names {
            let v = serde_json::to_value(&event).expect("serialises");
            assert_eq!(v["type"], name);
            let back: CouncilEvent = serde_json::from_value(v).expect("parses back");
            assert_eq!(back, event);
        }
        let v = serde_json::to_value(CouncilEvent::Stage2Start).expect("serialises");
        assert_eq!(v, serde_json::json!({"type": "stage2_start"}));
    }
}
