//! Input rules of `API.md`, applied by the server before anything is stored
//! and by clients before anything is sent. Each check returns the normalised
//! value or a message fit to show a person.

use std::fmt;

/// Why an input was refused; the text is the `detail` of the 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid<T>(msg: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(msg.into()))
}

pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_MIN_CHARS: usize = 8;
/// bcrypt reads at most 72 bytes including its terminator; longer passwords
/// would be silently truncated, so they are refused instead.
pub const PASSWORD_MAX_BYTES: usize = 71;
pub const MODEL_ID_MAX_CHARS: usize = 100;
pub const COUNCIL_MIN_MODELS: usize = 2;
pub const COUNCIL_MAX_MODELS: usize = 8;
pub const TITLE_MAX_CHARS: usize = 200;
pub const CONTENT_MAX_CHARS: usize = 32_000;
pub const API_KEY_MIN_CHARS: usize = 10;
/// Providers a key may be saved for.
pub const PROVIDERS: &[&str] = &["openrouter"];

/// Trims and lower-cases an email, then checks its shape: one `@`, a dot in
/// the domain, no spaces, at most 254 characters.
pub fn email(raw: &str) -> Result<String, Invalid> {
    let email = raw.trim().to_lowercase();
    let bad = || invalid("Invalid email address");
    if email.is_empty() || email.chars().count() > EMAIL_MAX_CHARS {
        return bad();
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return bad();
    };
    if local.is_empty() || domain.is_empty() {
        return bad();
    }
    // A dot inside the domain, with a label on each side of every dot.
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return bad();
    }
    Ok(email)
}

/// A new password: at least 8 characters and at most 71 bytes, no NUL
/// (bcrypt would stop reading there).
pub fn password(password: &str) -> Result<(), Invalid> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return invalid(format!(
            "Password must be at least {PASSWORD_MIN_CHARS} characters"
        ));
    }
    if password.contains('\0') {
        return invalid("Password must not contain NUL characters");
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return invalid(format!(
            "Password must be at most {PASSWORD_MAX_BYTES} bytes"
        ));
    }
    Ok(())
}

/// A model id: `vendor/name` of letters, digits, `.`, `-`, `_`, `:` with
/// exactly one `/`, at most 100 characters.
pub fn model_id(id: &str) -> Result<(), Invalid> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    let shown: String = id.chars().take(MODEL_ID_MAX_CHARS).collect();
    if id.is_empty() {
        return invalid("Model id must not be empty");
    }
    if id.chars().count() > MODEL_ID_MAX_CHARS {
        return invalid(format!(
            "Model id '{shown}…' is longer than {MODEL_ID_MAX_CHARS} characters"
        ));
    }
    let well_formed = match id.split_once('/') {
        Some((vendor, name)) => {
            !vendor.is_empty()
                && !name.is_empty()
                && vendor.chars().all(allowed)
                && name.chars().all(allowed)
        }
        None => false,
    };
    if !well_formed {
        return invalid(format!(
            "Model id '{shown}' is malformed: expected vendor/name"
        ));
    }
    Ok(())
}

/// A council: each id well formed, duplicates dropped (first kept), then
/// 2 to 8 models.
pub fn council_models(models: &[String]) -> Result<Vec<String>, Invalid> {
    let mut distinct: Vec<String> = Vec::with_capacity(models.len());
    for m in models {
        model_id(m)?;
        if !distinct.contains(m) {
            distinct.push(m.clone());
        }
    }
    if distinct.len() < COUNCIL_MIN_MODELS {
        return invalid(format!(
            "A council needs at least {COUNCIL_MIN_MODELS} distinct models"
        ));
    }
    if distinct.len() > COUNCIL_MAX_MODELS {
        return invalid(format!("A council has at most {COUNCIL_MAX_MODELS} models"));
    }
    Ok(distinct)
}

/// A conversation title: trimmed, one line, not empty, at most 200 characters.
pub fn title(raw: &str) -> Result<String, Invalid> {
    let title = raw.trim();
    if title.is_empty() {
        return invalid("Title must not be empty");
    }
    if title.chars().any(char::is_control) {
        return invalid("Title must be one line without control characters");
    }
    if title.chars().count() > TITLE_MAX_CHARS {
        return invalid(format!(
            "Title must be at most {TITLE_MAX_CHARS} characters"
        ));
    }
    Ok(title.to_owned())
}

