//! Types and rules shared by `council-server` and its clients.
//!
//! Everything that crosses the wire is defined here once: the request and
//! response bodies of `API.md` ([`dto`]), the council's streamed events
//! ([`events`]) and the validation rules both sides
//! apply before anything is sent or stored ([`validate`]).

pub mod dto;
pub mod events;
pub mod validate;

pub use dto::*;
pub use events::*;
