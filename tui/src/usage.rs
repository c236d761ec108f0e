//! What an answer cost, as people read it: tokens, dollars and seconds,
//! for an answer, for one model's part of it and for a conversation. The
//! chat screen and `council ask` word it the same way.
//!
//! A cost the server does not know is never shown as `$0`: it is `$?`, and
//! a sum with unknown parts is `$0.031+?` (at least that much).

use std::fmt;

use council_shared::{AssistantMessage, Call, Conversation, Message};

/// Dollars, as far as they are known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cost {
    Known(f64),
    /// Some parts are known (their sum), others are not.
    AtLeast(f64),
    Unknown,
}

impl Cost {
    /// The sum of two costs: unknown parts keep the total a lower bound.
    pub fn plus(self, other: Cost) -> Cost {
        match (self, other) {
            (Cost::Known(a), Cost::Known(b)) => Cost::Known(a + b),
            (Cost::Unknown, Cost::Unknown) => Cost::Unknown,
            (Cost::Known(a) | Cost::AtLeast(a), Cost::Unknown)
            | (Cost::Unknown, Cost::Known(a) | Cost::AtLeast(a)) => Cost::AtLeast(a),
            (Cost::Known(a) | Cost::AtLeast(a), Cost::Known(b) | Cost::AtLeast(b)) => {
                Cost::AtLeast(a + b)
            }
        }
    }

    fn dollars(self) -> Option<f64> {
        match self {
            Cost::Known(d) | Cost::AtLeast(d) => Some(d),
            Cost::Unknown => None,
        }
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Cost::Known(d) => f.write_str(&dollars(d)),
            Cost::AtLeast(d) => write!(f, "{}+?", dollars(d)),
            Cost::Unknown => f.write_str("$?"),
        }
    }
}

/// `$0.0031`, `$0.031`, `$1.24`: enough digits to tell small sums apart.
fn dollars(d: f64) -> String {
    let d = d.max(0.0);
    if d == 0.0 {
        "$0".to_owned()
    } else if d < 0.0001 {
        // Known and not nothing: never printed as a zero.
        "<$0.0001".to_owned()
    } else if d < 0.01 {
        format!("${d:.4}")
    } else if d < 1.0 {
        format!("${d:.3}")
    } else {
        format!("${d:.2}")
    }
}

/// `842 tok`, `12.4k tok`, `1.2M tok`; `? tok` when unknown.
pub fn tokens(n: Option<u64>) -> String {
    match n {
        None => "? tok".to_owned(),
        Some(n) if n < 1_000 => format!("{n} tok"),
        Some(n) if n < 1_000_000 => format!("{:.1}k tok", n as f64 / 1e3),
        Some(n) => format!("{:.1}M tok", n as f64 / 1e6),
    }
}

/// `41s`, `2m05s`; `?s` when unknown.
pub fn seconds(secs: Option<f64>) -> String {
    match secs {
        None => "?s".to_owned(),
        Some(s) if s < 10.0 => format!("{s:.1}s"),
        Some(s) => {
            let whole = s.round().max(0.0) as u64;
            if whole < 60 {
                format!("{whole}s")
            } else {
                format!("{}m{:02}s", whole / 60, whole % 60)
            }
        }
    }
}

/// Tokens, cost and time of an answer, a model's part or a conversation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    pub tokens: Option<u64>,
    pub cost: Cost,
    pub secs: Option<f64>,
}

