//! `council-bench`: the server's performance budget (issue 6/6), measured on
//! the real release binary, for SQLite and PostgreSQL side by side.
//!
//! ```sh
//! cargo build --release -p council-server -p council-bench
//! BENCH_POSTGRES_URL='postgres://postgres@127.0.0.1/postgres?sslmode=disable' target/release/council-bench
//! ```
//!
//! It starts `council-server` (found next to its own executable) as a child
//! process with a fresh database per server, runs the fake upstream
//! (`council-testkit`) in-process, generates the load from this process and
//! prints one table of ratios plus the absolute numbers behind them.
//!
//! Environment: `BENCH_POSTGRES_URL` (a PostgreSQL server to measure on too;
//! scratch databases are created there and dropped; unset: SQLite only),
//! `BENCH_SERVER` (another server binary), `BENCH_SECONDS` (the measured
//! window of each throughput round, default 3), `BENCH_STREAMS` (500),
//! `BENCH_ROWS` (the rows to run, default `1,2,3,4`; row 4 always runs).
//! `council-bench load ADDR PATH [TOKEN]` only sends row 1's load to a
//! server started by hand, for a profiler.

mod http;
mod scenario;
mod server;

use std::path::PathBuf;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;

use crate::http::Error;
use crate::scenario::{Backend, Options, Results};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn server_binary() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os("BENCH_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let me = std::env::current_exe()?;
    let path = me
        .parent()
        .ok_or("the bench binary has no directory")?
        .join("council-server");
    if !path.exists() {
        return Err(format!(
            "{} not found: build it with `cargo build --release -p council-server -p council-bench`",
            path.display()
        )
        .into());
    }
    Ok(path)
}

/// A scratch PostgreSQL database on the server `admin` names; dropped by
/// [`Scratch::drop`].
struct Scratch {
    admin: String,
    names: Vec<String>,
}

