//! `GET /api/conversations?q=` with 10,000 conversations of one user (and
//! other users' conversations beside them), over HTTP against the real
//! server, per database. Prints each query's hits, p50 and p95, and the p50
//! as a ratio to the goal (20 ms).
//!
//! `cargo bench -p council-server --bench search`
//! Environment: BENCH_CONVERSATIONS (default 10000), BENCH_OTHER_USERS (4,
//! each with a quarter as many conversations), BENCH_SAMPLES (40 per query),
//! BENCH_POSTGRES_URL (a PostgreSQL server to also measure on; a scratch
//! database is created there and dropped), BENCH_KEEP (keep the databases
//! and print where they are, for EXPLAIN).
//!
//! The text is synthetic but shaped like chats with a model: short
//! questions, answers of 80–400 words, function words with a Zipf-like
//! frequency, each conversation about a few topic words, and a long tail of
//! rare words.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use council_client::Client;
use council_server::Server;
use council_server::config::Config;
use council_server::db::{self, DatabaseUrl, DbError, conversations, messages};
use council_testkit::client::register;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::Value;

/// The goal on a 2-core machine: search p50 below this.
const GOAL: Duration = Duration::from_millis(20);

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SplitMix64: deterministic text, the same on every run and backend.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// An index in `0..n`, small ones far more often (roughly Zipf).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
    }
}

const FUNCTION_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "that", "for", "you", "with", "as", "on",
    "this", "be", "are", "can", "or", "by", "not", "if", "your", "an", "from", "which", "when",
    "more", "one", "will", "so", "what", "its", "also", "but", "than", "how", "each", "there",
    "these", "then", "only", "very", "other", "into", "some", "most", "many", "just", "over",
    "such", "like", "any", "use", "should", "would", "could", "because", "while", "where", "both",
    "between", "first", "then", "here", "however", "example", "instead", "often", "usually",
    "without", "within", "after", "before", "about", "through", "rather", "still",
];

const TOPIC_WORDS: &[&str] = &[
    "rust",
    "tokio",
    "async",
    "runtime",
    "thread",
    "memory",
    "borrow",
    "checker",
    "lifetime",
    "trait",
    "generic",
    "macro",
    "cargo",
    "crate",
    "compiler",
    "error",
    "handling",
    "result",
    "panic",
    "database",
    "postgres",
    "postgresql",
    "sqlite",
    "index",
    "query",
    "transaction",
    "lock",
    "table",
    "column",
    "join",
    "schema",
    "migration",
    "replica",
    "backup",
    "vacuum",
    "python",
    "django",
    "numpy",
    "pandas",
    "dataframe",
    "javascript",
    "typescript",
    "react",
    "component",
    "state",
    "server",
    "client",
    "request",
    "response",
    "header",
    "cookie",
    "session",
    "token",
    "kubernetes",
    "docker",
    "container",
    "image",
    "deploy",
    "cluster",
    "network",
    "latency",
    "throughput",
    "cache",
    "redis",
    "queue",
    "kafka",
    "stream",
    "batch",
    "linux",
    "kernel",
    "process",
    "signal",
    "socket",
    "terminal",
    "shell",
    "script",
    "systemd",
    "permission",
    "learning",
    "model",
    "training",
    "dataset",
    "gradient",
    "neural",
    "transformer",
    "attention",
    "embedding",
    "vector",
    "inference",
    "benchmark",
    "garden",
    "tomato",
    "soil",
    "compost",
    "recipe",
    "bread",
    "flour",
    "yeast",
    "oven",
    "travel",
    "flight",
    "hotel",
    "visa",
    "budget",
    "museum",
    "history",
    "empire",
    "treaty",
    "revolution",
    "economy",
    "inflation",
    "interest",
    "market",
    "stock",
    "bond",
    "tax",
    "policy",
    "election",
    "climate",
    "energy",
    "solar",
    "battery",
    "physics",
    "quantum",
    "particle",
    "gravity",
    "orbit",
    "planet",
    "telescope",
    "chemistry",
    "molecule",
    "protein",
    "enzyme",
    "vaccine",
    "medicine",
    "sleep",
    "exercise",
    "running",
    "marathon",
    "nutrition",
    "coffee",
    "guitar",
    "piano",
    "chord",
    "melody",
    "novel",
    "poetry",
    "essay",
    "grammar",
    "translation",
    "spanish",
    "french",
    "german",
    "japanese",
    "contract",
    "lawyer",
    "mortgage",
    "insurance",
    "salary",
    "interview",
    "resume",
    "startup",
    "pricing",
    "marketing",
    "customer",
    "invoice",
];

