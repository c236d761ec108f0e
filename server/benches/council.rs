//! End-to-end council latency against the fake upstream, as a ratio to the
//! ideal: with every model call taking L, a council can be no faster than
//! 3·L (stage 1, stage 2 and stage 3 each wait for one call; the title runs
//! alongside stage 1). Prints, per database, one council alone and N
//! councils of N different users at once.
//!
//! `cargo bench -p council-server --bench council`
//! Environment: BENCH_LATENCY_MS (default 500), BENCH_CONCURRENCY (50),
//! BENCH_POSTGRES_URL (a PostgreSQL server to also measure on; a scratch
//! database is created there and dropped).

use std::time::{Duration, Instant};

use council_client::Client;
use council_server::Server;
use council_server::config::Config;
use council_server::db::DatabaseUrl;
use council_shared::RunStatus;
use council_testkit::FakeUpstream;
use council_testkit::client::register_with_key;
use diesel::Connection;
use diesel::connection::SimpleConnection;

/// Goals on a 2-core machine (issue 2/6).
const GOAL_ONE: f64 = 1.10;
const GOAL_MANY: f64 = 1.25;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A user with a key, signed in.
async fn new_user(server: &Client, i: usize) -> Result<Client, Error> {
    Ok(register_with_key(
        server,
        &format!("bench{i}@example.com"),
        &format!("sk-or-v1-bench-{i:04}"),
    )
    .await?)
}

/// One council in a new conversation (a first message: titled alongside).
async fn council(user: &Client) -> Result<Duration, Error> {
    let id = user.create_conversation(None, None).await?.id;
    let started = Instant::now();
    let message = user
        .send_message(id, "What makes a good benchmark?")
        .await?;
    let took = started.elapsed();
    if message.status != RunStatus::Complete {
        return Err(format!("council ended {}", message.status.as_str()).into());
    }
    Ok(took)
}

struct Row {
    backend: &'static str,
    councils: usize,
    /// The median council's own time.
    median: Duration,
    /// Until the last council finished (the median round's, for N at once).
    slowest: Duration,
    /// Fastest and slowest round.
    spread: (Duration, Duration),
}

/// Rounds of each measurement; the median round is reported.
const ROUNDS: usize = 3;

async fn measure(
    backend: &'static str,
    database: DatabaseUrl,
    latency: Duration,
    many: usize,
) -> Result<Vec<Row>, Error> {
    let fake = FakeUpstream::start().await?;
    fake.set_default_latency(latency);
    let dir = tempfile::tempdir()?;
    let mut config = Config::with_defaults(database, dir.path().to_owned(), 4)?;
    config.openrouter_base_url = fake.base_url();
    config.auth_rate_per_minute = 0;
    config.db_pool_size = 16;
    let server = Server::start(&config).await?;
    let base = format!("http://{}", server.addr());
    // One connection pool for every user (each a session of its own).
    let client = Client::new(&base)?;

    let mut users = Vec::with_capacity(many);
    for i in 0..many {
        users.push(new_user(&client, i).await?);
    }
    // Warm up connections and caches; not measured.
    council(&users[0]).await?;

    let mut alone = Vec::new();
    for _ in 0..ROUNDS {
        alone.push(council(&users[0]).await?);
    }
    alone.sort();

    // The machine is shared and noisy: three rounds, the median reported.
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for user in &users {
            let user = user.clone();
            tasks.spawn(async move { council(&user).await });
        }
        let mut each = Vec::with_capacity(many);
        while let Some(result) = tasks.join_next().await {
            each.push(result??);
        }
        let wall = started.elapsed();
        each.sort();
        rounds.push((wall, each[each.len() / 2], round));
    }
    rounds.sort();
    let (wall, median_council, _) = rounds[ROUNDS / 2];
    let spread = (rounds[0].0, rounds[ROUNDS - 1].0);
    server.shutdown().await?;
    fake.shutdown().await;
    Ok(vec![
        Row {
            backend,
            councils: 1,
            median: alone[1],
            slowest: alone[1],
            spread: (alone[0], alone[2]),
        },
        Row {
            backend,
            councils: many,
            median: median_council,
            slowest: wall,
            spread,
        },
    ])
}

fn main() -> Result<(), Error> {
    let latency = Duration::from_millis(env_u64("BENCH_LATENCY_MS", 500));
    let many = usize::try_from(env_u64("BENCH_CONCURRENCY", 50))
        .unwrap_or(50)
        .max(1);
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();

    let dir = tempfile::tempdir()?;
    rows.extend(runtime.block_on(measure(
        "sqlite",
        DatabaseUrl::sqlite_in(dir.path()),
        latency,
        many,
    ))?);

    if let Ok(admin) = std::env::var("BENCH_POSTGRES_URL") {
        let name = format!("council_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin)?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => return Err("BENCH_POSTGRES_URL needs a database path".into()),
        };
        let result = runtime.block_on(measure(
            "postgres",
            DatabaseUrl::parse(&url)?,
            latency,
            many,
        ));
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        rows.extend(result?);
    }

    let ideal = latency * 3;
    let ratio = |d: Duration| d.as_secs_f64() / ideal.as_secs_f64();
    println!(
        "per-call latency L = {} ms; ideal council = 3·L = {} ms; median of {ROUNDS} rounds",
        latency.as_millis(),
        ideal.as_millis()
    );
    println!(
        "{:<9} {:>8} {:>10} {:>10} {:>8} {:>15} {:>7}",
        "database", "councils", "median ms", "last ms", "last/3L", "rounds' range", "goal"
    );
    for r in rows {
        let goal = if r.councils == 1 { GOAL_ONE } else { GOAL_MANY };
        let met = ratio(r.slowest) <= goal;
        println!(
            "{:<9} {:>8} {:>10} {:>10} {:>8.3} {:>15} {:>7}",
            r.backend,
            r.councils,
            r.median.as_millis(),
            r.slowest.as_millis(),
            ratio(r.slowest),
            format!("{:.3}–{:.3}", ratio(r.spread.0), ratio(r.spread.1)),
            format!("{}{goal:.2}", if met { "≤" } else { "✗ >" })
        );
    }
    Ok(())
}