impl Scratch {
    fn new_database(&mut self) -> Result<String, Error> {
        let name = format!("council_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&self.admin)?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
        self.names.push(name.clone());
        // Options after `?` (e.g. `sslmode=disable`) apply to the scratch
        // database too.
        let (url, options) = match self.admin.split_once('?') {
            Some((url, options)) => (url, format!("?{options}")),
            None => (self.admin.as_str(), String::new()),
        };
        match url.rsplit_once('/') {
            Some((server, _)) => Ok(format!("{server}/{name}{options}")),
            None => Err("BENCH_POSTGRES_URL needs a database path".into()),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        match diesel::PgConnection::establish(&self.admin) {
            Ok(mut conn) => {
                for name in &self.names {
                    if let Err(e) =
                        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    {
                        eprintln!("could not drop the scratch database {name}: {e}");
                    }
                }
            }
            Err(e) => eprintln!("could not drop the scratch databases: {e}"),
        }
    }
}

/// `council-bench load ADDR PATH [TOKEN]`: only the load of row 1, 16
/// connections sending that GET for BENCH_SECONDS, against a server started
/// by hand (to profile it, e.g. under `perf record -p`).
fn load_only(args: &[String]) -> Result<(), Error> {
    let [addr, path, rest @ ..] = args else {
        return Err("usage: council-bench load ADDR PATH [TOKEN]".into());
    };
    let spec = http::Loop {
        addr: addr.parse()?,
        connections: 16,
        warmup: Duration::ZERO,
        measure: Duration::from_secs(env_u64("BENCH_SECONDS", 3).max(1)),
        pause: None,
        expect: 200,
        request: http::fixed(http::get(path, rest.first().map(String::as_str))),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let m = runtime.block_on(http::closed_loop(spec))?;
    println!(
        "{path}: {:.0}/s, p50 {:?}, p99 {:?}, {} errors",
        m.per_second(),
        m.quantile(0.5),
        m.quantile(0.99),
        m.errors
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "load") {
        return load_only(&args[1..]);
    }
    let options = Options {
        binary: server_binary()?,
        measure: Duration::from_secs(env_u64("BENCH_SECONDS", 3).max(1)),
        streams: usize::try_from(env_u64("BENCH_STREAMS", 500))
            .unwrap_or(500)
            .max(1),
        rows: {
            let rows = std::env::var("BENCH_ROWS").unwrap_or_else(|_| "1,2,3,4".into());
            let has = |r: &str| rows.split(',').any(|x| x.trim() == r);
            [has("1"), has("2"), has("3")]
        },
    };
    // Every stream holds a client connection here and the server holds it
    // plus its five upstream calls; the fake upstream (in this process)
    // holds those too. The server inherits this limit.
    let needed = options.streams as u64 * 6 + 256;
    match server::open_files_limit() {
        Some(limit) if limit < needed => {
            return Err(format!(
                "{} streams need about {needed} open files, the limit is {limit}: \
                 run `ulimit -n {}` first",
                options.streams,
                needed.next_power_of_two()
            )
            .into());
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let postgres = std::env::var("BENCH_POSTGRES_URL").ok();
    let mut scratch = postgres.as_ref().map(|admin| Scratch {
        admin: admin.clone(),
        names: vec![],
    });
    let sqlite_dir = tempfile::tempdir()?;
    let sqlite = runtime.block_on(scenario::run(
        &options,
        &mut Backend::Sqlite(sqlite_dir.path().to_owned()),
    ))?;
    let pg = match &mut scratch {
        Some(scratch) => Some(runtime.block_on(scenario::run(
            &options,
            &mut Backend::Postgres(Box::new(move || scratch.new_database())),
        ))?),
        None => None,
    };
    report(&options, &sqlite, pg.as_ref());
    Ok(())
}

/// One row of the table: the goal and how each backend met it.
struct Row {
    /// Index into `Options::rows`; 3 for row 4, which always runs.
    part: usize,
    name: &'static str,
    goal: &'static str,
    value: fn(&Results) -> String,
    met: fn(&Results) -> Option<bool>,
}

fn report(options: &Options, sqlite: &Results, pg: Option<&Results>) {
    let rows = [
        Row {
            part: 0,
            name: "1a GET /api/conversations (500) / /healthz",
            goal: ">= 0.50",
            value: |r| format!("{:.2}", r.list_ratio),
            met: |r| Some(r.list_ratio >= 0.5),
        },
        Row {
            part: 0,
            name: "1b GET /api/auth/me / /healthz",
            goal: ">= 0.70",
            value: |r| format!("{:.2}", r.me_ratio),
            met: |r| Some(r.me_ratio >= 0.7),
        },
        Row {
            part: 1,
            name: "2  /me p99 under login flood / idle p99",
            goal: "<= 3.0",
            value: |r| format!("{:.2}", r.isolation_ratio()),
            met: |r| Some(r.isolation_ratio() <= 3.0),
        },
        Row {
            part: 2,
            name: "3a streams complete (none lost)",
            goal: "all",
            value: |r| format!("{}/{}", r.streams.completed, r.streams.started),
            met: |r| Some(r.streams.all_complete()),
        },
        Row {
            part: 2,
            name: "3b server peak RSS, streams",
            goal: "< 150 MB",
            value: |r| mb(r.streams.peak_rss_kib),
            met: |r| Some(r.streams.peak_rss_kib * 1024 < 150_000_000),
        },
        Row {
            part: 2,
            name: "3c server CPU per council",
            goal: "(report)",
            value: |r| format!("{:.2} ms", r.streams.cpu_per_council.as_secs_f64() * 1e3),
            met: |_| None,
        },
        Row {
            part: 3,
            name: "4a idle RSS after start",
            goal: "< 20 MB",
            value: |r| mb(r.idle_rss_kib),
            met: |r| Some(r.idle_rss_kib * 1024 < 20_000_000),
        },
        Row {
            part: 3,
            name: "4b start to /readyz 200, fresh database",
            goal: "< 300 ms",
            value: |r| format!("{} ms", r.start_to_ready.as_millis()),
            met: |r| Some(r.start_to_ready < Duration::from_millis(300)),
        },
    ];
    let verdict = |m: Option<bool>| match m {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    };
    println!();
    println!(
        "council-server performance budget: 2 cores shared with the load generator, \
         16 connections, {} s windows, {} streams at 1 s per model call",
        options.measure.as_secs(),
        options.streams
    );
    println!(
        "{:<42} {:>9} {:>10} {:>10}  verdict (sqlite/postgres)",
        "row", "goal", "sqlite", "postgres"
    );
    for row in &rows {
        if !options.rows.get(row.part).copied().unwrap_or(true) {
            continue;
        }
        let pg_value = pg.map_or_else(|| "skipped".to_owned(), |r| (row.value)(r));
        let pg_met = pg.map_or("-", |r| verdict((row.met)(r)));
        println!(
            "{:<42} {:>9} {:>10} {:>10}  {}/{}",
            row.name,
            row.goal,
            (row.value)(sqlite),
            pg_value,
            verdict((row.met)(sqlite)),
            pg_met
        );
    }
    if pg.is_none() {
        println!("(PostgreSQL skipped: set BENCH_POSTGRES_URL=postgres://user@host/postgres)");
    }
    println!();
    println!("absolute numbers:");
    for r in std::iter::once(sqlite).chain(pg) {
        r.print_details(options.rows);
    }
}

/// Megabytes of 10^6 bytes, as the goals are stated.
pub fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}
