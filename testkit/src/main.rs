//! `council-testkit`: runs the fake OpenAI-compatible upstream as a
//! standalone process for demos, manual testing and benchmarks.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use council_testkit::FakeUpstream;
use tracing_subscriber::EnvFilter;

/// A fake OpenAI-compatible chat-completions upstream. Model ids steer its
/// behaviour, e.g. `fake/alpha:ms200:flaky429`.
#[derive(Debug, Parser)]
#[command(name = "council-testkit", version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9100")]
    bind: SocketAddr,
    /// Latency in milliseconds for models without an `msN` directive.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Logs go to stderr so stdout carries only the "listening" line,
        // which scripts may parse to find the port.
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    let fake = FakeUpstream::start_on(args.bind).await?;
    fake.set_default_latency(Duration::from_millis(args.latency_ms));
    println!("fake upstream listening on {}", fake.base_url());

    wait_for_stop_signal().await?;
    tracing::info!("stopping fake upstream");
    fake.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM where that exists (containers and
/// process supervisors send SIGTERM).
async fn wait_for_stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