impl Spend {
    /// A whole answer: the run's usage; its time from its calls (the
    /// slowest call of each stage, since a stage's calls run together).
    pub fn of_answer(a: &AssistantMessage) -> Spend {
        let usage = &a.metadata.usage;
        let calls = &a.metadata.calls;
        let total = usage.prompt_tokens + usage.completion_tokens;
        // A server that reports nothing sends zeros (or no usage at all).
        let tokens = if total > 0 || calls.iter().any(|c| c.prompt_tokens.is_some()) {
            Some(total)
        } else {
            None
        };
        let cost =
            match usage.cost {
                Some(c) => Cost::Known(c),
                None => calls
                    .iter()
                    .map(call_cost)
                    .reduce(Cost::plus)
                    .map_or(Cost::Unknown, |c| match c {
                        Cost::Known(d) if calls.iter().any(|c| c.cost.is_none()) => {
                            Cost::AtLeast(d)
                        }
                        other => other,
                    }),
            };
        let secs = (!calls.is_empty()).then(|| {
            (1..=3u8)
                .filter_map(|stage| {
                    calls
                        .iter()
                        .filter(|c| c.stage == stage)
                        .map(|c| c.latency_ms)
                        .max()
                })
                .sum::<u64>() as f64
                / 1000.0
        });
        Spend { tokens, cost, secs }
    }

    /// One model's part of an answer (all its calls), and its share of the
    /// answer's cost; `None` when the server listed no calls.
    pub fn of_model(a: &AssistantMessage, model: &str) -> Option<(Spend, Option<f64>)> {
        let calls: Vec<&Call> = a
            .metadata
            .calls
            .iter()
            .filter(|c| c.model == model && c.stage > 0)
            .collect();
        if calls.is_empty() {
            return None;
        }
        let tokens = calls
            .iter()
            .map(|c| match (c.prompt_tokens, c.completion_tokens) {
                (None, None) => None,
                (p, c) => Some(p.unwrap_or(0) + c.unwrap_or(0)),
            })
            .sum::<Option<u64>>();
        let cost = calls
            .iter()
            .map(|c| call_cost(c))
            .reduce(Cost::plus)
            .unwrap_or(Cost::Unknown);
        let secs = Some(calls.iter().map(|c| c.latency_ms).sum::<u64>() as f64 / 1000.0);
        let share = match (cost, Spend::of_answer(a).cost) {
            (Cost::Known(part), Cost::Known(all)) if all > 0.0 => Some(part / all),
            _ => None,
        };
        Some((Spend { tokens, cost, secs }, share))
    }

    /// Every answer of a conversation.
    pub fn of_conversation(c: &Conversation) -> Option<Spend> {
        c.messages
            .iter()
            .filter_map(|m| match m {
                Message::Assistant(a) => Some(Spend::of_answer(a)),
                Message::User(_) => None,
            })
            .reduce(Spend::plus)
    }

    /// Two spends together; unknown parts make the sum a lower bound.
    pub fn plus(self, other: Spend) -> Spend {
        Spend {
            tokens: match (self.tokens, other.tokens) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            },
            cost: self.cost.plus(other.cost),
            secs: match (self.secs, other.secs) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            },
        }
    }

    /// `12.4k tok · $0.031 · 41s`.
    pub fn label(&self) -> String {
        format!(
            "{} · {} · {}",
            tokens(self.tokens),
            self.cost,
            seconds(self.secs)
        )
    }

    /// `12.4k tok · $0.031` (a conversation's total: its time means little).
    pub fn label_without_time(&self) -> String {
        format!("{} · {}", tokens(self.tokens), self.cost)
    }

    /// The dollars known so far, if any.
    pub fn known_dollars(&self) -> Option<f64> {
        self.cost.dollars()
    }
}

fn call_cost(c: &Call) -> Cost {
    c.cost.map_or(Cost::Unknown, Cost::Known)
}

