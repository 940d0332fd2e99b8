//! Hostile servers for the security tests: each binds the loopback address its caller names
//! (`"127.0.0.2:0"`; Linux routes all of 127.0.0.0/8 to `lo`), so a test can allow exactly one
//! address to the server under test and see whether anything reached the others. Every server
//! records what it saw.
//!
//! - [`Recorder`]: answers every HTTP request with one canned response, records each request
//!   and counts TCP connections, including ones that never send a request. Also the credential
//!   catcher ([`Recorder::authorization_headers`]).
//! - [`Redirector`]: a Databricks Files API host whose every file answers `302` to a target.
//! - [`EndlessDirectories`]: a Databricks Files API host with an infinitely deep tree, or
//!   ([`EndlessDirectories::wide`]) an endless flat directory.
//! - [`FakeRedis`]: a raw TCP RESP server that records every byte (did `AUTH <password>` go out?).
//!
//! Include it as `#[path = "common/hostile.rs"] mod hostile;`; each test uses a few of these.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bodies larger than this are recorded (and passed on) as empty; a test never sends more.
const BODY_LIMIT: usize = 64 * 1024 * 1024;
/// Milliseconds since the epoch, for listed files.
const LAST_MODIFIED_MS: i64 = 1_793_700_000_000;

/// One HTTP request as a server received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: Method,
    /// Path and query, as sent (`/api/2.0/fs/files/x?y=1`).
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// A header's value as text, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the HTTP servers here record: every request, and every accepted TCP connection.
#[derive(Clone, Default)]
struct Log {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    connections: Arc<AtomicUsize>,
}

impl Log {
    fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn bind_error(bind: &str, error: std::io::Error) -> ! {
    panic!("bind {bind}: {error}")
}

/// Serves `app` on `bind`, counting each connection as it is accepted (before hyper reads a
/// byte of it) and recording each request before `app` sees it.
async fn serve(bind: &str, app: axum::Router, log: &Log) -> SocketAddr {
    let listener = TcpListener::bind(bind)
        .await
        .unwrap_or_else(|e| bind_error(bind, e));
    let addr = listener.local_addr().expect("local address");
    let connections = log.connections.clone();
    let listener = listener.tap_io(move |_| {
        connections.fetch_add(1, Ordering::SeqCst);
    });
    let app = app.layer(middleware::from_fn_with_state(log.clone(), record));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    log.requests.lock().unwrap().push(RecordedRequest {
        method: parts.method.clone(),
        path_and_query,
        headers: parts.headers.clone(),
        body: body.to_vec(),
    });
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// The response a [`Recorder`] gives to every request.
#[derive(Clone, Debug)]
pub struct CannedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Default for CannedResponse {
    /// `200`, `application/json`, `{}`.
    fn default() -> Self {
        CannedResponse::json(200, json!({}))
    }
}

impl CannedResponse {
    pub fn json(status: u16, body: Value) -> Self {
        CannedResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// Adds a header (after the ones already there; repeated names are all sent).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn to_response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = StatusCode::from_u16(self.status).expect("a valid status");
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str()).expect("a valid header name");
            let value = HeaderValue::try_from(value.as_str()).expect("a valid header value");
            response.headers_mut().append(name, value);
        }
        response
    }
}

/// Answers every request, whatever its method and path, with one [`CannedResponse`].
pub struct Recorder {
    addr: SocketAddr,
    log: Log,
}

impl Recorder {
    /// Answers `200 {}`.
    pub async fn start(bind: &str) -> Recorder {
        Recorder::start_with(bind, CannedResponse::default()).await
    }

    pub async fn start_with(bind: &str, response: CannedResponse) -> Recorder {
        // A bad status or header fails here, not inside a request.
        drop(response.to_response());
        let response = Arc::new(response);
        let app = axum::Router::new().fallback(move || {
            let response = response.clone();
            async move { response.to_response() }
        });
        let log = Log::default();
        let addr = serve(bind, app, &log).await;
        Recorder { addr, log }
    }

    /// `http://<ip>:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every complete request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.requests()
    }

    /// TCP connections accepted so far, whether or not they sent a request.
    pub fn connections(&self) -> usize {
        self.log.connections()
    }

    /// The `Authorization` header of every request that carried one.
    pub fn authorization_headers(&self) -> Vec<String> {
        self.requests()
            .iter()
            .flat_map(|r| r.headers.get_all(header::AUTHORIZATION))
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
}

