//! The client's state file lives in `council_client::state`, so that every
//! client persists sessions the same way; this module keeps the paths the
//! rest of the terminal client uses.

pub use council_client::state::*;
