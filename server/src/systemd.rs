//! Telling systemd how `serve` is doing (`Type=notify` services):
//! `READY=1` once the server listens, `STOPPING=1` when shutdown begins,
//! `STATUS=` lines for `systemctl status`, and `WATCHDOG=1` pings while the
//! server is healthy.
//!
//! The protocol is one datagram of `KEY=VALUE` lines sent to the `AF_UNIX`
//! socket named by `$NOTIFY_SOCKET`: a filesystem path, or an abstract name
//! written `@name`. That is a handful of lines on std's `UnixDatagram`, so
//! it is written here rather than taken from a crate: no new dependency to
//! vet and keep up, and no `unsafe` (which the workspace forbids) or libc
//! call behind it.
//!
//! Notifying is best effort. Without `$NOTIFY_SOCKET` (not started by
//! systemd) every call does nothing; a send that fails is logged at debug
//! level and the server carries on, since a supervisor's bookkeeping must
//! never take the service down.

use std::ffi::OsStr;
use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

/// How long one notification may wait for room in the receiver's queue.
/// systemd reads its socket promptly, so this only bounds the pathological
/// case (a stalled supervisor) instead of blocking a runtime thread on it.
const SEND_TIMEOUT: Duration = Duration::from_millis(500);

/// Where notifications go: a socket address on Unix. Elsewhere there is no
/// such protocol, and an uninhabited type makes every call a no-op.
#[cfg(unix)]
type Target = std::os::unix::net::SocketAddr;
#[cfg(not(unix))]
type Target = std::convert::Infallible;

/// Sends state changes to the service manager named by `$NOTIFY_SOCKET`.
///
/// Cheap to clone; each notification opens its own unbound socket, as
/// libsystemd does, so clones share nothing and need no locking.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    target: Option<Target>,
}

impl Notifier {
    /// A notifier for `$NOTIFY_SOCKET`; disabled when it is unset, empty or
    /// not a socket address this platform can reach.
    pub fn from_env() -> Self {
        Self::new(std::env::var_os("NOTIFY_SOCKET").as_deref())
    }

    /// A notifier for the given `NOTIFY_SOCKET` value (see [`Notifier::from_env`]).
    pub fn new(notify_socket: Option<&OsStr>) -> Self {
        let Some(value) = notify_socket.filter(|v| !v.is_empty()) else {
            return Self::default();
        };
        match parse_target(value) {
            Ok(target) => Self {
                target: Some(target),
            },
            Err(e) => {
                tracing::debug!(
                    notify_socket = %value.to_string_lossy(),
                    error = %e,
                    "NOTIFY_SOCKET is not usable; systemd notifications are off"
                );
                Self::default()
            }
        }
    }

    /// Whether notifications are sent at all (a service manager asked for them).
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// The service is up: `READY=1`, with `status` shown by `systemctl status`.
    pub fn ready(&self, status: &str) {
        self.notify(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// Shutdown has begun: `STOPPING=1`, with `status`.
    pub fn stopping(&self, status: &str) {
        self.notify(&format!("STOPPING=1\nSTATUS={}", one_line(status)));
    }

    /// Only a new `STATUS=` line.
    pub fn status(&self, status: &str) {
        self.notify(&format!("STATUS={}", one_line(status)));
    }

    /// The watchdog keep-alive, `WATCHDOG=1`.
    pub fn watchdog(&self) {
        self.notify("WATCHDOG=1");
    }

    /// Sends `state` (newline-separated `KEY=VALUE` assignments) as one
    /// datagram; a failure is logged at debug level only.
    pub fn notify(&self, state: &str) {
        let Some(target) = &self.target else {
            return;
        };
        if let Err(e) = send(target, state) {
            tracing::debug!(error = %e, state, "systemd notification not delivered");
        }
    }
}

/// A `STATUS=` value must stay on its line: a newline would start another
/// assignment.
fn one_line(status: &str) -> String {
    status.replace(['\n', '\r'], " ")
}

#[cfg(unix)]
fn parse_target(value: &OsStr) -> std::io::Result<Target> {
    use std::os::unix::ffi::OsStrExt;

    match value.as_bytes().split_first() {
        Some((b'@', name)) => abstract_address(name),
        Some((b'/', _)) => Target::from_pathname(value),
        // Newer systemd can also name e.g. an AF_VSOCK address; the server
        // never runs in a VM manager that would hand out one.
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "neither an absolute path nor an @abstract name",
        )),
    }
}

