//! An S3-compatible listing stand-in with a network-like delay, for the listing bench: moto
//! spends ~0.4 s of its own CPU on a 1,000-key page, which hides what parallel listing would
//! gain; real S3 answers a page in tens of milliseconds and serves many at once. This answers
//! path-style `ListObjectsV2` (`GET /<bucket>?list-type=2` with `prefix`, `delimiter`,
//! `continuation-token`, `start-after`, `max-keys`) for [`SyntheticBucket`]s after a fixed
//! delay (`BENCH_LIST_LATENCY_MS`, 100 by default), each request on its own task with no lock
//! held, and `HeadObject`/`GetObject` (whole bodies of 512–1023 `x`s, no `Range`, no delay).
//! Every request is counted by kind. Not served: `encoding-type` (501), writes, ListObjects v1,
//! signatures (any credentials are accepted).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::listing_xml;
use crate::synthetic_bucket::{ListQuery, Resume, SyntheticBucket};

/// The date every synthetic object was last modified, as a header.
pub const LAST_MODIFIED_HTTP: &str = "Sun, 01 Nov 2026 00:00:00 GMT";

/// What the stand-in served since it started or since [`ListingServer::reset_counts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Served {
    pub list: u64,
    pub head: u64,
    pub get: u64,
    /// Anything else (HeadBucket, refused requests).
    pub other: u64,
    /// The most list requests in progress at one time.
    pub peak_concurrent_lists: u64,
}

#[derive(Default)]
struct Counters {
    list: AtomicU64,
    head: AtomicU64,
    get: AtomicU64,
    other: AtomicU64,
    lists_in_flight: AtomicU64,
    peak_lists: AtomicU64,
}