/// `{"contents": [...]}` entry for a file of `size` bytes in directory `dir` (`/a/b`).
fn file_entry(dir: &str, name: &str, size: u64) -> Value {
    json!({"path": format!("{dir}/{name}"), "name": name, "is_directory": false,
           "file_size": size, "last_modified": LAST_MODIFIED_MS})
}

/// The listed directory as an absolute path without a trailing slash.
fn absolute(path: &str) -> String {
    format!("/{}", path.trim_matches('/'))
}

/// A Databricks Files API host: every directory lists one file, `a.txt` (10 bytes), and every
/// file (`GET` or `HEAD`) answers `302 Found` with `Location: <target>`.
pub struct Redirector {
    addr: SocketAddr,
    log: Log,
}

impl Redirector {
    pub async fn start(bind: &str, target_url: &str) -> Redirector {
        let target = HeaderValue::try_from(target_url).expect("a valid Location");
        let app = axum::Router::new()
            .route(
                "/api/2.0/fs/directories/{*path}",
                get(|Path(path): Path<String>| async move {
                    Json(json!({"contents": [file_entry(&absolute(&path), "a.txt", 10)]}))
                }),
            )
            .route(
                "/api/2.0/fs/files/{*path}",
                // `get` answers HEAD too.
                get(move || {
                    let target = target.clone();
                    async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }
                }),
            );
        let log = Log::default();
        let addr = serve(bind, app, &log).await;
        Redirector { addr, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.requests()
    }

    pub fn connections(&self) -> usize {
        self.log.connections()
    }
}

#[derive(Clone)]
struct Endless {
    /// `None`: one subdirectory per directory, forever. `Some(n)`: `n` files per page and
    /// another page, forever.
    entries_per_page: Option<usize>,
    listings: Arc<AtomicUsize>,
}

/// A Databricks Files API host whose listings never end: every directory holds exactly one
/// subdirectory `d` ([`EndlessDirectories::start`]), or every page of every directory holds
/// `entries_per_page` new files and a `next_page_token` ([`EndlessDirectories::wide`]).
pub struct EndlessDirectories {
    addr: SocketAddr,
    state: Endless,
    log: Log,
}

impl EndlessDirectories {
    /// The infinitely deep tree.
    pub async fn start(bind: &str) -> EndlessDirectories {
        EndlessDirectories::with(bind, None).await
    }

    /// The endless flat directory. Files on page `p` are named `f<p>-<i>` (page tokens are
    /// page numbers), so no name repeats.
    pub async fn wide(bind: &str, entries_per_page: usize) -> EndlessDirectories {
        EndlessDirectories::with(bind, Some(entries_per_page)).await
    }

