//! The four rows of the budget, for one backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use council_client::{Client, ClientError};
use council_shared::{CouncilEvent, Message, RunStatus};
use council_testkit::FakeUpstream;
use council_testkit::client::{register, register_with_key};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::http::{self, Error, Loop, Measured};
use crate::mb;
use crate::server::{ServerProcess, Settings};

/// Concurrency of the read-path and login-flood rows (the issue's 16).
const CONNECTIONS: usize = 16;
/// Conversations of the user whose list is read (row 1).
const LIST_SIZE: usize = 500;
/// Rounds of the read path; each round measures the three endpoints one
/// after the other, and the median round's ratio is reported.
const ROUNDS: usize = 3;
/// Requests before each counted window (connections, caches, pool).
const WARMUP: Duration = Duration::from_millis(500);
/// The `/me` probe of row 2: one connection, one request every this long.
const PROBE_PAUSE: Duration = Duration::from_millis(2);
/// Every model call of the fake upstream takes this long (row 3).
const UPSTREAM_LATENCY: Duration = Duration::from_secs(1);
/// Users the streams are spread over (each conversation runs one council
/// at a time; a user may have many).
const STREAM_USERS: usize = 10;
/// How long after start the idle footprint is read (row 4).
const SETTLE: Duration = Duration::from_secs(1);

pub struct Options {
    pub binary: PathBuf,
    pub measure: Duration,
    pub streams: usize,
    /// Rows 1, 2 and 3 to run (row 4 always runs: it is the start).
    pub rows: [bool; 3],
}

/// Where a fresh database for each server comes from.
pub enum Backend<'a> {
    /// A file in the server's data directory.
    Sqlite(PathBuf),
    /// A new scratch database per call.
    Postgres(Box<dyn FnMut() -> Result<String, Error> + 'a>),
}

impl Backend<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    fn fresh(&mut self, data_dir: &Path) -> Result<String, Error> {
        match self {
            Self::Sqlite(_) => Ok(format!(
                "sqlite://{}",
                data_dir.join("council.db").display()
            )),
            Self::Postgres(create) => create(),
        }
    }

    fn scratch_root(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(root) => Some(root),
            Self::Postgres(_) => None,
        }
    }
}

/// Latencies of the `/me` probe.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub count: u64,
    pub errors: u64,
}

impl Probe {
    fn of(m: &Measured) -> Self {
        Self {
            p50: m.quantile(0.5),
            p99: m.quantile(0.99),
            max: m.quantile(1.0),
            count: m.ok,
            errors: m.errors,
        }
    }
}

/// Row 3.
#[derive(Debug, Clone, Default)]
pub struct Streams {
    pub started: usize,
    pub completed: usize,
    pub failed: usize,
    pub lost: usize,
    /// Assistant messages read back `complete` afterwards.
    pub stored_complete: usize,
    pub rss_before_kib: u64,
    /// `VmHWM`: the server's peak (a fresh process: the streams' peak).
    pub peak_rss_kib: u64,
    pub rss_after_kib: u64,
    /// The most threads the server had, sampled every 20 ms.
    pub peak_threads: u64,
    pub cpu: Duration,
    pub cpu_per_council: Duration,
    pub wall: Duration,
    pub median_council: Duration,
    pub slowest_council: Duration,
    pub first_problem: Option<String>,
}

impl Streams {
    pub fn all_complete(&self) -> bool {
        self.completed == self.started && self.stored_complete == self.started
    }
}

/// Everything measured on one backend.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub backend: &'static str,
    pub start_to_ready: Duration,
    pub idle_rss_kib: u64,
    /// Of which the heap and stacks (`RssAnon`) and the pages of the binary
    /// and its shared libraries (`RssFile`).
    pub idle_rss_anon_kib: u64,
    pub idle_rss_file_kib: u64,
    pub healthz_rps: f64,
    pub me_rps: f64,
    pub list_rps: f64,
    pub list_ratio: f64,
    pub me_ratio: f64,
    pub list_body_bytes: u64,
    pub read_errors: u64,
    pub idle: Probe,
    pub loaded: Probe,
    pub logins_per_second: f64,
    pub login_errors: u64,
    pub streams: Streams,
}

