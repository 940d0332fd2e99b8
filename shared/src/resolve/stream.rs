//! A backend object as an HTTP response: ranges (206 + `Content-Range`), 416 past the end,
//! validators (`ETag`, `Last-Modified`, 304 on `If-None-Match`), and the body streamed, within
//! a deadline when the caller sets one (the resolver's `RESOLVER_PROXY_TIMEOUT`).

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use tokio::time::Instant;

use super::range::requested_range;
use crate::backends::{BackendError, GetResult, ObjectMeta, ObjectStore};

/// How to answer for one object.
pub struct StreamOptions<'a> {
    /// Longest range one response carries; `None` for no limit.
    pub max_range: Option<u64>,
    pub cache_control: &'a str,
    /// The `ETag` header value for an object (quoted, maybe weak).
    pub etag: &'a (dyn Fn(&ObjectMeta) -> Option<String> + Sync),
    /// Answer 304 only for requests without `Range` (the resolver) or for all (local files).
    pub not_modified_with_range: bool,
    /// The longest the whole read may take, from the call to the body's last byte: a stalled
    /// upstream then fails the call, or aborts the body already under way (the client sees a
    /// response cut short, never a hang). `None`: no limit (local files).
    pub timeout: Option<Duration>,
}

/// Streams `key` from `backend` as the request's headers ask.
pub async fn object_response(
    backend: &dyn ObjectStore,
    key: &str,
    request: &HeaderMap,
    options: &StreamOptions<'_>,
) -> Result<Response, BackendError> {
    let Some(timeout) = options.timeout else {
        return respond(backend, key, request, options, None).await;
    };
    let deadline = Instant::now() + timeout;
    // Without a deadline a storage that stops sending holds the response (and a Lambda) open.
    tokio::time::timeout_at(
        deadline,
        respond(backend, key, request, options, Some(deadline)),
    )
    .await
    .unwrap_or_else(|_| Err(timed_out(key, timeout)))
}

async fn respond(
    backend: &dyn ObjectStore,
    key: &str,
    request: &HeaderMap,
    options: &StreamOptions<'_>,
    deadline: Option<Instant>,
) -> Result<Response, BackendError> {
    let range_header = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match range_header {
        // Suffix ranges need the size first.
        Some(h) if h.trim_start_matches("bytes=").trim_start().starts_with('-') => {
            let size = backend.head(key).await?.size;
            requested_range(Some(h), size, options.max_range)
        }
        other => requested_range(other, u64::MAX, options.max_range),
    };
    let got = match backend.get(key, range).await {
        Ok(got) => match (deadline, options.timeout) {
            (Some(deadline), Some(timeout)) => until(got, deadline, key, timeout),
            _ => got,
        },
        Err(BackendError::InvalidRange { size, .. }) => return Ok(unsatisfiable(size)),
        Err(e) => return Err(e),
    };
    let etag = (options.etag)(&got.meta);
    let may_304 = range.is_none() || options.not_modified_with_range;
    if may_304 && etag.as_deref().is_some_and(|e| if_none_match(request, e)) {
        return Ok(not_modified(etag.as_deref()));
    }
    Ok(streamed(
        got,
        range.is_some(),
        etag,
        key,
        options.cache_control,
    ))
}

/// The body of `got`, failing at `deadline` if it has not ended by then.
fn until(mut got: GetResult, deadline: Instant, key: &str, timeout: Duration) -> GetResult {
    let key = key.to_owned();
    let sleep = Box::pin(tokio::time::sleep_until(deadline));
    let body = futures::stream::unfold(
        (got.body, sleep, false),
        move |(mut body, mut sleep, ended)| {
            let key = key.clone();
            async move {
                if ended {
                    return None;
                }
                tokio::select! {
                    item = body.next() => item.map(|item| (item, (body, sleep, false))),
                    () = &mut sleep => Some((Err(timed_out(&key, timeout)), (body, sleep, true))),
                }
            }
        },
    );
    got.body = Box::pin(body);
    got
}

fn timed_out(key: &str, timeout: Duration) -> BackendError {
    BackendError::Io {
        operation: "proxied read",
        key: key.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "the storage did not finish within RESOLVER_PROXY_TIMEOUT ({} s)",
                timeout.as_secs()
            ),
        ),
    }
}

fn if_none_match(request: &HeaderMap, etag: &str) -> bool {
    let Some(value) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let bare = etag.trim_start_matches("W/");
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == bare)
}

fn streamed(
    got: GetResult,
    ranged: bool,
    etag: Option<String>,
    key: &str,
    cache_control: &str,
) -> Response {
    let size = got.meta.size;
    let served = got.range.clone();
    let mut response = Response::new(Body::from_stream(got.body));
    if ranged {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let last = served.end.saturating_sub(1).max(served.start);
        put(
            response.headers_mut(),
            header::CONTENT_RANGE,
            &format!("bytes {}-{}/{}", served.start, last, size),
        );
    }
    let headers = response.headers_mut();
    put(
        headers,
        header::CONTENT_LENGTH,
        &(served.end - served.start).to_string(),
    );
    put(headers, header::ACCEPT_RANGES, "bytes");
    put(headers, header::CONTENT_TYPE, &content_type(key));
    put(headers, header::CACHE_CONTROL, cache_control);
    if let Some(etag) = etag {
        put(headers, header::ETAG, &etag);
    }
    if let Some(modified) = got.meta.last_modified {
        put(
            headers,
            header::LAST_MODIFIED,
            &httpdate::fmt_http_date(modified.into()),
        );
    }
    response
}

/// The media type of a key from its extension, `application/octet-stream` when unknown.
pub fn content_type(key: &str) -> String {
    mime_guess::from_path(key)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

fn not_modified(etag: Option<&str>) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    if let Some(etag) = etag {
        put(response.headers_mut(), header::ETAG, etag);
    }
    response
}

fn unsatisfiable(size: u64) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
    put(
        response.headers_mut(),
        header::CONTENT_RANGE,
        &format!("bytes */{size}"),
    );
    response
}

fn put(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}
