//! Types and rules shared by `council-server` and its clients.
//!
//! Everything that crosses the wire is defined here once: the request and
//! response bodies of `API.md` ([`dto`]), the council's streamed events
//! ([`events`]) and the validation rules both sides
//! apply before anything is sent or stored ([`validate`]). [`private_file`]
//! writes the files only their owner may read, on both sides.

pub mod dto;
pub mod events;
pub mod private_file;
pub mod validate;

pub use dto::*;
pub use events::*;