impl Results {
    pub fn isolation_ratio(&self) -> f64 {
        self.loaded.p99.as_secs_f64() / self.idle.p99.as_secs_f64().max(1e-9)
    }

    /// The absolute numbers behind the ratios, of the rows that ran.
    pub fn print_details(&self, rows: [bool; 3]) {
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!("{}:", self.backend);
        println!(
            "  footprint: start to /readyz 200 in {} ms; idle RSS {} ({} s after ready): \
             {} anonymous, {} file-backed (the binary and its shared libraries)",
            self.start_to_ready.as_millis(),
            mb(self.idle_rss_kib),
            SETTLE.as_secs(),
            mb(self.idle_rss_anon_kib),
            mb(self.idle_rss_file_kib)
        );
        if rows[0] {
            println!(
                "  read path, {CONNECTIONS} connections, median of {ROUNDS} rounds: /healthz {:.0}/s, \
                 /api/auth/me {:.0}/s, /api/conversations {:.0}/s ({LIST_SIZE} conversations, \
                 {} kB each); {} errors",
                self.healthz_rps,
                self.me_rps,
                self.list_rps,
                self.list_body_bytes / 1000,
                self.read_errors
            );
        }
        if rows[1] {
            println!(
                "  /api/auth/me probe, 1 connection, a request every {} ms, {ROUNDS} rounds pooled: \
                 idle p50 {} p99 {} max {} (n={}); under the login flood p50 {} p99 {} max {} \
                 (n={}); {} errors",
                PROBE_PAUSE.as_millis(),
                ms(self.idle.p50),
                ms(self.idle.p99),
                ms(self.idle.max),
                self.idle.count,
                ms(self.loaded.p50),
                ms(self.loaded.p99),
                ms(self.loaded.max),
                self.loaded.count,
                self.loaded.errors + self.idle.errors
            );
            println!(
                "  login flood: {CONNECTIONS} clients, BCRYPT_COST=12, {:.1} logins/s answered 401 \
                 ({} other answers)",
                self.logins_per_second, self.login_errors
            );
        }
        if rows[2] {
            let s = &self.streams;
            println!(
                "  streams: {} started, {} complete, {} failed, {} lost, {} stored complete; \
                 all done in {:.2} s (a council: median {:.2} s, slowest {:.2} s)",
                s.started,
                s.completed,
                s.failed,
                s.lost,
                s.stored_complete,
                s.wall.as_secs_f64(),
                s.median_council.as_secs_f64(),
                s.slowest_council.as_secs_f64()
            );
            println!(
                "  streams: server RSS {} before, {} peak (VmHWM), {} after; {} threads at most; \
                 CPU {:.2} s in all, {} per council",
                mb(s.rss_before_kib),
                mb(s.peak_rss_kib),
                mb(s.rss_after_kib),
                s.peak_threads,
                s.cpu.as_secs_f64(),
                ms(s.cpu_per_council)
            );
            if let Some(problem) = &s.first_problem {
                println!("  first stream problem: {problem}");
            }
        }
    }
}

