//! What the client's integration tests share: a real server's
//! configuration, talking to the fake upstream.

use std::path::Path;
use std::time::Duration;

use council_server::config::{Config, ModelDefaults};
use council_server::db::DatabaseUrl;

/// A server on SQLite in `dir` whose model calls go to `upstream` (the
/// fake), with `council` and `lead` as its defaults, cheap bcrypt and login
/// limits no test reaches.
pub fn server_config(dir: &Path, upstream: String, council: &[&str], lead: &str) -> Config {
    let mut config = Config::with_defaults(DatabaseUrl::sqlite_in(dir), dir.to_owned(), 4)
        .expect("the defaults are valid");
    config.openrouter_base_url = upstream;
    config.models = ModelDefaults::new(
        council.iter().map(|m| (*m).to_owned()).collect(),
        vec![],
        lead.into(),
        "fake/title".into(),
    )
    .expect("valid models");
    config.auth_rate_per_minute = 10_000;
    config.upstream_timeout = Duration::from_secs(10);
    config
}