#[cfg(not(unix))]
fn parse_target(_value: &OsStr) -> std::io::Result<Target> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "notification sockets need Unix",
    ))
}

/// `@name` is Linux's abstract namespace: the name without the `@`, no
/// file behind it.
#[cfg(target_os = "linux")]
fn abstract_address(name: &[u8]) -> std::io::Result<Target> {
    use std::os::linux::net::SocketAddrExt;
    Target::from_abstract_name(name)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn abstract_address(_name: &[u8]) -> std::io::Result<Target> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract socket names exist only on Linux",
    ))
}

#[cfg(unix)]
fn send(target: &Target, state: &str) -> std::io::Result<()> {
    let socket = std::os::unix::net::UnixDatagram::unbound()?;
    socket.set_write_timeout(Some(SEND_TIMEOUT))?;
    // A datagram goes whole or not at all, so the count needs no check.
    socket.send_to_addr(state.as_bytes(), target)?;
    Ok(())
}

#[cfg(not(unix))]
fn send(target: &Target, _state: &str) -> std::io::Result<()> {
    match *target {}
}

/// How often to send `WATCHDOG=1`, read from `$WATCHDOG_USEC` and
/// `$WATCHDOG_PID` (see [`watchdog_interval`]).
pub fn watchdog_interval_from_env() -> Option<Duration> {
    watchdog_interval(
        std::env::var_os("WATCHDOG_USEC").as_deref(),
        std::env::var_os("WATCHDOG_PID").as_deref(),
        std::process::id(),
    )
}

