//! `council`: the terminal client of The Council.
//!
//! `app` is the client as a pure state machine (events in, effects out);
//! `screens` draws it; `runtime` connects the two to the terminal, the
//! `client` (HTTP and server-sent events) and, in local mode, to a server
//! running in-process (`local`). `config` is the state file.

pub mod app;
pub mod client;
pub mod config;
pub mod local;
pub mod markdown;
pub mod runtime;
pub mod screens;
pub mod theme;
