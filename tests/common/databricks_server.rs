//! A Databricks Files API server for the tests: no emulator serves the Files API with Range and
//! paginated listings, so this implements the documented contract over real HTTP, in memory:
//! `GET /api/2.0/fs/directories/<path>` (pages of at most 2 entries with `next_page_token`,
//! entries in reverse order so clients cannot rely on the server's order), `GET`/`HEAD`
//! `/api/2.0/fs/files/<path>` with `Range` (206, 416), `PUT …?overwrite=true` (409 without it
//! when the file exists), `DELETE` (404 when missing), and a bearer-token check (401) on every
//! call. What only real Databricks can check: Unity Catalog grants, token scopes, TLS.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// Entries per listing page, whatever the client asks.
const PAGE: usize = 2;
const LAST_MODIFIED: &str = "Tue, 03 Nov 2026 10:00:00 GMT";

#[derive(Clone)]
struct Volume {
    token: String,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
}

pub struct FilesApi {
    pub url: String,
}

impl FilesApi {
    pub async fn start(token: &str) -> FilesApi {
        let volume = Volume {
            token: token.to_owned(),
            files: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/api/2.0/fs/directories/{*path}", get(list))
            .route(
                "/api/2.0/fs/files/{*path}",
                get(read).put(write).delete(remove),
            )
            .with_state(volume);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FilesApi { url }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error_code": code, "message": message})),
    )
        .into_response()
}

fn authorized(volume: &Volume, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", volume.token);
    let given = headers.get(header::AUTHORIZATION);
    given.and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn unauthenticated() -> Response {
    let message = "Invalid access token.";
    error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
}

async fn list(
    State(volume): State<Volume>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&volume, &headers) {
        return unauthenticated();
    }
    let dir = format!("/{}/", path.trim_matches('/'));
    let files = volume.files.lock().unwrap();
    let mut entries: BTreeSet<(String, bool, u64)> = BTreeSet::new();
    for (file, body) in files
        .range(dir.clone()..)
        .take_while(|(f, _)| f.starts_with(&dir))
    {
        let rest = &file[dir.len()..];
        match rest.split_once('/') {
            Some((subdir, _)) => entries.insert((subdir.to_owned(), true, 0)),
            None => entries.insert((rest.to_owned(), false, body.len() as u64)),
        };
    }
    if entries.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The directory does not exist.",
        );
    }
    let asked = query
        .get("page_size")
        .and_then(|p| p.parse().ok())
        .unwrap_or(PAGE);
    let offset: usize = query
        .get("page_token")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let page: Vec<_> = entries
        .iter()
        .rev()
        .skip(offset)
        .take(asked.min(PAGE))
        .collect();
    let contents: Vec<_> = page
        .iter()
        .map(|(name, is_directory, size)| {
            let mut entry =
                json!({"path": format!("{dir}{name}"), "name": name, "is_directory": is_directory});
            if !is_directory {
                entry["file_size"] = json!(size);
                entry["last_modified"] = json!(1_793_700_000_000_i64);
            }
            entry
        })
        .collect();
    let end = offset + page.len();
    let mut body = json!({"contents": contents});
    if end < entries.len() {
        body["next_page_token"] = json!(end.to_string());
    }
    Json(body).into_response()
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` to a half-open range of a `size`-byte file.
fn parse_range(value: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = value.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    if start.is_empty() {
        let n: u64 = end.parse().ok()?;
        return Some(size.saturating_sub(n)..size);
    }
    let start: u64 = start.parse().ok()?;
    let end = if end.is_empty() {
        size
    } else {
        end.parse::<u64>().ok()?.saturating_add(1).min(size)
    };
    Some(start..end)
}

async fn read(
    State(volume): State<Volume>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&volume, &headers) {
        return unauthenticated();
    }
    let files = volume.files.lock().unwrap();
    let Some(body) = files.get(&format!("/{path}")) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The file does not exist.",
        );
    };
    let size = body.len() as u64;
    let common = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (header::LAST_MODIFIED, LAST_MODIFIED.to_owned()),
    ];
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let Some(range) = range else {
        return (common, body.clone()).into_response();
    };
    match parse_range(range, size) {
        Some(r) if r.start < size && r.start < r.end => {
            let content_range = format!("bytes {}-{}/{size}", r.start, r.end - 1);
            let part = body[r.start as usize..r.end as usize].to_vec();
            let headers = [(header::CONTENT_RANGE, content_range)];
            (StatusCode::PARTIAL_CONTENT, common, headers, part).into_response()
        }
        _ => error(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "INVALID_PARAMETER_VALUE",
            "Range not satisfiable.",
        ),
    }
}

async fn write(
    State(volume): State<Volume>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&volume, &headers) {
        return unauthenticated();
    }
    let overwrite = query.get("overwrite").is_some_and(|v| v == "true");
    let mut files = volume.files.lock().unwrap();
    let path = format!("/{path}");
    if files.contains_key(&path) && !overwrite {
        return error(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "The file already exists.",
        );
    }
    files.insert(path, body.to_vec());
    StatusCode::NO_CONTENT.into_response()
}

async fn remove(
    State(volume): State<Volume>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&volume, &headers) {
        return unauthenticated();
    }
    match volume.files.lock().unwrap().remove(&format!("/{path}")) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The file does not exist.",
        ),
    }
}
