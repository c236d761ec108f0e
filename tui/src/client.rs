//! The HTTP client of the Council API lives in the `council-client` crate,
//! shared with the testkit, the benchmarks and the server's tests; this
//! module keeps the paths the rest of the terminal client uses.

pub use council_client::*;
