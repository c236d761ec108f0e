//! The load generator: a minimal HTTP/1.1 keep-alive client over tokio's
//! `TcpStream`, and closed loops of such connections that count requests
//! and record latencies.
//!
//! Not reqwest: the load generator shares the machine's two cores with the
//! server, so it should spend as little of them as possible on each request
//! (a prepared request is one `write`, a response is parsed only as far as
//! the status line and `content-length`). `council-client` (over reqwest)
//! sets the data up and follows the event streams, where its cost does not
//! skew a ratio.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// `GET path`, with a bearer token if given: the exact bytes sent.
pub fn get(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

/// `POST path` with a JSON body.
pub fn post_json(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// What [`Conn::send`] read: the status and the body's length.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub body_len: usize,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Result<Self, Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends `request` and reads its whole response.
    pub async fn send(&mut self, request: &[u8]) -> Result<Answer, Error> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let (status, body_len) = parse_head(&self.buf[..head_end])?;
        let end = head_end + body_len;
        while self.buf.len() < end {
            self.fill().await?;
        }
        self.buf.drain(..end);
        Ok(Answer { status, body_len })
    }

    async fn fill(&mut self) -> Result<(), Error> {
        self.buf.reserve(64 * 1024);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The status and `content-length` of a response head. Every answer of the
/// server measured here has a length (JSON bodies are sent whole).
fn parse_head(head: &[u8]) -> Result<(u16, usize), Error> {
    let head = std::str::from_utf8(head)?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse()?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err("chunked responses are not supported by the load generator".into());
            }
        }
    }
    Ok((status, length.ok_or("no content-length")?))
}

/// Makes the `n`th request of connection `conn`.
pub type MakeRequest = Arc<dyn Fn(usize, u64) -> Vec<u8> + Send + Sync>;

/// The same request every time.
pub fn fixed(request: Vec<u8>) -> MakeRequest {
    let request: Arc<[u8]> = request.into();
    Arc::new(move |_, _| request.to_vec())
}

/// How a closed loop runs.
#[derive(Clone)]
pub struct Loop {
    pub addr: SocketAddr,
    pub connections: usize,
    /// Requests before this are sent but not counted.
    pub warmup: Duration,
    /// The counted window.
    pub measure: Duration,
    /// Wait between a response and the next request (a paced probe).
    pub pause: Option<Duration>,
    pub expect: u16,
    pub request: MakeRequest,
}

/// What a closed loop measured in its window.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Answered with the expected status, within the window.
    pub ok: u64,
    /// Another status, or a broken connection (reopened).
    pub errors: u64,
    pub window: Duration,
    /// Of the counted requests, in microseconds.
    pub latencies_us: Vec<u32>,
    pub body_bytes: u64,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// The `p`-quantile latency (0.99 = p99), nearest rank.
    pub fn quantile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Duration::from_micros(u64::from(sorted[rank - 1]))
    }

    /// Adds `other`'s counts and samples (not its window).
    pub fn merge(&mut self, other: Measured) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.body_bytes += other.body_bytes;
    }
}

/// Runs `spec.connections` connections, each sending its next request as
/// soon as the previous answer is read, for `warmup + measure`; counts the
/// requests that started and ended inside the measured window.
pub async fn closed_loop(spec: Loop) -> Result<Measured, Error> {
    let start = Instant::now();
    let from = start + spec.warmup;
    let until = from + spec.measure;
    let mut tasks = tokio::task::JoinSet::new();
    for conn_index in 0..spec.connections {
        let spec = spec.clone();
        tasks.spawn(async move {
            let mut out = Measured::default();
            let mut conn = Conn::open(spec.addr).await?;
            let mut n = 0u64;
            loop {
                let request = (spec.request)(conn_index, n);
                n += 1;
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                let answer = conn.send(&request).await;
                let t1 = Instant::now();
                let counted = t0 >= from && t1 <= until;
                match answer {
                    Ok(a) if a.status == spec.expect => {
                        if counted {
                            out.ok += 1;
                            out.body_bytes += a.body_len as u64;
                            let us = (t1 - t0).as_micros();
                            out.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                        }
                    }
                    Ok(a) => {
                        if counted {
                            out.errors += 1;
                        }
                        if out.errors == 1 {
                            eprintln!("  unexpected status {} (wanted {})", a.status, spec.expect);
                        }
                    }
                    Err(e) => {
                        if counted {
                            out.errors += 1;
                        }
                        eprintln!("  connection error: {e}; reconnecting");
                        conn = Conn::open(spec.addr).await?;
                    }
                }
                if let Some(pause) = spec.pause {
                    tokio::time::sleep(pause).await;
                }
            }
            Ok::<_, Error>(out)
        });
    }
    let mut total = Measured {
        window: spec.measure,
        ..Measured::default()
    };
    while let Some(joined) = tasks.join_next().await {
        total.merge(joined??);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse() {
        let (status, len) =
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-type: x\r\nContent-Length: 15\r\n\r\n")
                .expect("parses");
        assert_eq!((status, len), (200, 15));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
    }

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let m = Measured {
            latencies_us: (1..=100).rev().collect(),
            ..Measured::default()
        };
        assert_eq!(m.quantile(0.99), Duration::from_micros(99));
        assert_eq!(m.quantile(0.5), Duration::from_micros(50));
    }
}
