//! A fault-injecting HTTP/1.1 proxy between a till and the server. Each request it receives
//! is, at random with the configured rates:
//!
//! - passed on, and its answer passed back;
//! - passed on, and its answer dropped (the server applied it, the till did not hear);
//! - passed on, and its answer cut half way;
//! - passed on twice: the till hears the first answer, and a copy is replayed after a random
//!   lag (sometimes after the till's later requests);
//! - delayed, then passed on;
//! - cut half way through the request, then the connection closed (the server must apply
//!   nothing).
//!
//! One request per connection: the request goes upstream with `Connection: close`, so the
//! answer ends with the upstream connection, and the till's connection is closed after it.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How often each fault happens, each a probability per request (their sum at most 1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    pub drop_response: f64,
    pub cut_response: f64,
    pub duplicate: f64,
    pub delay: f64,
    pub cut_request: f64,
    /// The longest delay or replay lag.
    pub max_delay: Duration,
}

impl Faults {
    pub const NONE: Faults = Faults {
        drop_response: 0.0,
        cut_response: 0.0,
        duplicate: 0.0,
        delay: 0.0,
        cut_request: 0.0,
        max_delay: Duration::ZERO,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Pass,
    DropResponse,
    CutResponse,
    Duplicate(Duration),
    Delay(Duration),
    CutRequest,
}

/// How many requests met each fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub passed: u64,
    pub dropped_responses: u64,
    pub cut_responses: u64,
    pub duplicated: u64,
    pub delayed: u64,
    pub cut_requests: u64,
    /// Requests that could not reach the server (it was down).
    pub upstream_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    passed: AtomicU64,
    dropped_responses: AtomicU64,
    cut_responses: AtomicU64,
    duplicated: AtomicU64,
    delayed: AtomicU64,
    cut_requests: AtomicU64,
    upstream_errors: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    upstream: Mutex<SocketAddr>,
    faults: Mutex<(Faults, StdRng)>,
    counters: Counters,
    /// Replays and connections still running.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn pick(&self) -> Fault {
        let mut guard = self.faults.lock().unwrap();
        let (f, rng) = &mut *guard;
        let lag = |rng: &mut StdRng| {
            let max = u64::try_from(f.max_delay.as_millis()).unwrap_or(u64::MAX);
            Duration::from_millis(rng.random_range(0..=max))
        };
        let x: f64 = rng.random();
        let mut edge = f.drop_response;
        if x < edge {
            return Fault::DropResponse;
        }
        edge += f.cut_response;
        if x < edge {
            return Fault::CutResponse;
        }
        edge += f.duplicate;
        if x < edge {
            return Fault::Duplicate(lag(rng));
        }
        edge += f.delay;
        if x < edge {
            return Fault::Delay(lag(rng));
        }
        edge += f.cut_request;
        if x < edge {
            return Fault::CutRequest;
        }
        Fault::Pass
    }

    fn keep(&self, task: JoinHandle<()>) {
        let mut tasks = self.tasks.lock().unwrap();
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }
}

#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a port of its own and forwards to `upstream`, with no faults until
    /// [`Proxy::set_faults`].
    pub async fn start(upstream: SocketAddr, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            faults: Mutex::new((Faults::NONE, StdRng::seed_from_u64(seed))),
            counters: Counters::default(),
            tasks: Mutex::new(Vec::new()),
        });
        let accept = {
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let s = shared.clone();
                    let task = tokio::spawn(async move {
                        let _ = connection(client, &s).await;
                    });
                    shared.keep(task);
                }
            })
        };
        Proxy { addr, shared, accept }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.lock().unwrap().0 = faults;
    }

    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().unwrap() = upstream;
    }

    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let n = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Stats {
            requests: n(&c.requests),
            passed: n(&c.passed),
            dropped_responses: n(&c.dropped_responses),
            cut_responses: n(&c.cut_responses),
            duplicated: n(&c.duplicated),
            delayed: n(&c.delayed),
            cut_requests: n(&c.cut_requests),
            upstream_errors: n(&c.upstream_errors),
        }
    }

    /// Waits for every connection and delayed replay still running, so that nothing the
    /// proxy holds reaches the server later.
    pub async fn settle(&self) {
        loop {
            let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.shared.tasks.lock().unwrap());
            if tasks.is_empty() {
                return;
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for t in self.shared.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// A request as read from the till: the head rewritten for upstream, and the body.
struct Request {
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Request {
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        out.extend_from_slice(&self.body);
        out
    }
}

async fn connection(mut client: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    let Some(request) = read_request(&mut client).await? else { return Ok(()) };
    let c = &shared.counters;
    c.requests.fetch_add(1, Ordering::SeqCst);
    let upstream = *shared.upstream.lock().unwrap();
    let fault = shared.pick();
    let answer = match fault {
        Fault::CutRequest => {
            c.cut_requests.fetch_add(1, Ordering::SeqCst);
            let bytes = request.bytes();
            // Half of the body, or half of the head when there is no body.
            let cut = if request.body.is_empty() {
                request.head.len() / 2
            } else {
                request.head.len() + request.body.len() / 2
            };
            if let Ok(mut up) = TcpStream::connect(upstream).await {
                let _ = up.write_all(&bytes[..cut]).await;
                let _ = up.shutdown().await;
            }
            return Ok(());
        }
        Fault::Delay(d) => {
            c.delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(d).await;
            exchange(upstream, &request).await
        }
        Fault::Duplicate(lag) => {
            c.duplicated.fetch_add(1, Ordering::SeqCst);
            let bytes = request.bytes();
            let s = shared.clone();
            shared.keep(tokio::spawn(async move {
                tokio::time::sleep(lag).await;
                let copy = Request { head: bytes, body: Vec::new() };
                if exchange(upstream, &copy).await.is_err() {
                    s.counters.upstream_errors.fetch_add(1, Ordering::SeqCst);
                }
            }));
            exchange(upstream, &request).await
        }
        Fault::Pass | Fault::DropResponse | Fault::CutResponse => exchange(upstream, &request).await,
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            c.upstream_errors.fetch_add(1, Ordering::SeqCst);
            return Err(e);
        }
    };
    match fault {
        Fault::DropResponse => {
            c.dropped_responses.fetch_add(1, Ordering::SeqCst);
        }
        Fault::CutResponse => {
            c.cut_responses.fetch_add(1, Ordering::SeqCst);
            client.write_all(&answer[..answer.len() / 2]).await?;
        }
        _ => {
            if fault == Fault::Pass {
                c.passed.fetch_add(1, Ordering::SeqCst);
            }
            client.write_all(&answer).await?;
        }
    }
    client.shutdown().await
}

/// Sends the request on a connection of its own and reads the answer to its end.
async fn exchange(upstream: SocketAddr, request: &Request) -> io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&request.bytes()).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    if answer.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed without answering"));
    }
    Ok(answer)
}

/// Reads one request (head and `Content-Length` body); `None` when the till closed first.
async fn read_request(client: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..end].to_vec()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    let mut kept = vec![first];
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "connection" | "keep-alive" => continue,
            "content-length" => {
                length = value.trim().parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            }
            "transfer-encoding" => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "chunked requests are not supported"));
            }
            _ => {}
        }
        kept.push(line.to_owned());
    }
    kept.push("Connection: close".to_owned());
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    let head = format!("{}\r\n\r\n", kept.join("\r\n")).into_bytes();
    Ok(Some(Request { head, body }))
}
