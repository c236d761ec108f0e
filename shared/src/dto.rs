//! Request and response bodies of the HTTP API, named and shaped as in `API.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The provider a key is for when a request does not name one.
pub const DEFAULT_PROVIDER: &str = "openrouter";

/// Every error response: `{"detail": "..."}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub detail: String,
}

/// `{"status": "ok"}`, `{"status": "deleted"}`, `{"status": "cancelled"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    pub status: String,
}

impl StatusResponse {
    pub fn new(status: &str) -> Self {
        Self {
            status: status.to_owned(),
        }
    }
}

// ---------------------------------------------------------------- accounts

/// Body of `POST /api/auth/register` and `POST /api/auth/login`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 254, pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    )]
    pub email: String,
    /// At least 8 characters and at most 71 bytes (bcrypt's limit).
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 71))]
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Answer of register, login and refresh.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Body of `POST /api/auth/refresh` and `POST /api/auth/logout`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { .. }")
    }
}

/// Answer of `GET /api/auth/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResponse {
    pub id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/auth/password`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    /// At least 8 characters and at most 71 bytes.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 71))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChangeRequest { .. }")
    }
}

/// Body of `DELETE /api/auth/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccountRequest {
    pub password: String,
}

impl std::fmt::Debug for DeleteAccountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeleteAccountRequest { .. }")
    }
}

// ----------------------------------------------------------- provider keys

/// Body of `POST /api/settings/api-key`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRequest {
    /// At least 10 characters after trimming, no whitespace inside.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*\S{10,}\s*$"))]
    pub api_key: String,
    /// `openrouter` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*(?i:openrouter)\s*$"))]
    pub provider: Option<String>,
}

impl std::fmt::Debug for ApiKeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRequest")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// A saved provider key, described without its value.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyResponse {
    pub id: Uuid,
    pub provider: String,
    /// `"..."` followed by the key's last four characters.
    pub key_hint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// ------------------------------------------------------------------ models

/// Answer of `GET /api/models`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelsResponse {
    pub models: Vec<String>,
    pub default_models: Vec<String>,
    pub default_lead_model: String,
}

// ----------------------------------------------------------- conversations

/// Body of `POST /api/conversations`; both fields fall back to the server's defaults.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConversationRequest {
    /// 2 to 8 distinct model ids (`vendor/name`); duplicates are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = council_schema))]
    pub models: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[A-Za-z0-9._:-]+/[A-Za-z0-9._:-]+$")
    )]
    pub lead_model: Option<String>,
}

/// A model id as `validate::model_id` accepts it, for the description.
#[cfg(feature = "openapi")]
const MODEL_ID_PATTERN: &str = r"^[A-Za-z0-9._:-]+/[A-Za-z0-9._:-]+$";

/// `models` of [`CreateConversationRequest`]: 2 to 8 model ids.
#[cfg(feature = "openapi")]
fn council_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    let model = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(crate::validate::MODEL_ID_MAX_CHARS))
        .pattern(Some(MODEL_ID_PATTERN));
    ArrayBuilder::new()
        .items(model)
        .min_items(Some(crate::validate::COUNCIL_MIN_MODELS))
        .max_items(Some(crate::validate::COUNCIL_MAX_MODELS))
        .build()
}

/// Body of `PATCH /api/conversations/{id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameConversationRequest {
    /// 1 to 200 characters after trimming, one line.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
}

/// Body of `POST /api/conversations/{id}/message[/stream]`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessageRequest {
    /// 1 to 32,000 characters, not only whitespace.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32000))]
    pub content: String,
}

/// A conversation without its messages, as listed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// Time of the last message or rename.
    pub updated_at: DateTime<Utc>,
    pub title: String,
    pub message_count: i64,
    pub models: Vec<String>,
    pub lead_model: String,
}

/// A conversation with all its messages, oldest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub title: String,
    pub message_count: i64,
    pub models: Vec<String>,
    pub lead_model: String,
    pub messages: Vec<Message>,
}