/// How often to send `WATCHDOG=1`: half the watchdog timeout
/// (`WATCHDOG_USEC`, in microseconds), so one late ping is not fatal.
/// `None` when there is no watchdog, or when `WATCHDOG_PID` names another
/// process than `own_pid` (the variables were inherited, not meant for us).
pub fn watchdog_interval(
    usec: Option<&OsStr>,
    pid: Option<&OsStr>,
    own_pid: u32,
) -> Option<Duration> {
    let usec = usec?.to_str()?.trim().parse::<u64>().ok()?;
    if usec == 0 {
        return None;
    }
    if let Some(pid) = pid {
        let pid = pid.to_str()?.trim().parse::<u32>().ok()?;
        if pid != own_pid {
            return None;
        }
    }
    // tokio's interval refuses a zero period.
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

/// Sends `WATCHDOG=1` every `interval` for as long as `healthy()` answers
/// `true`. While it answers `false` (or hangs) the pings stop, so systemd's
/// watchdog ends and restarts a server that is up but cannot serve; a
/// health check that recovers in time resumes them. Abort the handle to
/// stop.
pub fn spawn_watchdog<F, Fut>(
    notifier: Notifier,
    interval: Duration,
    mut healthy: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        // After a slow health check, wait a whole interval again rather than
        // catching up with a burst of pings.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_healthy = true;
        loop {
            ticks.tick().await;
            let is_healthy = healthy().await;
            if is_healthy {
                notifier.watchdog();
                if !was_healthy {
                    tracing::info!("health check passes again; watchdog pings resume");
                    notifier.status("healthy again");
                }
            } else if was_healthy {
                tracing::warn!(
                    "health check failed; withholding systemd watchdog pings until it passes"
                );
                notifier.status("unhealthy: the health check fails");
            }
            was_healthy = is_healthy;
        }
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::net::UnixDatagram;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn receiver() -> (tempfile::TempDir, std::path::PathBuf, UnixDatagram) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).expect("bind the test socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set a read timeout");
        (dir, path, socket)
    }

    fn recv(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 1024];
        let n = socket.recv(&mut buf).expect("a datagram in time");
        String::from_utf8(buf[..n].to_vec()).expect("UTF-8")
    }

    #[test]
    fn watchdog_interval_is_half_the_timeout_and_only_for_our_pid() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert_eq!(
            watchdog_interval(os("30000000"), None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(os("200000"), os("7"), 7),
            Some(Duration::from_millis(100))
        );
        assert_eq!(watchdog_interval(os("200000"), os("8"), 7), None);
        assert_eq!(watchdog_interval(os("200000"), os("nope"), 7), None);
        assert_eq!(watchdog_interval(None, os("7"), 7), None);
        assert_eq!(watchdog_interval(os("0"), None, 7), None);
        assert_eq!(watchdog_interval(os("-5"), None, 7), None);
        assert_eq!(
            watchdog_interval(os("1"), None, 7),
            Some(Duration::from_millis(1))
        );
    }

    #[test]
    fn no_or_unusable_socket_means_disabled() {
        assert!(!Notifier::new(None).is_enabled());
        assert!(!Notifier::new(Some(OsStr::new(""))).is_enabled());
        assert!(!Notifier::new(Some(OsStr::new("relative/path"))).is_enabled());
        assert!(!Notifier::new(Some(OsStr::new("vsock:2:1234"))).is_enabled());
        // A disabled notifier is a silent no-op.
        Notifier::default().ready("listening");
    }

    #[test]
    fn a_path_socket_gets_ready_and_stopping() {
        let (_dir, path, socket) = receiver();
        let notifier = Notifier::new(Some(path.as_os_str()));
        assert!(notifier.is_enabled());
        notifier.ready("listening on 127.0.0.1:8001");
        assert_eq!(recv(&socket), "READY=1\nSTATUS=listening on 127.0.0.1:8001");
        notifier.stopping("two\nlines");
        assert_eq!(recv(&socket), "STOPPING=1\nSTATUS=two lines");
        notifier.clone().watchdog();
        assert_eq!(recv(&socket), "WATCHDOG=1");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_abstract_socket_gets_notifications() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!(
            "council-systemd-unit-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        );
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .expect("an abstract address");
        let socket = UnixDatagram::bind_addr(&addr).expect("bind the abstract socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set a read timeout");
        let notifier = Notifier::new(Some(OsStr::new(&format!("@{name}"))));
        notifier.watchdog();
        assert_eq!(recv(&socket), "WATCHDOG=1");
    }

    #[test]
    fn a_missing_socket_is_not_an_error() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let notifier = Notifier::new(Some(dir.path().join("gone").as_os_str()));
        assert!(notifier.is_enabled());
        notifier.ready("nobody listens");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_watchdog_pings_only_while_healthy() {
        let (_dir, path, socket) = receiver();
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = healthy.clone();
        let task = spawn_watchdog(
            Notifier::new(Some(path.as_os_str())),
            Duration::from_millis(20),
            move || {
                let flag = flag.clone();
                async move { flag.load(Ordering::SeqCst) }
            },
        );
        let socket = tokio::task::spawn_blocking(move || {
            assert_eq!(recv(&socket), "WATCHDOG=1");
            assert_eq!(recv(&socket), "WATCHDOG=1");
            socket
        })
        .await
        .expect("the receiver runs");

        healthy.store(false, Ordering::SeqCst);
        let (socket, after) = tokio::task::spawn_blocking(move || {
            // Pings already on their way may still come; the status change
            // marks the point after which none may.
            loop {
                if recv(&socket).starts_with("STATUS=unhealthy") {
                    break;
                }
            }
            socket
                .set_read_timeout(Some(Duration::from_millis(200)))
                .expect("set a read timeout");
            let mut buf = [0u8; 64];
            let after = socket.recv(&mut buf).ok();
            (socket, after)
        })
        .await
        .expect("the receiver runs");
        assert_eq!(after, None, "a ping while unhealthy");

        healthy.store(true, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || {
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("set a read timeout");
            assert_eq!(recv(&socket), "WATCHDOG=1");
            assert_eq!(recv(&socket), "STATUS=healthy again");
        })
        .await
        .expect("the receiver runs");
        task.abort();
    }
}