    async fn with(bind: &str, entries_per_page: Option<usize>) -> EndlessDirectories {
        let state = Endless {
            entries_per_page,
            listings: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/api/2.0/fs/directories/{*path}", get(endless_listing))
            .with_state(state.clone());
        let log = Log::default();
        let addr = serve(bind, app, &log).await;
        EndlessDirectories { addr, state, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Directory listing calls answered so far (each page counts).
    pub fn listings(&self) -> usize {
        self.state.listings.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.requests()
    }
}

async fn endless_listing(
    State(state): State<Endless>,
    Path(path): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    state.listings.fetch_add(1, Ordering::SeqCst);
    let dir = absolute(&path);
    let Some(per_page) = state.entries_per_page else {
        let child = json!({"path": format!("{dir}/d"), "name": "d", "is_directory": true});
        return Json(json!({"contents": [child]}));
    };
    let page: u64 = query
        .get("page_token")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let contents: Vec<Value> = (0..per_page)
        .map(|i| file_entry(&dir, &format!("f{page:09}-{i:06}"), 1))
        .collect();
    Json(json!({"contents": contents, "next_page_token": (page + 1).to_string()}))
}

#[derive(Default)]
struct RedisSeen {
    bytes: Vec<u8>,
    commands: Vec<Vec<String>>,
}

/// A raw TCP server speaking just enough RESP2 for a client to connect, authenticate and
/// list: it records every byte from every connection and answers `+OK` to anything it does not
/// know (`AUTH`, `SELECT`, `CLIENT`, `SET`), `+PONG` to `PING`, an empty last cursor to `SCAN`,
/// nil to `GET`, `0` to `EXISTS`/`STRLEN`/`DEL`, and an error to `HELLO`, as a server older than
/// Redis 6 does (so a client falls back to RESP2).
pub struct FakeRedis {
    addr: SocketAddr,
    seen: Arc<Mutex<RedisSeen>>,
    connections: Arc<AtomicUsize>,
}

impl FakeRedis {
    pub async fn start(bind: &str) -> FakeRedis {
        let listener = TcpListener::bind(bind)
            .await
            .unwrap_or_else(|e| bind_error(bind, e));
        let addr = listener.local_addr().expect("local address");
        let seen: Arc<Mutex<RedisSeen>> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let (accept_seen, accept_connections) = (seen.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of descriptors, say: wait rather than spin.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                accept_connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(redis_connection(stream, accept_seen.clone()));
            }
        });
        FakeRedis {
            addr,
            seen,
            connections,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://<ip>:<port>`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Every byte received, from all connections, in arrival order.
    pub fn received(&self) -> Vec<u8> {
        self.seen.lock().unwrap().bytes.clone()
    }

    /// Every complete command received, as its words (`["AUTH", "secret"]`).
    pub fn commands(&self) -> Vec<Vec<String>> {
        self.seen.lock().unwrap().commands.clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn redis_connection(mut stream: TcpStream, seen: Arc<Mutex<RedisSeen>>) {
    let mut pending = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        seen.lock().unwrap().bytes.extend_from_slice(&chunk[..n]);
        pending.extend_from_slice(&chunk[..n]);
        let mut replies = Vec::new();
        loop {
            match parse_command(&pending) {
                Parsed::Command(words, used) => {
                    pending.drain(..used);
                    replies.extend_from_slice(redis_reply(&words));
                    seen.lock().unwrap().commands.push(words);
                }
                Parsed::Incomplete => break,
                Parsed::Invalid => {
                    let _ = stream.write_all(b"-ERR Protocol error\r\n").await;
                    return;
                }
            }
        }
        if stream.write_all(&replies).await.is_err() {
            return;
        }
    }
}

fn redis_reply(words: &[String]) -> &'static [u8] {
    let name = words.first().map(|w| w.to_ascii_uppercase());
    match name.as_deref() {
        Some("PING") => b"+PONG\r\n",
        Some("SCAN") => b"*2\r\n$1\r\n0\r\n*0\r\n",
        Some("GET") => b"$-1\r\n",
        Some("EXISTS" | "STRLEN" | "DEL") => b":0\r\n",
        Some("HELLO") => b"-ERR unknown command 'HELLO'\r\n",
        _ => b"+OK\r\n",
    }
}

enum Parsed {
    /// The command's words and the bytes it took.
    Command(Vec<String>, usize),
    Incomplete,
    Invalid,
}

/// One command from the front of `buf`: a RESP array of bulk strings, or an inline command
/// (`PING\r\n`).
fn parse_command(buf: &[u8]) -> Parsed {
    let Some((first, mut at)) = line(buf, 0) else {
        return Parsed::Incomplete;
    };
    let Some(count) = first.strip_prefix(b"*") else {
        let words = String::from_utf8_lossy(first)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        return Parsed::Command(words, at);
    };
    let Some(count) = number(count) else {
        return Parsed::Invalid;
    };
    let mut words = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let Some((header, after)) = line(buf, at) else {
            return Parsed::Incomplete;
        };
        let Some(len) = header.strip_prefix(b"$").and_then(number) else {
            return Parsed::Invalid;
        };
        let end = after + len;
        if buf.len() < end + 2 {
            return Parsed::Incomplete;
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Parsed::Invalid;
        }
        words.push(String::from_utf8_lossy(&buf[after..end]).into_owned());
        at = end + 2;
    }
    Parsed::Command(words, at)
}

/// The line starting at `from` without its `\r\n`, and where the next one starts.
fn line(buf: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(from..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], from + end + 2))
}

fn number(digits: &[u8]) -> Option<usize> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}