/// All rows on one backend: one server for rows 4, 1 and 2 (in that
/// order: the footprint is read before any load), a fresh one for row 3
/// (so its peak memory is the streams' own).
pub async fn run(options: &Options, backend: &mut Backend<'_>) -> Result<Results, Error> {
    let name = backend.name();
    let mut results = Results {
        backend: name,
        ..Results::default()
    };
    let fake = FakeUpstream::start().await?;
    fake.set_default_latency(UPSTREAM_LATENCY);
    let upstream = fake.base_url();

    let dir = scratch_dir(backend)?;
    let database_url = backend.fresh(dir.path())?;
    eprintln!("[{name}] starting the server (footprint, read path, isolation)");
    let server = ServerProcess::start(&Settings {
        binary: &options.binary,
        data_dir: dir.path(),
        database_url: &database_url,
        upstream: &upstream,
    })
    .await?;
    results.start_to_ready = server.start_to_ready;
    tokio::time::sleep(SETTLE).await;
    results.idle_rss_kib = server.rss_kib()?;
    results.idle_rss_anon_kib = server.status_kib("RssAnon")?;
    results.idle_rss_file_kib = server.status_kib("RssFile")?;

    let outcome = read_path_and_isolation(options, &server, &mut results).await;
    if outcome.is_err() {
        eprintln!("{}", server.log_tail());
    }
    server.stop().await?;
    outcome?;
    if !options.rows[2] {
        return Ok(results);
    }

    let dir = scratch_dir(backend)?;
    let database_url = backend.fresh(dir.path())?;
    eprintln!(
        "[{name}] starting a fresh server ({} streams)",
        options.streams
    );
    let server = ServerProcess::start(&Settings {
        binary: &options.binary,
        data_dir: dir.path(),
        database_url: &database_url,
        upstream: &upstream,
    })
    .await?;
    let outcome = streams(options, &server).await;
    if outcome.is_err() {
        eprintln!("{}", server.log_tail());
    }
    server.stop().await?;
    results.streams = outcome?;
    fake.shutdown().await;
    Ok(results)
}

fn scratch_dir(backend: &Backend<'_>) -> Result<tempfile::TempDir, Error> {
    Ok(match backend.scratch_root() {
        Some(root) => tempfile::tempdir_in(root)?,
        None => tempfile::tempdir()?,
    })
}

