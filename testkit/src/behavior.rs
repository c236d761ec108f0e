//! What the fake does for one model: the public [`Behavior`] / [`Outcome`]
//! types and the parser for the directives carried in model ids.

use std::time::Duration;

/// How the fake upstream answers calls for one model.
///
/// Built either from the directives in a model id (see the crate docs) or
/// given explicitly with [`crate::FakeUpstream::set_behavior`], which wins
/// over any directives.
#[derive(Debug, Clone, Default)]
pub struct Behavior {
    /// Delay before the first byte of the answer. `None` means "use the
    /// server's default latency" (zero unless
    /// [`crate::FakeUpstream::set_default_latency`] was called).
    pub latency: Option<Duration>,
    /// What the call does.
    pub outcome: Outcome,
    /// Fixed content to answer with instead of the generated answer.
    /// `Some(String::new())` gives an empty answer.
    pub reply: Option<String>,
    /// What a successful answer says about its usage.
    pub usage: UsageReport,
}

/// The `usage` block of a successful answer (the last chunk of a stream).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UsageReport {
    /// Tokens, and the cost when the request asks for it with
    /// `"usage": {"include": true}`, as OpenRouter does.
    #[default]
    Reported,
    /// Tokens but never a cost, like a provider that knows no prices.
    NoCost,
    /// No `usage` block at all.
    Absent,
}

/// The result of a call, independent of the content of the answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Outcome {
    /// A normal successful answer.
    #[default]
    Ok,
    /// Always answer with this HTTP status and an OpenAI-style error body.
    /// A 429 also carries `Retry-After: 1`.
    Status(u16),
    /// The first call for the model id fails with this status, later calls
    /// succeed. Calls are counted per model id per server instance.
    FailFirst(u16),
    /// Accept the request and never answer (until the fake shuts down).
    Hang,
    /// Streamed calls send one content chunk and then hang; non-streamed
    /// calls behave like [`Outcome::Hang`].
    HangAfterFirstChunk,
    /// Answer 200 with a body that is not valid JSON (or, for streams, SSE
    /// data lines that are not valid JSON).
    Malformed,
}

impl Behavior {
    /// Derives the behaviour from the directives in a model id such as
    /// `fake/alpha:ms200:flaky429`.
    ///
    /// Directives are the colon-separated segments after the first `:`.
    /// Unknown segments are ignored so that real-looking ids such as
    /// `vendor/model:free` work unchanged. When several outcome directives
    /// are given, the last one wins.
    pub fn from_model_id(model: &str) -> Behavior {
        let mut behavior = Behavior::default();
        // Everything before the first ':' is the plain model name; vendor
        // names never contain ':'.
        for directive in model.split(':').skip(1) {
            apply_directive(&mut behavior, directive.trim());
        }
        behavior
    }
}

/// Applies one directive to `behavior`; unknown directives are ignored.
fn apply_directive(behavior: &mut Behavior, directive: &str) {
    match directive {
        "hang" => behavior.outcome = Outcome::Hang,
        "hangstream" => behavior.outcome = Outcome::HangAfterFirstChunk,
        "malformed" => behavior.outcome = Outcome::Malformed,
        "empty" => behavior.reply = Some(String::new()),
        "nousage" => behavior.usage = UsageReport::Absent,
        "nocost" => behavior.usage = UsageReport::NoCost,
        _ => {
            if let Some(ms) = numeric_suffix(directive, "ms") {
                behavior.latency = Some(Duration::from_millis(ms));
            } else if let Some(code) = status_suffix(directive, "fail") {
                behavior.outcome = Outcome::Status(code);
            } else if let Some(code) = status_suffix(directive, "bad") {
                behavior.outcome = Outcome::Status(code);
            } else if let Some(code) = status_suffix(directive, "flaky") {
                behavior.outcome = Outcome::FailFirst(code);
            }
        }
    }
}

/// `prefix` followed by ASCII digits only, e.g. `ms250` → 250.
fn numeric_suffix(directive: &str, prefix: &str) -> Option<u64> {
    let digits = directive.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `prefix` followed by an HTTP status in 100..=599, e.g. `fail503` → 503.
/// Anything else is not a directive, so a model literally named
/// `fail-safe` keeps working.
fn status_suffix(directive: &str, prefix: &str) -> Option<u16> {
    let code = numeric_suffix(directive, prefix)?;
    u16::try_from(code)
        .ok()
        .filter(|code| (100..=599).contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_model_is_ok_without_latency() {
        let behavior = Behavior::from_model_id("openai/gpt-4o");
        assert_eq!(behavior.outcome, Outcome::Ok);
        assert_eq!(behavior.latency, None);
        assert_eq!(behavior.reply, None);
    }

    #[test]
    fn parses_combined_directives() {
        let behavior = Behavior::from_model_id("fake/alpha:ms200:flaky429");
        assert_eq!(behavior.latency, Some(Duration::from_millis(200)));
        assert_eq!(behavior.outcome, Outcome::FailFirst(429));
    }

    #[test]
    fn parses_each_outcome_directive() {
        let cases = [
            ("fake/a:fail500", Outcome::Status(500)),
            ("fake/a:fail429", Outcome::Status(429)),
            ("fake/a:bad400", Outcome::Status(400)),
            ("fake/a:flaky500", Outcome::FailFirst(500)),
            ("fake/a:hang", Outcome::Hang),
            ("fake/a:hangstream", Outcome::HangAfterFirstChunk),
            ("fake/a:malformed", Outcome::Malformed),
        ];
        for (model, expected) in cases {
            assert_eq!(Behavior::from_model_id(model).outcome, expected, "{model}");
        }
    }

    #[test]
    fn empty_sets_an_empty_reply() {
        let behavior = Behavior::from_model_id("fake/a:empty");
        assert_eq!(behavior.reply.as_deref(), Some(""));
        assert_eq!(behavior.outcome, Outcome::Ok);
    }

    #[test]
    fn usage_directives_leave_out_the_cost_or_the_whole_usage() {
        assert_eq!(
            Behavior::from_model_id("fake/a").usage,
            UsageReport::Reported
        );
        assert_eq!(
            Behavior::from_model_id("fake/a:nocost").usage,
            UsageReport::NoCost
        );
        let absent = Behavior::from_model_id("fake/a:ms5:nousage");
        assert_eq!(absent.usage, UsageReport::Absent);
        assert_eq!(absent.latency, Some(Duration::from_millis(5)));
        assert_eq!(absent.outcome, Outcome::Ok);
    }

    #[test]
    fn ignores_unknown_and_malformed_directives() {
        for model in [
            "vendor/model:free",
            "fake/a:msfast",
            "fake/a:fail",
            "fake/a:fail42",
            "fake/a:fail-safe",
        ] {
            let behavior = Behavior::from_model_id(model);
            assert_eq!(behavior.outcome, Outcome::Ok, "{model}");
            assert_eq!(behavior.latency, None, "{model}");
        }
    }
}