/// `38%`.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", (share * 100.0).clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests {
    use council_shared::{AssistantRole, Metadata, RunStatus, Usage};

    use super::*;

    fn call(model: &str, stage: u8, tokens: Option<u64>, cost: Option<f64>, ms: u64) -> Call {
        Call {
            model: model.into(),
            stage,
            prompt_tokens: tokens,
            completion_tokens: tokens.map(|t| t / 2),
            cost,
            latency_ms: ms,
        }
    }

    fn answer(usage: Usage, calls: Vec<Call>) -> AssistantMessage {
        AssistantMessage {
            id: uuid::Uuid::from_u128(1),
            role: AssistantRole::Assistant,
            created_at: chrono::DateTime::UNIX_EPOCH,
            status: RunStatus::Complete,
            stage1: vec![],
            stage2: vec![],
            stage3: None,
            metadata: Metadata {
                usage,
                calls,
                ..Metadata::default()
            },
            error: None,
        }
    }

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(Cost::Known(0.0312).to_string(), "$0.031");
        assert_eq!(Cost::Known(0.00312).to_string(), "$0.0031");
        assert_eq!(Cost::Known(1.5).to_string(), "$1.50");
        assert_eq!(Cost::Known(0.0).to_string(), "$0");
        assert_eq!(Cost::Known(0.00002).to_string(), "<$0.0001");
        assert_eq!(Cost::Unknown.to_string(), "$?");
        assert_eq!(Cost::AtLeast(0.02).to_string(), "$0.020+?");
        assert_eq!(tokens(Some(842)), "842 tok");
        assert_eq!(tokens(Some(12_431)), "12.4k tok");
        assert_eq!(tokens(Some(2_500_000)), "2.5M tok");
        assert_eq!(tokens(None), "? tok");
        assert_eq!(seconds(Some(4.25)), "4.2s");
        assert_eq!(seconds(Some(41.4)), "41s");
        assert_eq!(seconds(Some(125.0)), "2m05s");
        assert_eq!(seconds(None), "?s");
    }

    #[test]
    fn an_answer_takes_the_slowest_call_of_each_stage() {
        let a = answer(
            Usage {
                prompt_tokens: 9_000,
                completion_tokens: 3_431,
                cost: Some(0.0312),
            },
            vec![
                call("a/x", 0, Some(100), Some(0.0001), 900),
                call("a/x", 1, Some(1000), Some(0.01), 8_000),
                call("b/y", 1, Some(1000), Some(0.01), 12_000),
                call("a/x", 2, Some(1000), Some(0.005), 5_000),
                call("l/m", 3, Some(1000), Some(0.0061), 20_000),
            ],
        );
        let s = Spend::of_answer(&a);
        assert_eq!(s.label(), "12.4k tok · $0.031 · 37s");
        let (part, share) = Spend::of_model(&a, "a/x").expect("a/x made calls");
        assert_eq!(part.tokens, Some(3000), "the title call is not a seat's");
        assert_eq!(part.cost, Cost::Known(0.015));
        assert_eq!(share.map(percent).as_deref(), Some("48%"));
    }

    #[test]
    fn an_unknown_cost_is_never_zero() {
        // An old server: no calls, no cost, no tokens.
        let old = answer(Usage::default(), vec![]);
        assert_eq!(Spend::of_answer(&old).label(), "? tok · $? · ?s");
        assert!(Spend::of_model(&old, "a/x").is_none());
        // One call with a cost, one without.
        let mixed = answer(
            Usage {
                prompt_tokens: 10,
                completion_tokens: 5,
                cost: None,
            },
            vec![
                call("a/x", 1, Some(10), Some(0.02), 1_000),
                call("b/y", 1, None, None, 2_000),
            ],
        );
        let s = Spend::of_answer(&mixed);
        assert_eq!(s.cost, Cost::AtLeast(0.02));
        assert_eq!(s.label(), "15 tok · $0.020+? · 2.0s");
        let (part, share) = Spend::of_model(&mixed, "b/y").expect("calls");
        assert_eq!(part.label(), "? tok · $? · 2.0s");
        assert_eq!(share, None);
    }

    #[test]
    fn a_conversation_sums_its_answers() {
        let known = answer(
            Usage {
                prompt_tokens: 100,
                completion_tokens: 50,
                cost: Some(0.01),
            },
            vec![call("a/x", 1, Some(100), Some(0.01), 1_000)],
        );
        let unknown = answer(Usage::default(), vec![]);
        let total = Spend::of_answer(&known).plus(Spend::of_answer(&unknown));
        assert_eq!(total.label_without_time(), "150 tok · $0.010+?");
        let both = Spend::of_answer(&known).plus(Spend::of_answer(&known));
        assert_eq!(both.label_without_time(), "300 tok · $0.020");
    }
}