/// A word found in a handful of the main user's conversations (and some of
/// the others'), for the rare-word query.
const RARE: &str = "quetzalcoatl";

/// Made-up words for the long tail: plausible syllables, 20,000 of them.
fn tail_words() -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ten", "ber", "sor", "val", "qui", "dra", "fen", "gul", "hap", "jor",
        "nex", "pim", "rus", "tal", "vok", "wen", "zir", "ble", "cra", "dov", "eph", "fli", "gro",
    ];
    let mut rng = Rng(7);
    (0..20_000)
        .map(|_| {
            let n = rng.range(2, 4);
            (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

struct Corpus {
    tail: Vec<String>,
}

impl Corpus {
    fn sentence(&self, rng: &mut Rng, topic: &[&str], words: usize) -> String {
        let mut out: Vec<String> = Vec::with_capacity(words);
        for _ in 0..words {
            let roll = rng.below(100);
            // Topic words stay mostly in their own conversations, as they
            // do in real chats: a common one is in about one in ten.
            let w = if roll < 58 {
                FUNCTION_WORDS[rng.zipf(FUNCTION_WORDS.len())].to_owned()
            } else if roll < 88 {
                topic[rng.below(topic.len())].to_owned()
            } else if roll < 90 {
                TOPIC_WORDS[rng.below(TOPIC_WORDS.len())].to_owned()
            } else {
                self.tail[rng.zipf(self.tail.len())].clone()
            };
            out.push(w);
        }
        let mut s = out.join(" ");
        if let Some(first) = s.get(..1) {
            s.replace_range(..1, &first.to_uppercase());
        }
        s
    }

    fn paragraph(&self, rng: &mut Rng, topic: &[&str], words: usize) -> String {
        let mut out = Vec::new();
        let mut n = 0;
        while n < words {
            let k = rng.range(6, 22);
            out.push(format!("{}.", self.sentence(rng, topic, k)));
            n += k;
        }
        out.join(" ")
    }

    /// A title and the (question, answer) turns of one conversation.
    fn conversation(&self, rng: &mut Rng, rare: bool) -> (String, Vec<(String, String)>) {
        let topic: Vec<&str> = (0..8)
            .map(|_| TOPIC_WORDS[rng.below(TOPIC_WORDS.len())])
            .collect();
        let title_words = rng.range(3, 5);
        let mut title = topic[..title_words].join(" ");
        if let Some(first) = title.get(..1) {
            title.replace_range(..1, &first.to_uppercase());
        }
        let turns = rng.range(1, 3);
        let mut out = Vec::with_capacity(turns);
        for t in 0..turns {
            let words = rng.range(8, 40);
            let mut q = format!("{}?", self.sentence(rng, &topic, words));
            if rare && t == 0 {
                q.push_str(&format!(" What about {RARE}?"));
            }
            let words = rng.range(80, 400);
            let a = self.paragraph(rng, &topic, words);
            out.push((q, a));
        }
        (title, out)
    }
}

/// Registers a user; returns (id, access token). The searches measured
/// are raw HTTP (their bytes are counted), so they take the token itself.
async fn new_user(server: &Client, name: &str) -> Result<(uuid::Uuid, String), Error> {
    let user = register(server, &format!("{name}@example.com")).await?;
    let id = user.me().await?.id;
    let token = user.session().ok_or("not signed in")?.access_token;
    Ok((id, token))
}

/// Stores `count` conversations of `user_id` straight through the storage
/// layer (the search index follows through its triggers, as it does for the
/// server's own writes), oldest first, one transaction per batch.
async fn fill(
    db: &db::Db,
    corpus: &std::sync::Arc<Corpus>,
    user_id: uuid::Uuid,
    count: usize,
    seed: u64,
    rare_every: usize,
) -> Result<(), Error> {
    const BATCH: usize = 250;
    let start = db::now() - chrono::Duration::minutes(count as i64 * 60);
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let corpus = corpus.clone();
        let first = done;
        db.write(move |c| -> Result<(), DbError> {
            let mut rng = Rng(seed ^ (first as u64).wrapping_mul(0x1000_0001));
            for i in first..first + n {
                let at = start + chrono::Duration::minutes(i as i64 * 60);
                let (title, turns) = corpus.conversation(&mut rng, i % rare_every == 7);
                store(c, user_id, &title, &turns, at)?;
            }
            Ok(())
        })
        .await?;
        done += n;
    }
    Ok(())
}

fn store(
    c: &mut db::DbConnection,
    user_id: uuid::Uuid,
    title: &str,
    turns: &[(String, String)],
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let id = uuid::Uuid::new_v4();
    conversations::insert(
        c,
        &conversations::Conversation {
            id: id.into(),
            user_id: user_id.into(),
            title: title.to_owned(),
            models: r#"["a/one","b/two"]"#.to_owned(),
            lead_model: "a/one".to_owned(),
            message_count: 0,
            created_at: at,
            updated_at: at,
        },
    )?;
    for (k, (question, answer)) in turns.iter().enumerate() {
        let when = at + chrono::Duration::seconds(k as i64 * 60);
        messages::append(c, &mut messages::new_user(id, question, when))?;
        let mut reply = messages::new_user(id, answer, when + chrono::Duration::seconds(30));
        reply.role = messages::ROLE_ASSISTANT.to_owned();
        reply.status = Some("complete".to_owned());
        messages::append(c, &mut reply)?;
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Bytes of searchable text, and bytes the search index takes on disk
/// (with its tables and, on PostgreSQL, the lower-cased copy of the text).
fn sizes(c: &mut db::DbConnection) -> diesel::QueryResult<(i64, i64)> {
    use diesel::RunQueryDsl;
    let text = "SELECT CAST((SELECT COALESCE(SUM(LENGTH(content)), 0) FROM messages) \
                + (SELECT COALESCE(SUM(LENGTH(title)), 0) FROM conversations) AS BIGINT) AS n";
    let one = |rows: Vec<Bytes>| rows.first().map_or(0, |r| r.n);
    Ok(match c {
        db::DbConnection::Sqlite(c) => (
            one(diesel::sql_query(text).load(c)?),
            one(diesel::sql_query(
                "SELECT CAST(COALESCE(SUM(pgsize), 0) AS BIGINT) AS n FROM dbstat \
                 WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name LIKE 'search%')",
            )
            .load(c)?),
        ),
        db::DbConnection::Pg(c) => (
            one(diesel::sql_query(text).load(c)?),
            one(diesel::sql_query("SELECT pg_total_relation_size('search_docs') AS n").load(c)?),
        ),
    })
}

struct Row {
    backend: &'static str,
    label: &'static str,
    query: String,
    hits: usize,
    bytes: usize,
    p50: Duration,
    p95: Duration,
    /// None for the mix, which is measured over HTTP only.
    storage_p50: Option<Duration>,
}

fn percentile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * q).round() as usize]
}

/// The queries measured: (label, text).
fn queries() -> Vec<(&'static str, String)> {
    vec![
        // The list without q, for comparison: every conversation, newest first.
        ("no q (whole list)", String::new()),
        ("common word", "database".into()),
        ("two words", "database index".into()),
        ("phrase", "the database index".into()),
        ("rare word", RARE.into()),
        ("prefix", "quetz".into()),
        ("prefix, common", "datab".into()),
        ("inside a word", "gresql".into()),
        ("no match", "zyzzyva".into()),
        ("2 letters (scan)", "qx".into()),
        ("everywhere (the)", "the".into()),
    ]
}

async fn measure(backend: &'static str, database: DatabaseUrl) -> Result<Vec<Row>, Error> {
    let conversations = env_usize("BENCH_CONVERSATIONS", 10_000);
    let others = env_usize("BENCH_OTHER_USERS", 4);
    let samples = env_usize("BENCH_SAMPLES", 40).max(2);
    let dir = tempfile::tempdir()?;
    let mut config = Config::with_defaults(database, dir.path().to_owned(), 4)?;
    config.auth_rate_per_minute = 0;
    let server = Server::start(&config).await?;
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let db = server.state().db.clone();
    let corpus = std::sync::Arc::new(Corpus { tail: tail_words() });

    let loading = Instant::now();
    let server_client = Client::new(&base)?;
    let (main_id, token) = new_user(&server_client, "main").await?;
    fill(&db, &corpus, main_id, conversations, 1, 1000).await?;
    for i in 0..others {
        let (id, _) = new_user(&server_client, &format!("other{i}")).await?;
        fill(&db, &corpus, id, conversations / 4, 100 + i as u64, 500).await?;
    }
    if let DatabaseUrl::Postgres(url) = db.url() {
        // What autovacuum does shortly after a load like this one: planner
        // statistics, and the GIN pending list merged into the index.
        diesel::PgConnection::establish(url)?.batch_execute("VACUUM ANALYZE")?;
    }
    let (text, index) = db.read(sizes).await?;
    eprintln!(
        "{backend}: stored {} conversations in {:.1} s; text {:.0} MiB, search index {:.0} MiB",
        conversations + others * (conversations / 4),
        loading.elapsed().as_secs_f64(),
        text as f64 / (1024.0 * 1024.0),
        index as f64 / (1024.0 * 1024.0),
    );

    let mut rows = Vec::new();
    for (label, query) in queries() {
        let mut times = Vec::with_capacity(samples);
        let (mut hits, mut bytes) = (0, 0);
        // Two unmeasured calls warm the caches and the connections.
        for i in 0..samples + 2 {
            let answer = search(&client, &base, &token, &query).await?;
            if i >= 2 {
                times.push(answer.took);
            }
            (hits, bytes) = (answer.hits, answer.bytes);
        }
        // The same search through the storage layer alone, without HTTP,
        // authentication and JSON.
        let mut storage = Vec::with_capacity(samples);
        for _ in 0..samples {
            let (user, text) = (main_id, query.clone());
            let started = Instant::now();
            db.read(move |c| {
                conversations::list(c, user, Some(text.as_str()).filter(|t| !t.is_empty()))
            })
            .await?;
            storage.push(started.elapsed());
        }
        rows.push(Row {
            backend,
            label,
            query,
            hits,
            bytes,
            p50: percentile(&mut times, 0.5),
            p95: percentile(&mut times, 0.95),
            storage_p50: Some(percentile(&mut storage, 0.5)),
        });
    }
    rows.push(measure_mix(&client, &base, &token, &db, main_id).await?);
    server.shutdown().await?;
    Ok(rows)
}

/// One search over HTTP: how long it took, what it found, how large.
struct Answer {
    took: Duration,
    hits: usize,
    bytes: usize,
}

/// `GET /api/conversations?q=query` (the whole list when `query` is empty).
async fn search(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
) -> Result<Answer, Error> {
    let mut url = reqwest::Url::parse(&format!("{base}/api/conversations"))?;
    if !query.is_empty() {
        url.query_pairs_mut().append_pair("q", query);
    }
    let started = Instant::now();
    let resp = client.get(url).bearer_auth(token).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let took = started.elapsed();
    if !status.is_success() {
        return Err(format!("{query}: {status}").into());
    }
    Ok(Answer {
        took,
        hits: serde_json::from_slice::<Vec<Value>>(&body)?.len(),
        bytes: body.len(),
    })
}

#[derive(diesel::QueryableByName)]
struct Question {
    #[diesel(sql_type = diesel::sql_types::Text)]
    content: String,
}

/// How many searches the mix makes.
const MIX_SIZE: usize = 300;

/// Searches the way people look for a conversation again: by a word they
/// remember from one of their own questions (a content word: nobody
/// searches for "with"), and every third time by two words in a row. Each
/// query is new to the server; the p50 over all of them is the row.
async fn measure_mix(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    db: &db::Db,
    user: uuid::Uuid,
) -> Result<Row, Error> {
    let user = db::DbUuid(user);
    let questions: Vec<Question> = db
        .read(move |c| {
            use diesel::RunQueryDsl;
            let sql = "SELECT m.content FROM messages m JOIN conversations c \
                       ON c.id = m.conversation_id WHERE m.role = 'user' AND c.user_id = ";
            match c {
                db::DbConnection::Sqlite(c) => diesel::sql_query(format!("{sql}?1 ORDER BY m.id"))
                    .bind::<diesel::sql_types::Text, _>(user)
                    .load(c),
                db::DbConnection::Pg(c) => diesel::sql_query(format!("{sql}$1 ORDER BY m.id"))
                    .bind::<diesel::sql_types::Text, _>(user)
                    .load(c),
            }
        })
        .await?;
    let mut rng = Rng(99);
    let mut queries = Vec::with_capacity(MIX_SIZE);
    while queries.len() < MIX_SIZE && !questions.is_empty() {
        let text = &questions[rng.below(questions.len())].content;
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_lowercase)
            .collect();
        if words.len() < 2 {
            continue;
        }
        let at = rng.below(words.len() - 1);
        if queries.len() % 3 == 2 {
            queries.push(format!("{} {}", words[at], words[at + 1]));
        } else if !FUNCTION_WORDS.contains(&words[at].as_str()) {
            queries.push(words[at].clone());
        }
    }
    let (mut times, mut hits, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    for query in &queries {
        let answer = search(client, base, token, query).await?;
        times.push(answer.took);
        hits.push(answer.hits);
        bytes.push(answer.bytes);
    }
    hits.sort_unstable();
    bytes.sort_unstable();
    Ok(Row {
        backend: if matches!(db.url(), DatabaseUrl::Postgres(_)) {
            "postgres"
        } else {
            "sqlite"
        },
        label: "MIX: remembered",
        query: format!("{} searches", queries.len()),
        hits: hits.get(hits.len() / 2).copied().unwrap_or(0),
        bytes: bytes.get(bytes.len() / 2).copied().unwrap_or(0),
        p50: percentile(&mut times, 0.5),
        p95: percentile(&mut times, 0.95),
        storage_p50: None,
    })
}

fn main() -> Result<(), Error> {
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

    let keep = std::env::var_os("BENCH_KEEP").is_some();
    let dir = tempfile::tempdir()?;
    rows.extend(runtime.block_on(measure("sqlite", DatabaseUrl::sqlite_in(dir.path())))?);
    if keep {
        eprintln!("kept: {}", dir.keep().join("council.db").display());
    }

    if let Ok(admin) = std::env::var("BENCH_POSTGRES_URL") {
        let name = format!("council_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin)?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => return Err("BENCH_POSTGRES_URL needs a database path".into()),
        };
        let result = runtime.block_on(measure("postgres", DatabaseUrl::parse(&url)?));
        if keep {
            eprintln!("kept: {url}");
        } else {
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        }
        rows.extend(result?);
    }

    println!(
        "{} conversations of one user, {} other users; GET /api/conversations?q=, release build",
        env_usize("BENCH_CONVERSATIONS", 10_000),
        env_usize("BENCH_OTHER_USERS", 4),
    );
    println!(
        "{:<9} {:<17} {:<19} {:>6} {:>8} {:>7} {:>7} {:>9} {:>6} {:>6}",
        "database", "query", "q", "hits", "KiB", "p50 ms", "p95 ms", "p50/20ms", "goal", "db ms"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for r in rows {
        let ratio = r.p50.as_secs_f64() / GOAL.as_secs_f64();
        println!(
            "{:<9} {:<17} {:<19} {:>6} {:>8.0} {:>7.2} {:>7.2} {:>9.2} {:>6} {:>6}",
            r.backend,
            r.label,
            r.query,
            r.hits,
            r.bytes as f64 / 1024.0,
            ms(r.p50),
            ms(r.p95),
            ratio,
            match (r.label.starts_with("MIX"), ratio < 1.0) {
                (false, _) => "",
                (true, true) => "<1",
                (true, false) => "✗ ≥1",
            },
            r.storage_p50
                .map_or_else(|| "-".to_owned(), |d| format!("{:.2}", ms(d))),
        );
    }
    println!("KiB: the response body; db ms: the same search in the storage layer alone (p50)");
    println!(
        "MIX: {MIX_SIZE} searches for a word of one of the user's own questions (not a function \
         word), every third for two words in a row; hits and KiB are medians. The goal is on this row."
    );
    Ok(())
}
