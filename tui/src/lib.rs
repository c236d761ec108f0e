//! `council`: the terminal client of The Council.
//!
//! `app` is the client as a pure state machine (events in, effects out);
//! `screens` draws it; `runtime` connects the two to the terminal, the
//! `client` (HTTP and server-sent events) and, in local mode, to a server
//! running in-process (`local`). `config` is the state file. Both `client`
//! and `config` are the `council-client` crate's, re-exported. `cli` holds
//! the scripting subcommands (`council ask`, `export`, …); `export` renders
//! a conversation as a document for both, and `clipboard` copies with OSC 52.

pub mod app;
pub mod cli;
pub mod client;
pub mod clipboard;
pub mod config;
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