/// Counts one list request in flight while it lives.
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn enter(counters: &'a Counters) -> InFlight<'a> {
        counters.list.fetch_add(1, Ordering::Relaxed);
        let now = counters.lists_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters.peak_lists.fetch_max(now, Ordering::Relaxed);
        InFlight(counters)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lists_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Shared {
    buckets: HashMap<String, SyntheticBucket>,
    latency: Duration,
    counters: Counters,
}

/// A running stand-in; it serves until the runtime that started it ends.
pub struct ListingServer {
    /// `http://127.0.0.1:<port>`, for `s3_endpoint` and the SDK's `endpoint_url`.
    pub endpoint: String,
    shared: Arc<Shared>,
}

/// `BENCH_LIST_LATENCY_MS`, else 100 ms.
pub fn latency_from_env() -> Duration {
    let text = std::env::var("BENCH_LIST_LATENCY_MS").unwrap_or_else(|_| "100".into());
    let millis = text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("BENCH_LIST_LATENCY_MS={text:?} is not a whole number"));
    Duration::from_millis(millis)
}

impl ListingServer {
    /// Serves `buckets` on a free loopback port, each list page after `latency`.
    pub async fn start(buckets: Vec<SyntheticBucket>, latency: Duration) -> ListingServer {
        let shared = Arc::new(Shared {
            buckets: buckets.into_iter().map(|b| (b.name.clone(), b)).collect(),
            latency,
            counters: Counters::default(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        ListingServer { endpoint, shared }
    }

    /// An SDK client on the stand-in: path-style, `us-east-1`, any credentials.
    pub fn sdk_client(&self) -> aws_sdk_s3::Client {
        let credentials =
            aws_credential_types::Credentials::new("test", "test", None, None, "stand-in");
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(credentials);
        aws_sdk_s3::Client::from_conf(config.build())
    }

    pub fn served(&self) -> Served {
        let c = &self.shared.counters;
        Served {
            list: c.list.load(Ordering::Relaxed),
            head: c.head.load(Ordering::Relaxed),
            get: c.get.load(Ordering::Relaxed),
            other: c.other.load(Ordering::Relaxed),
            peak_concurrent_lists: c.peak_lists.load(Ordering::Relaxed),
        }
    }

    pub fn reset_counts(&self) {
        let c = &self.shared.counters;
        for counter in [&c.list, &c.head, &c.get, &c.other] {
            counter.store(0, Ordering::Relaxed);
        }
        let in_flight = c.lists_in_flight.load(Ordering::Relaxed);
        c.peak_lists.store(in_flight, Ordering::Relaxed);
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
    let (name, key) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path.trim_start_matches('/'), ""));
    let counters = &shared.counters;
    let Some(bucket) = shared.buckets.get(name) else {
        counters.other.fetch_add(1, Ordering::Relaxed);
        return error(StatusCode::NOT_FOUND, "NoSuchBucket", name);
    };
    match (method, key) {
        (Method::GET, "") if query.get("list-type").map(String::as_str) == Some("2") => {
            let _in_flight = InFlight::enter(counters);
            tokio::time::sleep(shared.latency).await;
            list(bucket, &query)
        }
        (Method::HEAD, "") => {
            counters.other.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK.into_response()
        }
        (method @ (Method::GET | Method::HEAD), key) if !key.is_empty() => {
            let counter = if method == Method::GET {
                &counters.get
            } else {
                &counters.head
            };
            counter.fetch_add(1, Ordering::Relaxed);
            object(bucket, key)
        }
        (method, _) => {
            counters.other.fetch_add(1, Ordering::Relaxed);
            let what = format!("{method} {uri}");
            error(StatusCode::NOT_IMPLEMENTED, "NotImplemented", &what)
        }
    }
}

fn list(bucket: &SyntheticBucket, query: &HashMap<String, String>) -> Response {
    if query.contains_key("encoding-type") {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "encoding-type",
        );
    }
    let decoded = match decode(query) {
        Ok(decoded) => decoded,
        Err(what) => return error(StatusCode::BAD_REQUEST, "InvalidArgument", &what),
    };
    let listing = bucket.list(&decoded);
    let next = listing.next.as_ref().map(token);
    let body = listing_xml::list_result(bucket, query, &decoded, &listing, next.as_deref());
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// The query's parameters; the continuation token wins over `start-after`.
fn decode(query: &HashMap<String, String>) -> Result<ListQuery, String> {
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
    let max_keys = match query.get("max-keys") {
        None => 1000,
        Some(n) => n.parse::<usize>().map_err(|_| format!("max-keys={n}"))?,
    };
    let resume = match (query.get("continuation-token"), query.get("start-after")) {
        (Some(t), _) => untoken(t).ok_or_else(|| format!("continuation-token={t}"))?,
        (None, Some(after)) if !after.is_empty() => Resume::AfterKey(after.clone()),
        (None, _) => Resume::Start,
    };
    Ok(ListQuery {
        prefix: text("prefix"),
        delimiter: query.get("delimiter").cloned(),
        resume,
        max_keys: max_keys.min(1000),
    })
}

/// An opaque continuation token for `resume`.
fn token(resume: &Resume) -> String {
    let plain = match resume {
        Resume::Start => String::new(),
        Resume::AfterKey(key) => format!("k{key}"),
        Resume::AfterPrefix(folded) => format!("p{folded}"),
    };
    URL_SAFE_NO_PAD.encode(plain)
}

fn untoken(token: &str) -> Option<Resume> {
    let plain = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    match plain.split_at_checked(1)? {
        ("k", key) => Some(Resume::AfterKey(key.to_owned())),
        ("p", folded) => Some(Resume::AfterPrefix(folded.to_owned())),
        _ => None,
    }
}

/// HeadObject or GetObject (hyper leaves the body out of a HEAD answer).
fn object(bucket: &SyntheticBucket, key: &str) -> Response {
    let Some(i) = bucket.index_of(key) else {
        return error(StatusCode::NOT_FOUND, "NoSuchKey", key);
    };
    let headers = [
        (header::CONTENT_TYPE, "image/jpeg".to_owned()),
        (header::ETAG, bucket.etag(i)),
        (header::LAST_MODIFIED, LAST_MODIFIED_HTTP.to_owned()),
    ];
    (headers, vec![b'x'; bucket.size(i) as usize]).into_response()
}

fn error(status: StatusCode, code: &str, resource: &str) -> Response {
    let body = listing_xml::error(code, resource);
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}