/// Creates `n` conversations for the user of `client`, 16 at a time;
/// returns their ids.
async fn conversations(client: &Client, n: usize) -> Result<Vec<Uuid>, Error> {
    let mut tasks = tokio::task::JoinSet::new();
    let workers = CONNECTIONS.min(n.max(1));
    for w in 0..workers {
        let client = client.clone();
        let count = n / workers + usize::from(w < n % workers);
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for _ in 0..count {
                ids.push(client.create_conversation(None, None).await?.id);
            }
            Ok::<_, ClientError>(ids)
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(ids) = tasks.join_next().await {
        all.extend(ids??);
    }
    Ok(all)
}

/// The access token of a signed-in `client`, for the raw load loops.
fn access_token(client: &Client) -> Result<String, Error> {
    Ok(client.session().ok_or("not signed in")?.access_token)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// Rows 1 and 2.
async fn read_path_and_isolation(
    options: &Options,
    server: &ServerProcess,
    results: &mut Results,
) -> Result<(), Error> {
    let client = register(&Client::new(&server.base_url())?, "reader@example.com").await?;
    conversations(&client, LIST_SIZE).await?;
    let listed = client.conversations(None).await?.len();
    if listed != LIST_SIZE {
        return Err(format!("the list holds {listed} conversations, not {LIST_SIZE}").into());
    }
    // The measured loops are raw HTTP (see `http`); they send the token
    // as it is, which outlives them (15 minutes).
    let token = access_token(&client)?;
    if options.rows[0] {
        read_path(options, server, &token, results).await?;
    }
    if options.rows[1] {
        isolation(options, server, &token, results).await?;
    }
    Ok(())
}

/// Row 1.
async fn read_path(
    options: &Options,
    server: &ServerProcess,
    token: &str,
    results: &mut Results,
) -> Result<(), Error> {
    eprintln!(
        "[{}] read path: {ROUNDS} rounds of /healthz, /api/auth/me, /api/conversations",
        results.backend
    );
    let throughput = |request: Vec<u8>| Loop {
        addr: server.addr,
        connections: CONNECTIONS,
        warmup: WARMUP,
        measure: options.measure,
        pause: None,
        expect: 200,
        request: http::fixed(request),
    };
    let token = Some(token);
    let (mut health, mut me, mut list) = (vec![], vec![], vec![]);
    let (mut me_ratio, mut list_ratio) = (vec![], vec![]);
    for _ in 0..ROUNDS {
        let h = http::closed_loop(throughput(http::get("/healthz", None))).await?;
        let m = http::closed_loop(throughput(http::get("/api/auth/me", token))).await?;
        let l = http::closed_loop(throughput(http::get("/api/conversations", token))).await?;
        results.read_errors += h.errors + m.errors + l.errors;
        results.list_body_bytes = l.body_bytes / l.ok.max(1);
        me_ratio.push(m.per_second() / h.per_second());
        list_ratio.push(l.per_second() / h.per_second());
        health.push(h.per_second());
        me.push(m.per_second());
        list.push(l.per_second());
    }
    results.healthz_rps = median(health);
    results.me_rps = median(me);
    results.list_rps = median(list);
    results.me_ratio = median(me_ratio);
    results.list_ratio = median(list_ratio);
    Ok(())
}

/// Row 2.
async fn isolation(
    options: &Options,
    server: &ServerProcess,
    token: &str,
    results: &mut Results,
) -> Result<(), Error> {
    eprintln!(
        "[{}] isolation: {ROUNDS} rounds of /api/auth/me idle, then under a login flood",
        results.backend
    );
    let probe = |warmup: Duration| Loop {
        addr: server.addr,
        connections: 1,
        warmup,
        measure: options.measure,
        pause: Some(PROBE_PAUSE),
        expect: 200,
        request: http::fixed(http::get("/api/auth/me", Some(token))),
    };
    // Idle and flooded windows alternate, so that the machine's own noise
    // (other processes) falls on both alike; each side's samples are pooled.
    let (mut idle, mut loaded, mut flooded) = (
        Measured::default(),
        Measured::default(),
        Measured::default(),
    );
    for _ in 0..ROUNDS {
        idle.merge(http::closed_loop(probe(WARMUP)).await?);
        // Unknown emails, each used once: the per-email limit never applies
        // and each attempt costs a full bcrypt verification (against the
        // dummy hash), exactly as a known email's would.
        let flood_warmup = Duration::from_secs(1);
        let flood = tokio::spawn(http::closed_loop(Loop {
            addr: server.addr,
            connections: CONNECTIONS,
            warmup: Duration::ZERO,
            measure: flood_warmup + options.measure + WARMUP,
            pause: None,
            expect: 401,
            request: Arc::new(|conn, n| {
                http::post_json(
                    "/api/auth/login",
                    &format!(
                        r#"{{"email":"nobody-{conn}-{n}@example.com","password":"not the password"}}"#
                    ),
                )
            }),
        }));
        let probed = http::closed_loop(probe(flood_warmup)).await;
        // Waits for the logins still queued, so the next idle window is idle.
        let flood = flood.await??;
        loaded.merge(probed?);
        flooded.window += flood.window;
        flooded.merge(flood);
    }
    results.idle = Probe::of(&idle);
    results.loaded = Probe::of(&loaded);
    results.logins_per_second = flooded.per_second();
    results.login_errors = flooded.errors;
    Ok(())
}

/// How one streamed council ended, as its client saw it.
enum Ending {
    Complete,
    Failed(String),
    Lost(String),
}

/// Asks question `i` in `conversation` and follows its events to the end.
async fn stream_council(client: &Client, conversation: Uuid, i: usize) -> Ending {
    let question = format!("What makes a good benchmark? (council {i})");
    let mut events = match client.stream_message(conversation, &question).await {
        Ok(events) => events,
        Err(e @ ClientError::Network(_)) => return Ending::Lost(e.to_string()),
        Err(ClientError::Api { status, detail }) => {
            return Ending::Failed(format!("{status}: {detail}"));
        }
        Err(e) => return Ending::Failed(e.to_string()),
    };
    while let Some(event) = events.next().await {
        match event {
            Ok(CouncilEvent::Complete { .. }) => return Ending::Complete,
            Ok(CouncilEvent::Error { message }) => return Ending::Failed(message),
            Ok(_) => {}
            Err(e @ ClientError::Network(_)) => return Ending::Lost(e.to_string()),
            // An event that is not a council event.
            Err(e) => return Ending::Failed(e.to_string()),
        }
    }
    // The client reports a stream that ends early as a network error.
    Ending::Lost("the stream ended without `complete`".into())
}

/// Row 3: `options.streams` councils at once, each followed as a stream.
async fn streams(options: &Options, server: &ServerProcess) -> Result<Streams, Error> {
    // One connection pool for every user (each a session of its own).
    let server_client = Client::new(&server.base_url())?;
    let users = STREAM_USERS.min(options.streams);
    let mut registering = tokio::task::JoinSet::new();
    for u in 0..users {
        let server_client = server_client.clone();
        let per_user = options.streams / users + usize::from(u < options.streams % users);
        registering.spawn(async move {
            let user = register_with_key(
                &server_client,
                &format!("streamer{u}@example.com"),
                &format!("sk-or-v1-bench-{u:04}"),
            )
            .await?;
            let ids = conversations(&user, per_user).await?;
            Ok::<_, Error>((user, ids))
        });
    }
    let mut work = Vec::with_capacity(options.streams);
    while let Some(joined) = registering.join_next().await {
        let (user, ids) = joined??;
        work.extend(ids.into_iter().map(|id| (user.clone(), id)));
    }

    let mut out = Streams {
        started: work.len(),
        rss_before_kib: server.rss_kib()?,
        ..Streams::default()
    };
    let pid = server.pid;
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        let status = format!("/proc/{pid}/status");
        tokio::spawn(async move {
            let (mut peak, mut threads) = (0u64, 0u64);
            let field = |text: &str, name: &str| {
                text.lines().find_map(|l| {
                    l.strip_prefix(name)?
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
            };
            while sampling.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&status) {
                    peak = peak.max(field(&text, "VmRSS:").unwrap_or(0));
                    threads = threads.max(field(&text, "Threads:").unwrap_or(0));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (peak, threads)
        })
    };
    eprintln!("[streams] {} councils at once", work.len());
    let cpu_before = server.cpu_time()?;
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for (i, (user, id)) in work.iter().cloned().enumerate() {
        running.spawn(async move {
            let t0 = Instant::now();
            let ending = stream_council(&user, id, i).await;
            (ending, t0.elapsed())
        });
    }
    let mut durations = Vec::with_capacity(work.len());
    while let Some(joined) = running.join_next().await {
        let (ending, took) = joined?;
        durations.push(took);
        match ending {
            Ending::Complete => out.completed += 1,
            Ending::Failed(why) => {
                out.failed += 1;
                out.first_problem.get_or_insert(why);
            }
            Ending::Lost(why) => {
                out.lost += 1;
                out.first_problem.get_or_insert(why);
            }
        }
    }
    out.wall = started.elapsed();
    out.cpu = server.cpu_time()?.saturating_sub(cpu_before);
    sampling.store(false, Ordering::Relaxed);
    let (sampled, threads) = sampler.await?;
    out.peak_threads = threads;
    out.peak_rss_kib = server.status_kib("VmHWM")?.max(sampled);
    out.rss_after_kib = server.rss_kib()?;
    out.cpu_per_council = out.cpu / u32::try_from(work.len().max(1)).unwrap_or(u32::MAX);
    durations.sort();
    out.median_council = durations
        .get(durations.len() / 2)
        .copied()
        .unwrap_or_default();
    out.slowest_council = durations.last().copied().unwrap_or_default();

    // Read every conversation back: the answer must be stored complete.
    let mut checking = tokio::task::JoinSet::new();
    for chunk in work.chunks(work.len().div_ceil(CONNECTIONS).max(1)) {
        let chunk = chunk.to_vec();
        checking.spawn(async move {
            let mut complete = 0;
            for (user, id) in chunk {
                let conversation = user.conversation(id).await?;
                if let Some(Message::Assistant(last)) = conversation.messages.last()
                    && last.status == RunStatus::Complete
                {
                    complete += 1;
                }
            }
            Ok::<_, ClientError>(complete)
        });
    }
    while let Some(joined) = checking.join_next().await {
        out.stored_complete += joined??;
    }
    Ok(out)
}