impl Conversation {
    /// The same conversation without its messages.
    pub fn summary(&self) -> ConversationSummary {
        ConversationSummary {
            id: self.id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            title: self.title.clone(),
            message_count: self.message_count,
            models: self.models.clone(),
            lead_model: self.lead_model.clone(),
        }
    }
}

/// `"user"`; a marker so that a [`Message`] tells its kind on the wire.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserRole {
    #[serde(rename = "user")]
    User,
}

/// `"assistant"`; see [`UserRole`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssistantRole {
    #[serde(rename = "assistant")]
    Assistant,
}

/// One message of a conversation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Message {
    User(UserMessage),
    Assistant(Box<AssistantMessage>),
}

/// A question asked by the user.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMessage {
    pub id: Uuid,
    pub role: UserRole,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

/// Where a council run stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
    /// A final answer exists, but some council model failed.
    Partial,
    /// No final answer; finished stages are kept.
    Failed,
}

impl RunStatus {
    /// The value stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(Self::Running),
            "complete" => Some(Self::Complete),
            "partial" => Some(Self::Partial),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// The council's answer to one question, stage by stage.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    pub id: Uuid,
    pub role: AssistantRole,
    pub created_at: DateTime<Utc>,
    pub status: RunStatus,
    pub stage1: Vec<Stage1Result>,
    pub stage2: Vec<Stage2Result>,
    pub stage3: Option<Stage3Result>,
    pub metadata: Metadata,
    pub error: Option<String>,
}

/// One council model's answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage1Result {
    pub model: String,
    pub response: String,
}

/// One council model's evaluation of the anonymised answers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage2Result {
    pub model: String,
    pub ranking: String,
    /// Labels (`"Response A"`, …) best first, as parsed from `ranking`.
    pub parsed_ranking: Vec<String>,
}

/// The lead model's synthesis.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage3Result {
    pub model: String,
    pub response: String,
}

/// Everything about a run that is not an answer; persisted with the message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub label_to_model: BTreeMap<String, String>,
    #[serde(default)]
    pub aggregate_rankings: Vec<AggregateRanking>,
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// The sum of `calls`.
    #[serde(default)]
    pub usage: Usage,
    /// Every model call that answered, by stage and then in council order;
    /// a call that failed is in `failures` instead. Absent from messages
    /// stored before it existed.
    #[serde(default)]
    pub calls: Vec<Call>,
}

/// A model's average position over all evaluations that ranked it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateRanking {
    pub model: String,
    pub average_rank: f64,
    pub rankings_count: u32,
}

/// A model call that failed during a run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub model: String,
    pub stage: u8,
    pub error: String,
}

/// Tokens and cost summed over a run's calls.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Calls that reported no tokens count as 0.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// US dollars; `null` when the cost of any call (or of every call,
    /// when there was none) is unknown.
    #[serde(default)]
    pub cost: Option<f64>,
}

impl Usage {
    /// The sum of `calls`, as `metadata.usage` shows it.
    pub fn of_calls(calls: &[Call]) -> Self {
        let mut cost = (!calls.is_empty()).then_some(0.0);
        let mut sum = Self::default();
        for call in calls {
            sum.prompt_tokens += call.prompt_tokens.unwrap_or(0);
            sum.completion_tokens += call.completion_tokens.unwrap_or(0);
            cost = cost.zip(call.cost).map(|(total, more)| total + more);
        }
        Self { cost, ..sum }
    }
}

/// The stage of the title call in [`Call::stage`] (the others are 1–3).
pub const TITLE_STAGE: u8 = 0;

