//! Copying to the clipboard of the terminal the user sits at, with the
//! OSC 52 escape sequence. It travels with the output, so it works over ssh
//! with nothing installed on the remote machine (no X11 or Wayland tool).
//!
//! Inside tmux (`$TMUX` set), tmux eats escape sequences meant for the
//! outer terminal. Two ways through exist, each off by default, so the
//! sequence is sent both ways: plainly, which tmux takes when
//! `set-clipboard on` is set (it also fills tmux's own paste buffer), and
//! wrapped in tmux's DCS passthrough, which reaches the terminal when
//! `allow-passthrough on` is set. With both on, the terminal is told the
//! same text twice, which is harmless.

use base64::Engine as _;

/// ESC.
const ESC: char = '\x1b';
/// BEL, the terminator of the OSC sequence (the one most terminals accept).
const BEL: char = '\x07';

/// `ESC ] 52 ; c ; <base64 of text> BEL`: sets the clipboard (`c`).
pub fn osc52(text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("{ESC}]52;c;{encoded}{BEL}")
}

/// `sequence` wrapped in tmux's passthrough: `ESC Ptmux;`, the sequence with
/// every ESC doubled, `ESC \`.
pub fn tmux_passthrough(sequence: &str) -> String {
    let inner = sequence.replace(ESC, &format!("{ESC}{ESC}"));
    format!("{ESC}Ptmux;{inner}{ESC}\\")
}

/// What to write to the terminal to copy `text`: the OSC 52 sequence, and
/// inside tmux also its passthrough form (see the module's notes).
pub fn copy_sequence(text: &str, in_tmux: bool) -> String {
    let plain = osc52(text);
    if in_tmux {
        let wrapped = tmux_passthrough(&plain);
        plain + &wrapped
    } else {
        plain
    }
}

/// True when running inside tmux.
pub fn in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_base64_between_the_introducer_and_bel() {
        assert_eq!(osc52("hello"), "\x1b]52;c;aGVsbG8=\x07");
        // UTF-8 bytes, not characters, are encoded.
        assert_eq!(osc52("é"), "\x1b]52;c;w6k=\x07");
        assert_eq!(osc52(""), "\x1b]52;c;\x07");
    }

    #[test]
    fn tmux_passthrough_doubles_every_escape() {
        assert_eq!(
            tmux_passthrough("\x1b]52;c;aGk=\x07"),
            "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
    }

    #[test]
    fn inside_tmux_both_forms_are_sent() {
        let outside = copy_sequence("hi", false);
        assert_eq!(outside, "\x1b]52;c;aGk=\x07");
        let inside = copy_sequence("hi", true);
        assert_eq!(inside, format!("{outside}\x1bPtmux;\x1b{outside}\x1b\\"));
    }

    #[test]
    fn the_encoding_has_no_control_characters_to_break_the_sequence() {
        let text = "line 1\nline 2\x07\x1b]0;title\x07";
        let seq = osc52(text);
        let payload = &seq[7..seq.len() - 1];
        assert!(payload.chars().all(|c| c.is_ascii_graphic()), "{payload:?}");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .expect("valid base64");
        assert_eq!(decoded, text.as_bytes());
    }
}