/// A question: not blank, no NUL (PostgreSQL text cannot hold it), at most
/// 32,000 characters.
pub fn content(content: &str) -> Result<(), Invalid> {
    if content.trim().is_empty() {
        return invalid("Message content must not be empty");
    }
    if content.contains('\0') {
        return invalid("Message content must not contain NUL characters");
    }
    if content.chars().count() > CONTENT_MAX_CHARS {
        return invalid(format!(
            "Message content must be at most {CONTENT_MAX_CHARS} characters"
        ));
    }
    Ok(())
}

/// A provider key: trimmed, at least 10 characters, no whitespace or control
/// characters inside.
pub fn api_key(raw: &str) -> Result<String, Invalid> {
    let key = raw.trim();
    if key.chars().count() < API_KEY_MIN_CHARS {
        return invalid(format!(
            "API key must be at least {API_KEY_MIN_CHARS} characters"
        ));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("API key must not contain whitespace or control characters");
    }
    Ok(key.to_owned())
}

/// A provider name from [`PROVIDERS`], lower case.
pub fn provider(raw: &str) -> Result<String, Invalid> {
    let p = raw.trim().to_lowercase();
    if PROVIDERS.contains(&p.as_str()) {
        Ok(p)
    } else {
        invalid(format!(
            "Unknown provider; supported: {}",
            PROVIDERS.join(", ")
        ))
    }
}

/// What a key is shown as: `"..."` and its last four characters.
pub fn key_hint(key: &str) -> String {
    let tail: Vec<char> = key.chars().rev().take(4).collect();
    let tail: String = tail.into_iter().rev().collect();
    format!("...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  A@X.io ").as_deref(), Ok("a@x.io"));
        for bad in [
            "", "a", "a@b", "@x.io", "a@", "a@@x.io", "a@b@x.io", "a b@x.io", "a@x..io", "a@.io",
            "a@x.",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@x.io", "a".repeat(250));
        assert!(email(&long).is_err());
        let max = format!("{}@x.io", "a".repeat(249));
        assert!(email(&max).is_ok());
    }

    #[test]
    fn passwords_have_bounds_in_chars_and_bytes() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"a".repeat(71)).is_ok());
        assert!(password(&"a".repeat(72)).is_err());
        // 8 characters of 3 bytes each: long enough, and within 71 bytes.
        assert!(password("€€€€€€€€").is_ok());
        assert!(password(&"€".repeat(24)).is_err());
    }

    #[test]
    fn model_ids() {
        for ok in [
            "openai/gpt-5.1",
            "x-ai/grok-4:free",
            "a/b",
            "meta_llama/Llama-3.3_70b",
        ] {
            assert!(model_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "gpt", "/gpt", "openai/", "a/b/c", "a b/c", "a/b!", "ä/b",
        ] {
            assert!(model_id(bad).is_err(), "{bad}");
        }
        let long = format!("a/{}", "b".repeat(98));
        assert!(model_id(&long).is_ok());
        assert!(model_id(&format!("{long}c")).is_err());
    }

    #[test]
    fn councils_drop_duplicates_and_count_distinct_models() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            council_models(&v(&["a/x", "b/y", "a/x"])),
            Ok(v(&["a/x", "b/y"]))
        );
        assert!(council_models(&v(&["a/x", "a/x"])).is_err());
        assert!(council_models(&v(&[])).is_err());
        let nine: Vec<String> = (0..9).map(|i| format!("v/m{i}")).collect();
        assert!(council_models(&nine).is_err());
        assert!(council_models(&nine[..8]).is_ok());
        assert!(council_models(&v(&["a/x", "bad"])).is_err());
    }

    #[test]
    fn keys_titles_and_content() {
        assert_eq!(
            api_key("  sk-or-v1-abcdef  ").as_deref(),
            Ok("sk-or-v1-abcdef")
        );
        assert!(api_key("short").is_err());
        assert!(api_key("sk-or v1-abcdef").is_err());
        assert_eq!(key_hint("sk-or-v1-abcdef"), "...cdef");
        assert_eq!(provider("OpenRouter").as_deref(), Ok("openrouter"));
        assert!(provider("acme").is_err());
        assert!(title("   ").is_err());
        assert_eq!(title(" Hi ").as_deref(), Ok("Hi"));
        assert!(title(&"t".repeat(201)).is_err());
        assert!(content(" \n\t").is_err());
        assert!(content(&"x".repeat(32_001)).is_err());
        assert!(content("why?").is_ok());
        assert!(content("a\0b").is_err());
        assert!(title("a\nb").is_err() && title("a\0").is_err());
        assert!(api_key("sk-or-v1-\0\0\0\0").is_err());
        assert!(password("pass\0word").is_err());
    }
}
