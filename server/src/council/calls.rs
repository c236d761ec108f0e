//! `metadata.calls`: one entry per model call that answered, timed around
//! the call, and `metadata.usage`, their sum.

use std::future::Future;
use std::time::{Duration, Instant};

use council_shared::{Call, Metadata, TITLE_STAGE, Usage};

use super::upstream::ReportedUsage;

/// The stages of [`Call::stage`].
pub(super) const TITLE: u8 = TITLE_STAGE;
pub(super) const ANSWER: u8 = 1;
pub(super) const RANKING: u8 = 2;
pub(super) const SYNTHESIS: u8 = 3;

/// Awaits `call`; returns its output and how long it took.
pub(super) async fn timed<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let output = call.await;
    (output, started.elapsed())
}

/// The entry of a call of `model` at `stage` that answered after `latency`.
pub(super) fn entry(model: &str, stage: u8, usage: ReportedUsage, latency: Duration) -> Call {
    Call {
        model: model.to_owned(),
        stage,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        cost: usage.cost,
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
    }
}

/// Adds `call` to `metadata` and sums the usage again. The calls are kept
/// by stage, then in `council` order, so that a reload shows them in the
/// same order whichever answered first.
pub(super) fn add(metadata: &mut Metadata, call: Call, council: &[String]) {
    metadata.calls.push(call);
    metadata
        .calls
        .sort_by_key(|c| (c.stage, council.iter().position(|m| *m == c.model)));
    metadata.usage = Usage::of_calls(&metadata.calls);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_ordered_by_stage_then_council_and_summed() {
        let council = ["a/one".to_owned(), "b/two".to_owned()];
        let usage = |tokens, cost| ReportedUsage {
            prompt_tokens: Some(tokens),
            completion_tokens: Some(tokens),
            cost,
        };
        let mut metadata = Metadata::default();
        let ms = Duration::from_millis;
        add(
            &mut metadata,
            entry("b/two", ANSWER, usage(1, Some(0.5)), ms(7)),
            &council,
        );
        add(
            &mut metadata,
            entry("lead", SYNTHESIS, usage(2, Some(0.25)), ms(9)),
            &council,
        );
        add(
            &mut metadata,
            entry("a/one", ANSWER, usage(4, Some(0.125)), ms(3)),
            &council,
        );
        let order: Vec<(u8, &str)> = metadata
            .calls
            .iter()
            .map(|c| (c.stage, c.model.as_str()))
            .collect();
        assert_eq!(order, [(1, "a/one"), (1, "b/two"), (3, "lead")]);
        assert_eq!(metadata.calls[0].latency_ms, 3);
        assert_eq!(metadata.usage.prompt_tokens, 7);
        assert_eq!(metadata.usage.cost, Some(0.875));

        add(
            &mut metadata,
            entry("title", TITLE, ReportedUsage::default(), ms(1)),
            &council,
        );
        assert_eq!(metadata.calls[0].model, "title");
        assert_eq!(metadata.calls[0].prompt_tokens, None);
        assert_eq!(
            metadata.usage.prompt_tokens, 7,
            "no tokens reported: none added"
        );
        assert_eq!(
            metadata.usage.cost, None,
            "one cost unknown: the sum is unknown"
        );
    }
}
