//! Integration tests: the real router on 127.0.0.1:0, spoken to over HTTP.
//! SQLite by default; with `TEST_DATABASE_URL=postgres://...` every test
//! gets its own fresh PostgreSQL database instead.

mod accounts;
mod binary;
mod calls;
mod conversations;
mod council;
mod crash;
mod hardening;
mod keys;
mod openapi;
mod process;
mod support;
