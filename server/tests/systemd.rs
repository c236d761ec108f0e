//! `council-server serve` under a service manager: the real binary, with
//! `$NOTIFY_SOCKET` pointing at a datagram socket this test reads, as
//! systemd's `Type=notify` does.
#![cfg(unix)]

use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_council-server");
/// Start-up (migrations of a new SQLite database) and a stop with nothing
/// running take well under a second; this only bounds a broken build.
const PATIENCE: Duration = Duration::from_secs(30);

/// The server process, killed if a test ends before it exited.
struct Served {
    child: Child,
    log: PathBuf,
}

impl Served {
    /// Starts `serve` on a fresh data directory inside `dir`, notifying
    /// `notify_socket`, with `env` added.
    fn start(dir: &Path, notify_socket: &str, env: &[(&str, &str)]) -> Self {
        let log = dir.join("server.log");
        let stderr = std::fs::File::create(&log).expect("create the log file");
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("COUNCIL_DATA_DIR", dir.join("data"))
            .env("COUNCIL_BIND", "127.0.0.1:0")
            .env("BCRYPT_COST", "4")
            .env("COUNCIL_SHUTDOWN_GRACE_SECS", "5")
            .env("RUST_LOG", "debug")
            .env("NOTIFY_SOCKET", notify_socket)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("a second handle on the log file"))
            .stderr(stderr);
        let child = command.spawn().expect("start council-server");
        Self { child, log }
    }

    /// What the server logged so far, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit in time; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The next datagram, or `None` once `deadline` has passed.
fn next(socket: &UnixDatagram, deadline: Instant) -> Option<String> {
    let left = deadline.checked_duration_since(Instant::now())?;
    // A zero timeout means "block forever" to the OS.
    socket
        .set_read_timeout(Some(left.max(Duration::from_millis(1))))
        .expect("set a read timeout");
    let mut buf = [0u8; 4096];
    match socket.recv(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(e) => panic!("reading the notify socket: {e}"),
    }
}

fn has_line(datagram: &str, line: &str) -> bool {
    datagram.lines().any(|l| l == line)
}

/// Reads until a datagram holds `line`, and returns that datagram.
fn expect_line(socket: &UnixDatagram, line: &str, served: &Served) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while let Some(datagram) = next(socket, deadline) {
        if has_line(&datagram, line) {
            return datagram;
        }
        seen.push(datagram);
    }
    panic!("no {line} in time; got {seen:?}; log:\n{}", served.log());
}

/// READY=1 comes with `STATUS=listening on ADDR`, and ADDR accepts.
fn expect_ready(socket: &UnixDatagram, served: &Served) -> SocketAddr {
    let ready = expect_line(socket, "READY=1", served);
    let addr = ready
        .lines()
        .find_map(|l| l.strip_prefix("STATUS=listening on "))
        .unwrap_or_else(|| panic!("READY=1 without a listening STATUS: {ready:?}"));
    let addr: SocketAddr = addr.parse().expect("the status names an address");
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .expect("the listener is bound by the time READY=1 is sent");
    addr
}

/// SIGTERM: STOPPING=1 is announced and the process exits cleanly.
fn expect_clean_stop(socket: &UnixDatagram, served: &mut Served) {
    served.terminate();
    expect_line(socket, "STOPPING=1", served);
    let status = served.wait_exit();
    assert!(status.success(), "{status}; log:\n{}", served.log());
}

fn bind_path_socket(dir: &Path) -> (UnixDatagram, String) {
    let path = dir.join("notify");
    let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
    (socket, path.to_str().expect("a UTF-8 temp path").to_owned())
}

#[test]
fn ready_once_listening_and_stopping_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (socket, path) = bind_path_socket(dir.path());
    let mut served = Served::start(dir.path(), &path, &[]);
    expect_ready(&socket, &served);
    expect_clean_stop(&socket, &mut served);
}

#[test]
fn the_watchdog_is_pinged_at_half_its_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (socket, path) = bind_path_socket(dir.path());
    // 200 ms: a ping every 100 ms.
    let mut served = Served::start(dir.path(), &path, &[("WATCHDOG_USEC", "200000")]);
    expect_ready(&socket, &served);
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut pings = 0;
    while let Some(datagram) = next(&socket, deadline) {
        if has_line(&datagram, "WATCHDOG=1") {
            pings += 1;
        }
    }
    assert!(
        pings >= 2,
        "{pings} watchdog pings in 1.5 s; log:\n{}",
        served.log()
    );
    expect_clean_stop(&socket, &mut served);
}

#[test]
fn a_watchdog_meant_for_another_process_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (socket, path) = bind_path_socket(dir.path());
    // PID 1 is never the server: the variables were inherited, not ours.
    let mut served = Served::start(
        dir.path(),
        &path,
        &[("WATCHDOG_USEC", "200000"), ("WATCHDOG_PID", "1")],
    );
    expect_ready(&socket, &served);
    let deadline = Instant::now() + Duration::from_millis(600);
    while let Some(datagram) = next(&socket, deadline) {
        assert!(!has_line(&datagram, "WATCHDOG=1"), "pinged: {datagram:?}");
    }
    expect_clean_stop(&socket, &mut served);
}

#[cfg(target_os = "linux")]
#[test]
fn an_abstract_notify_socket_works() {
    use std::os::linux::net::SocketAddrExt;

    let dir = tempfile::tempdir().expect("tempdir");
    // Abstract names are global to the network namespace: make it unique.
    let name = format!(
        "council-systemd-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_nanos()
    );
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .expect("an abstract address");
    let socket = UnixDatagram::bind_addr(&addr).expect("bind the abstract socket");
    let mut served = Served::start(dir.path(), &format!("@{name}"), &[]);
    expect_ready(&socket, &served);
    expect_clean_stop(&socket, &mut served);
}
