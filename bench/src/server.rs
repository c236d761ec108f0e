//! The server under test: the real release binary in a process of its own,
//! so that its memory and CPU time are its own (`/proc/<pid>`).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{self, Error};

/// How long a start may take before the bench gives up.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The settings every server of the bench runs with; the rest are the
/// server's defaults.
pub struct Settings<'a> {
    pub binary: &'a Path,
    pub data_dir: &'a Path,
    pub database_url: &'a str,
    pub upstream: &'a str,
}

/// A running `council-server`.
pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    /// From `spawn` to the first `GET /readyz` answered 200.
    pub start_to_ready: Duration,
    log: PathBuf,
}

/// A port free right now (the server binds it a moment later).
fn free_port() -> Result<u16, Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ServerProcess {
    /// Starts the binary with a clean environment and waits until
    /// `/readyz` answers 200.
    pub async fn start(s: &Settings<'_>) -> Result<Self, Error> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let log = s.data_dir.join("server.log");
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut command = Command::new(s.binary);
        command
            .env_clear()
            .env("COUNCIL_BIND", addr.to_string())
            .env("COUNCIL_DATA_DIR", s.data_dir)
            .env("DATABASE_URL", s.database_url)
            .env("OPENROUTER_BASE_URL", s.upstream)
            // The production default, stated: row 2 is about its cost.
            .env("BCRYPT_COST", "12")
            // One client address sends every request here; the login flood
            // of row 2 must reach bcrypt rather than a 429.
            .env("COUNCIL_AUTH_RATE_PER_MINUTE", "0")
            // The production default: a log line per request, to a file.
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let started = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id();
        let ready = http::get("/readyz", None);
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(format!("the server exited ({status}):\n{}", tail(&log)).into());
            }
            if started.elapsed() > START_LIMIT {
                let _ = child.kill();
                return Err(format!("the server was not ready in time:\n{}", tail(&log)).into());
            }
            if let Ok(mut conn) = http::Conn::open(addr).await
                && conn.send(&ready).await.is_ok_and(|a| a.status == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(Self {
            child,
            pid,
            addr,
            start_to_ready: started.elapsed(),
            log,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    pub fn status_kib(&self, field: &str) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {field} in /proc/{}/status", self.pid).into())
    }

    /// Resident memory now, KiB.
    pub fn rss_kib(&self) -> Result<u64, Error> {
        self.status_kib("VmRSS")
    }

    /// CPU time used so far, user + system, all threads.
    pub fn cpu_time(&self) -> Result<Duration, Error> {
        cpu_time(self.pid)
    }

    /// SIGTERM (the server's graceful stop), then waits for the exit.
    pub async fn stop(mut self) -> Result<(), Error> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    eprintln!("  server exited {status}; its log:\n{}", tail(&self.log));
                }
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child.kill()?;
        self.child.wait()?;
        Err("the server did not stop within 30 s of SIGTERM".into())
    }

    /// The end of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Only if `stop` was not reached (an error on the way).
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// utime + stime of a process (fields 14 and 15 of `/proc/<pid>/stat`).
pub fn cpu_time(pid: u32) -> Result<Duration, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; it ends at the last ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64, Error> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/<pid>/stat")?
            .parse::<u64>()?)
    };
    // Field 3 (state) is fields[0]: utime (14) is fields[11], stime fields[12].
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / clock_ticks() as f64))
}

/// `USER_HZ`, the unit of `/proc/<pid>/stat` times (100 on every common
/// Linux; asked of `getconf` in case).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The soft limit on open files of this process (the server inherits it).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
