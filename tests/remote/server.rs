//! A small HTTP/1.1 server on 127.0.0.1 for the remote tests: serves files and byte strings
//! with or without Range support, and misbehaves on request (slow, truncated, redirects,
//! error statuses, tokens). Connections are kept alive as HTTP/1.1 allows (so tests can see
//! the client reuse them); every request is logged with its connection's number.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a route answers.
#[derive(Clone)]
pub enum Reply {
    /// A file from disk, streamed; `ranges` = honour Range.
    File { path: PathBuf, ranges: bool },
    /// Bytes with a content type; `ranges` = honour Range.
    Bytes { data: Arc<Vec<u8>>, content_type: String, ranges: bool },
    /// `prefix` then zeros, `len` bytes announced; Range ignored.
    Endless { prefix: Arc<Vec<u8>>, len: u64 },
    /// A status with extra headers and a short body.
    Status { code: u16, headers: Vec<(String, String)>, body: String },
    /// A redirect to a URL.
    Redirect { code: u16, to: String },
    /// A redirect with extra headers (the Hub's `resolve`: X-Linked-Etag, X-Linked-Size, ...).
    RedirectWith { code: u16, to: String, headers: Vec<(String, String)> },
    /// Waits, then answers.
    Slow { delay: Duration, then: Box<Reply> },
    /// Sends the headers and `keep` body bytes of `then`, then stalls for `stall` (zero: closes).
    Cut { keep: u64, stall: Duration, then: Box<Reply> },
    /// 401 unless `Authorization: Bearer <token>`.
    Token { token: String, then: Box<Reply> },
    /// Holds the answer until `n` requests of gate `name` are waiting together (or 10 s pass),
    /// then answers `then`; the log says whether they met.
    Gate { name: String, n: usize, then: Box<Reply> },
    /// Bytes served with Range and a strong ETag.
    Tagged { etag: String, data: Arc<Vec<u8>> },
    /// A status with the Hub's `X-Error-Code` (and `X-Error-Message`).
    HubError { code: u16, error_code: String, message: String },
}

/// One request seen.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Path with query.
    pub path: String,
    /// The Range header.
    pub range: Option<String>,
    /// The Authorization header.
    pub auth: Option<String>,
    /// The Accept header.
    pub accept: Option<String>,
    /// Body bytes written to the client.
    pub sent: u64,
    /// Which connection (numbered from 0 in accept order) carried it.
    pub conn: usize,
    /// For a gated reply: whether all its requests were waiting together.
    pub gate_met: Option<bool>,
}

/// The running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    routes: Mutex<HashMap<String, (Vec<Reply>, usize)>>,
    log: Mutex<Vec<Logged>>,
    /// Connections accepted and not yet closed.
    in_flight: AtomicUsize,
    conns: AtomicUsize,
    gates: Mutex<HashMap<String, usize>>,
    gate_cv: std::sync::Condvar,
    /// Stands for a CDN: any request carrying a token is refused (and logged).
    pub refuse_tokens: std::sync::atomic::AtomicBool,
}

impl Server {
    /// Binds an ephemeral port and serves until the test process exits.
    pub fn start() -> Arc<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = Arc::new(Server {
            base,
            routes: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            conns: AtomicUsize::new(0),
            gates: Mutex::new(HashMap::new()),
            gate_cv: std::sync::Condvar::new(),
            refuse_tokens: std::sync::atomic::AtomicBool::new(false),
        });
        let s = server.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                s.in_flight.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || {
                    s.handle(conn);
                    s.in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        server
    }

    /// Answers `path` with `replies` in turn, the last one from then on. A path with a query
    /// matches only that query; one without matches any.
    pub fn route(&self, path: &str, replies: Vec<Reply>) {
        self.routes.lock().unwrap().insert(path.to_string(), (replies, 0));
    }

