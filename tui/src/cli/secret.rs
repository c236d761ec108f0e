//! Reading a password or a key: prompted on the terminal without echo, or
//! (for scripts) one line from standard input. Never printed, never logged.

use std::io::{BufRead, IsTerminal};

use secrecy::SecretString;

use super::CliError;

/// Where a secret comes from, and what it is called in messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    /// "password", "API key".
    pub what: &'static str,
    /// The flag that reads it from standard input, e.g. `--password-stdin`.
    pub flag: &'static str,
    /// Read from standard input instead of prompting.
    pub from_stdin: bool,
}

/// Reads the secret: the first line of standard input with the flag; else
/// a prompt on the terminal without echo (twice with `confirm`, which must
/// match). Without the flag and with no terminal on standard input it fails
/// at once, rather than waiting for input that will never come.
pub(crate) async fn read(source: Source, confirm: bool) -> Result<SecretString, CliError> {
    if source.from_stdin {
        return tokio::task::spawn_blocking(move || stdin_line(source))
            .await
            .map_err(|e| CliError::new(format!("cannot read standard input: {e}")))?;
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(format!(
            "standard input is not a terminal, so the {what} cannot be prompted for: pass {flag} and write the {what} to standard input",
            what = source.what,
            flag = source.flag,
        )));
    }
    let first = prompt(format!("{}: ", capitalised(source.what))).await?;
    if confirm {
        let again = prompt(format!("Repeat the {}: ", source.what)).await?;
        use secrecy::ExposeSecret as _;
        if first.expose_secret() != again.expose_secret() {
            return Err(CliError::new(format!("the two {}s differ", source.what)));
        }
    }
    Ok(first)
}

/// One prompt on the terminal (rpassword opens `/dev/tty` itself and turns
/// echo off while reading, restoring it after, also on Ctrl-C).
async fn prompt(text: String) -> Result<SecretString, CliError> {
    let answer = tokio::task::spawn_blocking(move || rpassword::prompt_password(text))
        .await
        .map_err(|e| CliError::new(format!("cannot prompt: {e}")))?;
    match answer {
        Ok(s) if s.is_empty() => Err(CliError::new("nothing was entered")),
        Ok(s) => Ok(SecretString::from(s)),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(CliError::new("interrupted")),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(CliError::new("nothing was entered"))
        }
        Err(e) => Err(CliError::new(format!("cannot read from the terminal: {e}"))),
    }
}

fn stdin_line(source: Source) -> Result<SecretString, CliError> {
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => CliError::new(format!(
                "the {} on standard input is not UTF-8",
                source.what
            )),
            _ => CliError::new(format!("cannot read standard input: {e}")),
        })?;
    let secret = line.strip_suffix('\n').unwrap_or(&line);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if read == 0 || secret.is_empty() {
        return Err(CliError::new(format!(
            "{} expects the {} on the first line of standard input, and it is empty",
            source.flag, source.what
        )));
    }
    Ok(SecretString::from(secret.to_owned()))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
