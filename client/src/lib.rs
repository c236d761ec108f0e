//! The typed client of the Council API (`API.md`), the one that the
//! terminal client, its subcommands, the testkit, the benchmarks and the
//! server's tests all speak to a server with.
//!
//! - [`Client`]: one server and one user's session; one method per endpoint
//!   (`api.rs`), a single token refresh on 401 however many calls fail at
//!   once, timeouts on every call but the ones that wait for a council.
//! - [`EventStream`]: a council's server-sent events as [`CouncilEvent`]s.
//! - [`Session`]: the two tokens, never shown by `Debug`; a callback hears
//!   of every change ([`Client::on_session_change`]) so the caller can
//!   persist it, e.g. with [`state::ConfigFile`].
//! - [`ClientError`]: every failure of a call, fit to show a user: no token,
//!   password, key or full URL in it.
//! - [`state`]: the session file on disk (where it is, loading, atomic
//!   private saving).
//!
//! The crate needs no database and no server code, so a remote-only client
//! links it without diesel, libpq or SQLite.
//!
//! [`CouncilEvent`]: council_shared::CouncilEvent

mod api;
mod client;
mod error;
mod http;
mod session;
mod sse;
pub mod state;

pub use client::Client;
pub use error::ClientError;
pub use session::{Session, SessionCallback};
pub use sse::EventStream;