    /// URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests seen so far, once every open connection has been answered (the client may
    /// exit before a handler finishes writing; a stalled one is given up on after 10 s).
    pub fn log(&self) -> Vec<Logged> {
        let start = Instant::now();
        while self.in_flight.load(Ordering::SeqCst) > 0 && start.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(5));
        }
        self.log.lock().unwrap().clone()
    }

    fn handle(&self, mut conn: TcpStream) {
        let id = self.conns.fetch_add(1, Ordering::SeqCst);
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut headers = HashMap::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let route = path.split('?').next().unwrap_or("").to_string();
            let reply = {
                let mut routes = self.routes.lock().unwrap();
                let key = if routes.contains_key(&path) { path.clone() } else { route };
                routes.get_mut(&key).map(|(replies, hits)| {
                    let r = replies[(*hits).min(replies.len() - 1)].clone();
                    *hits += 1;
                    r
                })
            };
            let mut reply = reply.unwrap_or(Reply::Status { code: 404, headers: vec![], body: "no such route".into() });
            if self.refuse_tokens.load(Ordering::SeqCst) && headers.contains_key("authorization") {
                reply = Reply::Status { code: 400, headers: vec![], body: "a token reached the CDN".into() };
            }
            let mut gate_met = None;
            if let Reply::Gate { name, n, then } = reply {
                gate_met = Some(self.wait_at_gate(&name, n));
                reply = *then;
            }
            let keep = !matches!(reply, Reply::Cut { .. } | Reply::Endless { .. } | Reply::Slow { .. });
            let (sent, ok) = match answer(&mut conn, &reply, &headers, None, keep) {
                Ok(n) => (n, true),
                Err(e) => (e.0, false),
            };
            self.log.lock().unwrap().push(Logged {
                path,
                range: headers.get("range").cloned(),
                auth: headers.get("authorization").cloned(),
                accept: headers.get("accept").cloned(),
                sent,
                conn: id,
                gate_met,
            });
            if !keep || !ok {
                return;
            }
        }
    }

    fn wait_at_gate(&self, name: &str, n: usize) -> bool {
        let mut g = self.gates.lock().unwrap();
        *g.entry(name.to_string()).or_insert(0) += 1;
        self.gate_cv.notify_all();
        let start = Instant::now();
        while g[name] < n && start.elapsed() < Duration::from_secs(10) {
            g = self.gate_cv.wait_timeout(g, Duration::from_millis(100)).unwrap().0;
        }
        g[name] >= n
    }
}

/// Body bytes sent before a write failed.
struct Broken(u64);

