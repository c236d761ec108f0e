//! `council`: the terminal client of The Council.
//!
//! `app` is the client as a pure state machine (events in, effects out),
//! whose keys mean what `keymap` says; `screens` draws it; `runtime`
//! connects the two to the terminal, to the `council-client` crate (HTTP,
//! server-sent events, the state file) and, in local mode, to a server
//! running in-process (`local`, the default feature `local`). `cli` holds
//! the scripting subcommands (`council ask`, `export`, …); `export` renders
//! a conversation as a document for both, `usage` words what a council cost,
//! `text` measures and cuts by display width, and `clipboard` copies with
//! OSC 52.

pub mod app;
pub mod cli;
pub mod clipboard;
pub mod export;
pub mod keymap;
#[cfg(feature = "local")]
pub mod local;
pub mod markdown;
pub mod runtime;
pub mod screens;
pub mod text;
pub mod theme;
pub mod usage;
