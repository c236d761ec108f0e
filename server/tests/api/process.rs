//! The real `council-server` binary as a child process: its output is
//! collected line by line, and it is killed when dropped so that a failing
//! test leaves no server behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_council-server");

/// A `Command` for the binary with a clean environment: only what a test
/// sets reaches it.
pub fn command(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COUNCIL_DATA_DIR", data_dir)
        .env("COUNCIL_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    c
}

pub struct ServerProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`, from the `listening` log line.
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `command` and waits until the server says where it listens
    /// (in the text or the JSON log format).
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for stream in streams {
            let (log, tx) = (log.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.contains("listening")
                        && let Some(at) = line.find("127.0.0.1:")
                    {
                        let addr: String = line[at..]
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        let _ = tx.send(addr);
                    }
                    log.lock().expect("log lock").push(line);
                }
            });
        }
        drop(tx);
        let mut process = Self {
            child: Some(child),
            base: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => process.base = format!("http://{addr}"),
            Err(_) => panic!(
                "the server never said where it listens:\n{}",
                process.log_text()
            ),
        }
        process
    }

    /// Everything the server wrote so far, stdout and stderr.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// SIGKILL: `Child::kill` sends exactly that on unix; the exit status
    /// proves it.
    pub fn kill(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill");
        child.wait().expect("reaped")
    }

    /// SIGTERM, then waits for the graceful stop.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success());
        let status = child.wait().expect("reaped");
        // The reader threads drain what was written before the exit.
        std::thread::sleep(Duration::from_millis(200));
        status
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