/// Writes the reply; `cut` limits the body to `(bytes, stall)`. Returns body bytes sent.
fn answer(conn: &mut TcpStream, reply: &Reply, headers: &HashMap<String, String>, cut: Option<(u64, Duration)>, keep: bool) -> Result<u64, Broken> {
    let connection = if keep { "keep-alive" } else { "close" };
    let head = |conn: &mut TcpStream, code: u16, extra: &[(String, String)], len: u64| -> Result<(), Broken> {
        let mut h = format!("HTTP/1.1 {code} X\r\nConnection: {connection}\r\nContent-Length: {len}\r\n");
        for (k, v) in extra {
            h += &format!("{k}: {v}\r\n");
        }
        conn.write_all(format!("{h}\r\n").as_bytes()).map_err(|_| Broken(0))
    };
    match reply {
        Reply::Status { code, headers: extra, body } => {
            head(conn, *code, extra, body.len() as u64)?;
            send(conn, &mut body.as_bytes(), body.len() as u64, cut)
        }
        Reply::Redirect { code, to } => head(conn, *code, &[("Location".into(), to.clone())], 0).map(|_| 0),
        Reply::RedirectWith { code, to, headers: extra } => {
            let mut extra = extra.clone();
            extra.push(("Location".into(), to.clone()));
            head(conn, *code, &extra, 0).map(|_| 0)
        }
        Reply::Slow { delay, then } => {
            thread::sleep(*delay);
            answer(conn, then, headers, cut, keep)
        }
        Reply::Cut { keep: k, stall, then } => answer(conn, then, headers, Some((*k, *stall)), keep),
        Reply::Token { token, then } => {
            if headers.get("authorization") == Some(&format!("Bearer {token}")) {
                answer(conn, then, headers, cut, keep)
            } else {
                answer(conn, &Reply::Status { code: 401, headers: vec![], body: "unauthorized".into() }, headers, cut, keep)
            }
        }
        Reply::Gate { then, .. } => answer(conn, then, headers, cut, keep),
        Reply::Tagged { etag, data } => {
            let (code, start, n, mut extra) = ranged(headers, data.len() as u64, true);
            extra.push(("ETag".into(), etag.clone()));
            head(conn, code, &extra, n)?;
            let mut body = &data[start as usize..(start + n) as usize];
            send(conn, &mut body, n, cut)
        }
        Reply::HubError { code, error_code, message } => {
            let mut extra = vec![("X-Error-Code".to_string(), error_code.clone())];
            if !message.is_empty() {
                extra.push(("X-Error-Message".to_string(), message.clone()));
            }
            let body = format!("{{\"error\":\"{message}\"}}");
            head(conn, *code, &extra, body.len() as u64)?;
            send(conn, &mut body.as_bytes(), body.len() as u64, cut)
        }
        Reply::Endless { prefix, len } => {
            head(conn, 200, &[("Content-Type".into(), "application/octet-stream".into())], *len)?;
            send(conn, &mut prefix.as_slice().chain(std::io::repeat(0)), *len, cut)
        }
        Reply::Bytes { data, content_type, ranges } => {
            let (code, start, n, extra) = ranged(headers, data.len() as u64, *ranges);
            let mut extra = extra;
            extra.push(("Content-Type".into(), content_type.clone()));
            head(conn, code, &extra, n)?;
            let mut body = &data[start as usize..(start + n) as usize];
            send(conn, &mut body, n, cut)
        }
        Reply::File { path, ranges } => {
            let mut f = std::fs::File::open(path).unwrap();
            let (code, start, n, mut extra) = ranged(headers, f.metadata().unwrap().len(), *ranges);
            extra.push(("Content-Type".into(), "application/octet-stream".into()));
            head(conn, code, &extra, n)?;
            f.seek(SeekFrom::Start(start)).unwrap();
            send(conn, &mut f, n, cut)
        }
    }
}

/// Status, body start, body length and headers for a body of `total` bytes.
fn ranged(headers: &HashMap<String, String>, total: u64, ranges: bool) -> (u16, u64, u64, Vec<(String, String)>) {
    let range = headers.get("range").filter(|_| ranges).and_then(|r| {
        let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
        Some((a.parse::<u64>().ok()?, b.parse::<u64>().unwrap_or(u64::MAX)))
    });
    match range {
        None => (200, 0, total, vec![]),
        Some((a, _)) if a >= total => (416, 0, 0, vec![("Content-Range".into(), format!("bytes */{total}"))]),
        Some((a, b)) => {
            let b = b.min(total - 1);
            (206, a, b - a + 1, vec![("Content-Range".into(), format!("bytes {a}-{b}/{total}"))])
        }
    }
}

/// Copies `n` bytes of `body` to the client in chunks, stopping at `cut`.
fn send(conn: &mut TcpStream, body: &mut dyn Read, n: u64, cut: Option<(u64, Duration)>) -> Result<u64, Broken> {
    let limit = cut.map_or(n, |(keep, _)| keep.min(n));
    let mut sent = 0u64;
    let mut chunk = vec![0u8; 64 << 10];
    while sent < limit {
        let want = chunk.len().min((limit - sent) as usize);
        let got = body.read(&mut chunk[..want]).unwrap_or(0);
        if got == 0 {
            break;
        }
        if conn.write_all(&chunk[..got]).is_err() {
            return Err(Broken(sent));
        }
        sent += got as u64;
    }
    let _ = conn.flush();
    if let Some((_, stall)) = cut {
        thread::sleep(stall);
    }
    Ok(sent)
}