/// One model call of a run: what it used and how long it took.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub model: String,
    /// 0 the title, 1 an answer, 2 a ranking, 3 the synthesis.
    #[cfg_attr(feature = "openapi", schema(maximum = 3))]
    pub stage: u8,
    /// `null` when the provider reported no usage.
    pub prompt_tokens: Option<u64>,
    /// `null` when the provider reported no usage.
    pub completion_tokens: Option<u64>,
    /// US dollars, as the provider reported it; `null` when unknown
    /// (never 0 for unknown).
    pub cost: Option<f64>,
    /// From sending the request to the end of the answer, retries included.
    pub latency_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_tell_their_kind_on_the_wire() {
        let user = r#"{"id":"6f1c2e44-1d7b-4c55-9a55-3b1e0e0f3a11","role":"user","content":"hi","created_at":"2026-11-26T09:00:00Z"}"#;
        let parsed: Message = serde_json::from_str(user).expect("user message parses");
        assert!(matches!(parsed, Message::User(_)));

        let assistant = serde_json::json!({
            "id": "6f1c2e44-1d7b-4c55-9a55-3b1e0e0f3a12",
            "role": "assistant",
            "created_at": "2026-11-26T09:00:01.500Z",
            "status": "partial",
            "stage1": [{"model": "a/b", "response": "x"}],
            "stage2": [],
            "stage3": null,
            "metadata": {
                "label_to_model": {}, "aggregate_rankings": [], "failures": [],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "cost": null},
                "calls": [{"model": "a/b", "stage": 1, "prompt_tokens": 1,
                           "completion_tokens": 2, "cost": null, "latency_ms": 40}],
            },
            "error": null
        });
        let parsed: Message = serde_json::from_value(assistant.clone()).expect("assistant parses");
        match &parsed {
            Message::Assistant(a) => assert_eq!(a.status, RunStatus::Partial),
            Message::User(_) => panic!("an assistant message parsed as a user message"),
        }
        assert_eq!(
            serde_json::to_value(&parsed).expect("serialises"),
            assistant,
            "a message survives a round trip unchanged"
        );
    }

    #[test]
    fn messages_stored_before_calls_existed_still_parse() {
        let old = r#"{"label_to_model":{},"aggregate_rankings":[],"failures":[],
            "usage":{"prompt_tokens":3,"completion_tokens":4}}"#;
        let parsed: Metadata = serde_json::from_str(old).expect("old metadata parses");
        assert!(parsed.calls.is_empty());
        assert_eq!(parsed.usage.cost, None);
        let json = serde_json::to_value(&parsed).expect("serialises");
        assert_eq!(json["usage"]["cost"], serde_json::Value::Null);
        assert_eq!(json["calls"], serde_json::json!([]));
    }

    fn call(stage: u8, tokens: Option<(u64, u64)>, cost: Option<f64>) -> Call {
        Call {
            model: "a/b".into(),
            stage,
            prompt_tokens: tokens.map(|t| t.0),
            completion_tokens: tokens.map(|t| t.1),
            cost,
            latency_ms: 1,
        }
    }

    #[test]
    fn usage_sums_the_calls_and_an_unknown_cost_makes_the_sum_unknown() {
        let known = [
            call(1, Some((10, 20)), Some(0.25)),
            call(3, Some((1, 2)), Some(0.5)),
        ];
        assert_eq!(
            Usage::of_calls(&known),
            Usage {
                prompt_tokens: 11,
                completion_tokens: 22,
                cost: Some(0.75)
            }
        );
        let one_unknown = [call(0, None, None), call(1, Some((10, 20)), Some(0.25))];
        assert_eq!(
            Usage::of_calls(&one_unknown),
            Usage {
                prompt_tokens: 10,
                completion_tokens: 20,
                cost: None
            }
        );
        assert_eq!(Usage::of_calls(&[]), Usage::default());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = Credentials {
            email: "a@x.io".into(),
            password: "hunter22-secret".into(),
        };
        assert!(!format!("{c:?}").contains("hunter22"));
        let t = TokenResponse {
            access_token: "aaa.bbb.ccc".into(),
            refresh_token: "ddd.eee.fff".into(),
            token_type: "bearer".into(),
            expires_in: 900,
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("aaa.bbb") && !shown.contains("ddd.eee"));
        let k = ApiKeyRequest {
            api_key: "sk-or-v1-verysecret".into(),
            provider: None,
        };
        assert!(!format!("{k:?}").contains("verysecret"));
    }
}
