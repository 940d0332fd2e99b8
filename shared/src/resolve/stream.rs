//! A backend object as an HTTP response: ranges (206 + `Content-Range`), 416 past the end,
//! validators (`ETag`, `Last-Modified`, 304 on `If-None-Match`), and the body streamed.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

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
}

/// Streams `key` from `backend` as the request's headers ask.
pub async fn object_response(
    backend: &dyn ObjectStore,
    key: &str,
    request: &HeaderMap,
    options: &StreamOptions<'_>,
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
        Ok(got) => got,
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
