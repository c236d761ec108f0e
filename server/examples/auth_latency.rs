//! Register and login latency at a real bcrypt cost, over HTTP, against an
//! in-process server on SQLite. Prints each latency and its ratio to one
//! bare bcrypt hash at the same cost (the floor: what the server adds on
//! top of the hash is the ratio above 1), and a failed login for an unknown
//! email as a ratio to a successful one (it should cost the same: ~1.0).
//!
//! `cargo run --release -p council-server --example auth_latency`
//! (BCRYPT_COST, default 12; ROUNDS, default 10).

use std::time::{Duration, Instant};

use council_server::Server;
use council_server::config::Config;
use council_server::db::DatabaseUrl;

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cost = env_u32("BCRYPT_COST", 12);
    let rounds = env_u32("ROUNDS", 10).max(1);
    let dir = tempfile::tempdir()?;
    let mut config = Config::with_defaults(
        DatabaseUrl::sqlite_in(dir.path()),
        dir.path().to_owned(),
        cost,
    )?;
    config.auth_rate_per_minute = 0;
    let server = Server::start(&config).await?;
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();

    let mut hash_times = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        tokio::task::spawn_blocking(move || bcrypt::hash("benchmark password", cost)).await??;
        hash_times.push(t.elapsed());
    }

    let mut register = Vec::new();
    let mut login = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..rounds {
        let body = serde_json::json!({"email": format!("bench{i}@example.com"), "password": "benchmark password"});
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/auth/register"))
            .json(&body)
            .send()
            .await?;
        register.push(t.elapsed());
        assert!(r.status().is_success(), "register: {}", r.status());
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/auth/login"))
            .json(&body)
            .send()
            .await?;
        login.push(t.elapsed());
        assert!(r.status().is_success(), "login: {}", r.status());
        let nobody = serde_json::json!({"email": format!("nobody{i}@example.com"), "password": "benchmark password"});
        let t = Instant::now();
        let r = client
            .post(format!("{base}/api/auth/login"))
            .json(&nobody)
            .send()
            .await?;
        unknown.push(t.elapsed());
        assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    }
    let hash = median(hash_times);
    let (reg, log, unk) = (median(register), median(login), median(unknown));
    println!("BCRYPT_COST={cost}, {rounds} rounds, medians:");
    println!("  bare bcrypt hash   {:>8.1} ms", hash.as_secs_f64() * 1e3);
    println!(
        "  POST register      {:>8.1} ms   ratio to hash {:.2}",
        reg.as_secs_f64() * 1e3,
        reg.as_secs_f64() / hash.as_secs_f64()
    );
    println!(
        "  POST login         {:>8.1} ms   ratio to hash {:.2}",
        log.as_secs_f64() * 1e3,
        log.as_secs_f64() / hash.as_secs_f64()
    );
    println!(
        "  login, unknown email {:>6.1} ms   ratio to a known email's login {:.2}",
        unk.as_secs_f64() * 1e3,
        unk.as_secs_f64() / log.as_secs_f64()
    );
    server.shutdown().await?;
    Ok(())
}
